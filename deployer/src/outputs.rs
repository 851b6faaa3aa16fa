//! Terraform outputs: the values the foundation (infrastructure/) hands to
//! each stage's stack.
//!
//! `REQUIRED` is the one list of outputs the deployer needs (docs/contract.md,
//! "Terraform outputs the deployer reads"); every check and message comes
//! from it. The outputs come either from `terraform -chdir=<dir> output
//! -json` or from a file of the same format, which is what CI passes between
//! pipeline steps (`DEPLOYER_OUTPUTS_FILE`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, OutputsError, Result};
use crate::stage::Stage;

/// The JSON type an output's `value` must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Terraform `string`.
    String,
    /// Terraform `map(string)`, keyed by stage name.
    StringMapByStage,
}

/// One output the deployer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequiredOutput {
    /// The output's name in infrastructure/outputs.tf.
    pub name: &'static str,
    /// The type its value must have.
    pub kind: OutputKind,
    /// Why the deployer needs it.
    pub used_for: &'static str,
}

/// Every Terraform output the deployer needs. infrastructure/outputs.tf must declare each one.
pub const REQUIRED: &[RequiredOutput] = &[
    RequiredOutput {
        name: "artifact_bucket",
        kind: OutputKind::String,
        used_for: "where packaged functions are uploaded; the stack's functions load their code from it",
    },
    RequiredOutput {
        name: "alarm_topic_arn",
        kind: OutputKind::String,
        used_for: "alarm actions in the stack",
    },
    RequiredOutput {
        name: "cloudformation_execution_role_arns",
        kind: OutputKind::StringMapByStage,
        used_for: "the role CloudFormation assumes for countries-<stage>",
    },
    RequiredOutput {
        name: "pipeline_name",
        kind: OutputKind::String,
        used_for: "`deployer status` and `promote`",
    },
];

/// The artifact bucket of the local stage (created in the emulator by `deployer up local`).
pub const LOCAL_ARTIFACT_BUCKET: &str = "countries-artifacts-local";

/// The environment variable that replaces every cloud stage's outputs source with one file.
pub const OUTPUTS_FILE_ENV: &str = "DEPLOYER_OUTPUTS_FILE";

/// One stage's outputs, checked and typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outputs {
    /// Bucket holding `functions/<name>/<sha256>.zip`.
    pub artifact_bucket: String,
    /// SNS topic for alarms; none for the local stage.
    pub alarm_topic_arn: Option<String>,
    /// The role CloudFormation assumes for this stage's stack; none locally.
    pub cloudformation_execution_role_arn: Option<String>,
    /// The CodePipeline that deploys the stages; none locally.
    pub pipeline_name: Option<String>,
    /// Where the values came from, for messages (not given to templates: it varies by machine).
    #[serde(skip)]
    pub source: String,
}

/// The built-in values of a local stage (it has no Terraform).
pub fn local() -> Outputs {
    Outputs {
        artifact_bucket: LOCAL_ARTIFACT_BUCKET.to_string(),
        alarm_topic_arn: None,
        cloudformation_execution_role_arn: None,
        pipeline_name: None,
        source: "built-in values of the local stage".to_string(),
    }
}

/// Where one stage's outputs come from, after the override is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The local stage's built-in values.
    BuiltIn,
    /// A saved `terraform output -json` (path relative to the repository root, or absolute).
    File(PathBuf),
    /// `terraform -chdir=<dir> output -json`.
    Terraform(PathBuf),
}

/// Decides the source for a stage: the override file if given (cloud stages only), else the stage file's.
pub fn source_for(stage: &Stage, override_file: Option<&Path>) -> Source {
    let Some(src) = &stage.spec.terraform_outputs else {
        return Source::BuiltIn;
    };
    if let Some(file) = override_file {
        return Source::File(file.to_path_buf());
    }
    match (&src.file, &src.chdir) {
        (Some(file), _) => Source::File(PathBuf::from(file)),
        (None, Some(dir)) => Source::Terraform(PathBuf::from(dir)),
        (None, None) => Source::BuiltIn, // rejected by validation before we get here
    }
}

/// Where a stage's outputs come from, in words (for messages).
pub fn source_desc(stage: &Stage, override_file: Option<&Path>) -> String {
    match source_for(stage, override_file) {
        Source::BuiltIn => "built-in values of the local stage".into(),
        Source::File(f) => f.display().to_string(),
        Source::Terraform(dir) => format!("`terraform -chdir={} output -json`", dir.display()),
    }
}

/// Reads a stage's outputs from its source (the file system or terraform).
pub fn read(root: &Path, stage: &Stage, override_file: Option<&Path>) -> Result<Outputs> {
    match read_text(root, stage, override_file)? {
        None => Ok(local()),
        Some((shown, text)) => parse(stage, &shown, &text),
    }
}

/// The raw `terraform output -json` text of a stage and where it came from
/// (for messages); none for a local stage's built-in values.
pub fn read_text(
    root: &Path,
    stage: &Stage,
    override_file: Option<&Path>,
) -> Result<Option<(String, String)>> {
    match source_for(stage, override_file) {
        Source::BuiltIn => Ok(None),
        Source::File(file) => {
            let shown = file.display().to_string();
            let text = std::fs::read_to_string(root.join(&file)).map_err(|e| {
                Error::from(OutputsError::OutputsUnreadable {
                    stage: stage.name.clone(),
                    source_desc: shown.clone(),
                    detail: e.to_string(),
                })
            })?;
            Ok(Some((shown, text)))
        }
        Source::Terraform(dir) => {
            let shown = format!("`terraform -chdir={} output -json`", dir.display());
            let output = Command::new("terraform")
                .arg(format!("-chdir={}", root.join(&dir).display()))
                .args(["output", "-json"])
                .output()
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Error::from(OutputsError::TerraformMissing {
                        stage: stage.name.clone(),
                        dir: dir.clone(),
                    }),
                    _ => Error::from(OutputsError::OutputsUnreadable {
                        stage: stage.name.clone(),
                        source_desc: shown.clone(),
                        detail: e.to_string(),
                    }),
                })?;
            if !output.status.success() {
                return Err(OutputsError::OutputsUnreadable {
                    stage: stage.name.clone(),
                    source_desc: shown,
                    detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
                }
                .into());
            }
            Ok(Some((
                shown,
                String::from_utf8_lossy(&output.stdout).into_owned(),
            )))
        }
    }
}

/// One required output as `deployer outputs` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputRow {
    /// The output's name.
    pub name: &'static str,
    /// `string` or `map(string)`.
    pub kind: &'static str,
    /// Its value for the stage (a map's entry for the stage).
    pub value: Option<String>,
    /// What is wrong with it: missing, wrong type, no entry for the stage.
    pub problem: Option<String>,
    /// Why the deployer needs it.
    pub used_for: &'static str,
}

/// Every required output of one stage from `terraform output -json` text, with what is
/// wrong with each (unlike `parse`, it does not stop at the first problem). Pure.
pub fn inspect(stage: &Stage, text: &str) -> std::result::Result<Vec<OutputRow>, String> {
    let root: Value = serde_json::from_str(text)
        .map_err(|e| format!("not `terraform output -json` JSON: {e}"))?;
    let all = root
        .as_object()
        .ok_or("expected a JSON object of outputs")?;
    Ok(REQUIRED
        .iter()
        .map(|r| {
            let (value, problem) = match all.get(r.name).map(|e| e.get("value")) {
                None => (None, Some("missing".to_string())),
                Some(None) => (None, Some("has no `value`".to_string())),
                Some(Some(v)) => match r.kind {
                    OutputKind::String => match v.as_str().filter(|s| !s.is_empty()) {
                        Some(s) => (Some(s.to_string()), None),
                        None => (
                            None,
                            Some(format!("must be a non-empty string, found {}", kind_of(v))),
                        ),
                    },
                    OutputKind::StringMapByStage => match v.as_object() {
                        None => (
                            None,
                            Some(format!(
                                "must be a map(string) by stage, found {}",
                                kind_of(v)
                            )),
                        ),
                        Some(m) => match m.get(&stage.name).and_then(Value::as_str) {
                            Some(s) => (Some(s.to_string()), None),
                            None => (
                                None,
                                Some(format!("has no entry for stage `{}`", stage.name)),
                            ),
                        },
                    },
                },
            };
            OutputRow {
                name: r.name,
                kind: match r.kind {
                    OutputKind::String => "string",
                    OutputKind::StringMapByStage => "map(string)",
                },
                value,
                problem,
                used_for: r.used_for,
            }
        })
        .collect())
}

/// Checks `terraform output -json` text against `REQUIRED` for one stage. Pure.
pub fn parse(stage: &Stage, source_desc: &str, text: &str) -> Result<Outputs> {
    let invalid = |name: &str, problem: String| {
        Error::from(OutputsError::OutputInvalid {
            stage: stage.name.clone(),
            name: name.to_string(),
            source_desc: source_desc.to_string(),
            problem,
        })
    };
    let root: Value = serde_json::from_str(text).map_err(|e| {
        Error::from(OutputsError::OutputsUnreadable {
            stage: stage.name.clone(),
            source_desc: source_desc.to_string(),
            detail: format!("not `terraform output -json` JSON: {e}"),
        })
    })?;
    let Some(all) = root.as_object() else {
        return Err(OutputsError::OutputsUnreadable {
            stage: stage.name.clone(),
            source_desc: source_desc.to_string(),
            detail: "expected a JSON object of outputs".into(),
        }
        .into());
    };

    let mut strings = std::collections::BTreeMap::new();
    for required in REQUIRED {
        let entry = all.get(required.name).ok_or_else(|| {
            Error::from(OutputsError::OutputMissing {
                stage: stage.name.clone(),
                name: required.name.to_string(),
                source_desc: source_desc.to_string(),
            })
        })?;
        let value = entry.get("value").ok_or_else(|| {
            invalid(
                required.name,
                "has no `value` (expected the `terraform output -json` format)".into(),
            )
        })?;
        let text = match required.kind {
            OutputKind::String => value
                .as_str()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    invalid(
                        required.name,
                        format!("must be a non-empty string, found {}", kind_of(value)),
                    )
                })?
                .to_string(),
            OutputKind::StringMapByStage => {
                let map = value.as_object().ok_or_else(|| {
                    invalid(
                        required.name,
                        format!("must be a map(string) by stage, found {}", kind_of(value)),
                    )
                })?;
                if let Some((k, v)) = map.iter().find(|(_, v)| !v.is_string()) {
                    return Err(invalid(
                        required.name,
                        format!("must be a map(string), but `{k}` is {}", kind_of(v)),
                    ));
                }
                map.get(&stage.name)
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        invalid(
                            required.name,
                            format!("has no entry for stage `{}`", stage.name),
                        )
                    })?
                    .to_string()
            }
        };
        strings.insert(required.name, text);
    }

    let mut take = |name: &str| strings.remove(name).unwrap_or_default();
    let outputs = Outputs {
        artifact_bucket: take("artifact_bucket"),
        alarm_topic_arn: Some(take("alarm_topic_arn")),
        cloudformation_execution_role_arn: Some(take("cloudformation_execution_role_arns")),
        pipeline_name: Some(take("pipeline_name")),
        source: source_desc.to_string(),
    };
    check_arn(stage, outputs.alarm_topic_arn.as_deref(), true)
        .map_err(|p| invalid("alarm_topic_arn", p))?;
    check_arn(
        stage,
        outputs.cloudformation_execution_role_arn.as_deref(),
        false,
    )
    .map_err(|p| invalid("cloudformation_execution_role_arns", p))?;
    Ok(outputs)
}

/// An ARN must be in the stage's account (and region, for regional resources),
/// or the stack would point at something it cannot use.
fn check_arn(stage: &Stage, arn: Option<&str>, regional: bool) -> std::result::Result<(), String> {
    let Some(arn) = arn else { return Ok(()) };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(format!("is `{arn}`, which is not an ARN"));
    }
    if parts[4] != stage.spec.account {
        return Err(format!(
            "is in account {} but stage {} runs in account {}",
            parts[4], stage.name, stage.spec.account
        ));
    }
    if regional && parts[3] != stage.spec.region {
        return Err(format!(
            "is in region {} but stage {} runs in {}",
            parts[3], stage.name, stage.spec.region
        ));
    }
    Ok(())
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::load::parse as parse_stage;

    fn stage(name: &str) -> Stage {
        let text = "account: '111111111111'
region: us-east-1
terraform_outputs: {file: o.json}
app:
  architecture: arm64
  log_level: info
  api: {memory_mb: 256, timeout_seconds: 10}
  worker: {memory_mb: 256, timeout_seconds: 30}
  upstream: {provider: v3, base_url: 'http://x'}
";
        let file = PathBuf::from(format!("stages/{name}.yaml"));
        let spec = parse_stage(&file, text).expect("parses");
        Stage {
            name: name.into(),
            file,
            text: text.into(),
            spec,
        }
    }

    fn json(overrides: &[(&str, Value)]) -> String {
        let mut v = serde_json::json!({
            "artifact_bucket": {"value": "countries-artifacts-111111111111", "type": "string", "sensitive": false},
            "alarm_topic_arn": {"value": "arn:aws:sns:us-east-1:111111111111:countries-alarms", "type": "string", "sensitive": false},
            "cloudformation_execution_role_arns": {"value": {"dev": "arn:aws:iam::111111111111:role/countries-cfn-dev"}, "type": ["map", "string"], "sensitive": false},
            "pipeline_name": {"value": "countries", "type": "string", "sensitive": false},
        });
        for (k, val) in overrides {
            if val.is_null() {
                v.as_object_mut().unwrap().remove(*k);
            } else {
                v[*k] = serde_json::json!({"value": val});
            }
        }
        v.to_string()
    }

    #[test]
    fn reads_all_required_outputs() {
        let o = parse(&stage("dev"), "f.json", &json(&[])).expect("valid");
        assert_eq!(o.artifact_bucket, "countries-artifacts-111111111111");
        assert_eq!(
            o.cloudformation_execution_role_arn.as_deref(),
            Some("arn:aws:iam::111111111111:role/countries-cfn-dev")
        );
    }

    #[test]
    fn missing_output_names_it_and_the_stage() {
        let err = parse(
            &stage("dev"),
            "f.json",
            &json(&[("pipeline_name", Value::Null)]),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`pipeline_name`") && msg.contains("stage dev") && msg.contains("f.json"),
            "{msg}"
        );
    }

    #[test]
    fn wrongly_typed_output_names_it() {
        let err = parse(
            &stage("dev"),
            "f.json",
            &json(&[("artifact_bucket", serde_json::json!(3))]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`artifact_bucket`") && err.to_string().contains("a number"),
            "{err}"
        );
    }

    #[test]
    fn inspect_lists_every_problem() {
        let text = json(&[
            ("pipeline_name", Value::Null),
            ("alarm_topic_arn", serde_json::json!(3)),
        ]);
        let rows = inspect(&stage("dev"), &text).unwrap();
        let problems: Vec<_> = rows
            .iter()
            .filter_map(|r| r.problem.as_deref().map(|p| (r.name, p)))
            .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.contains(&("pipeline_name", "missing")));
        let staging = inspect(&stage("staging"), &json(&[])).unwrap();
        assert!(
            staging
                .iter()
                .any(|r| r.problem.as_deref() == Some("has no entry for stage `staging`"))
        );
        assert!(inspect(&stage("dev"), "[").is_err());
    }

    #[test]
    fn role_map_needs_this_stage() {
        let err = parse(&stage("staging"), "f.json", &json(&[])).unwrap_err();
        assert!(
            err.to_string().contains("no entry for stage `staging`"),
            "{err}"
        );
    }

    #[test]
    fn arns_must_be_in_the_stage_account() {
        let other = serde_json::json!("arn:aws:sns:us-east-1:999999999999:t");
        let err = parse(
            &stage("dev"),
            "f.json",
            &json(&[("alarm_topic_arn", other)]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("account 999999999999"), "{err}");
    }
}
