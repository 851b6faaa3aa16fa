//! Checking `terraform output -json` text against `REQUIRED`, once: `check`
//! finds every problem of every required output, `inspect` shows them (for
//! `deployer outputs`), and `parse` turns the first into an error (for
//! everything else), so the two can never disagree. Pure.

use serde::Serialize;
use serde_json::Value;

pub use super::problem::Problem;
use super::problem::kind_of;
use super::required::{OutputKind, Outputs, REQUIRED};
use super::stage_account;
use super::usable::{check_arn, check_bucket};
use crate::error::{Error, OutputsError, Result};
use crate::stage::Stage;

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

/// One required output, checked: its value for the stage, or its problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Which output.
    pub required: &'static super::required::RequiredOutput,
    /// Its value for the stage, when it has no problem.
    pub value: Option<String>,
    /// What is wrong with it.
    pub problem: Option<Problem>,
    /// Taken from the stage's entry of `stage_alarm_topic_arns` (a stage in its own account).
    pub from_stage_map: bool,
}

/// Every check on every required output, once, in `REQUIRED` order (the ARN
/// checks on the outputs that are otherwise fine). `Err` when the text is not
/// JSON or not an object of outputs.
pub fn check(stage: &Stage, text: &str) -> std::result::Result<Vec<Checked>, String> {
    let root: Value = serde_json::from_str(text)
        .map_err(|e| format!("not `terraform output -json` JSON: {e}"))?;
    let all = root
        .as_object()
        .ok_or("expected a JSON object of outputs")?;
    Ok(REQUIRED
        .iter()
        .map(|r| {
            // A stage in its own account: its own topic, when the foundation names one.
            let own_topic = (r.name == "alarm_topic_arn")
                .then(|| stage_account::stage_alarm_topic(stage, all))
                .flatten();
            let found = match (&own_topic, all.get(r.name).map(|e| e.get("value"))) {
                (Some(topic), _) => Ok(topic.clone()),
                (None, None) => Err(Problem::Missing),
                (None, Some(None)) => Err(Problem::NoValue),
                (None, Some(Some(v))) => value_of(stage, r.kind, v),
            };
            // An output this stage can do without: absent (or without an entry for the
            // stage) is no problem; present, it is checked like any other.
            let found = match found {
                Err(Problem::Missing | Problem::NoStageEntry { .. })
                    if !r.need.applies_to(stage) =>
                {
                    return Checked {
                        required: r,
                        value: None,
                        problem: None,
                        from_stage_map: false,
                    };
                }
                found => found,
            };
            let found = found.and_then(|s| match r.name {
                "artifact_bucket" => {
                    check_bucket(stage, &s, &stage_account::foundation_account(stage, all))
                        .map(|()| s)
                        .map_err(Problem::Arn)
                }
                "alarm_topic_arn" => check_arn(stage, &s, true)
                    .map(|()| s)
                    .map_err(|p| Problem::Arn(p + &stage_account::alarm_topic_hint(stage))),
                "cloudformation_execution_role_arns" | "codedeploy_role_arns" => {
                    check_arn(stage, &s, false)
                        .map(|()| s)
                        .map_err(Problem::Arn)
                }
                "github_token_secret_arn" => stage_account::check_tooling_arn(stage, &s, all)
                    .map(|()| s)
                    .map_err(Problem::Arn),
                _ => Ok(s),
            });
            let (value, problem) = match found {
                Ok(s) => (Some(s), None),
                Err(p) => (None, Some(p)),
            };
            Checked {
                required: r,
                value,
                problem,
                from_stage_map: own_topic.is_some(),
            }
        })
        .collect())
}

/// The stage's string from an output's `value`, or why there is none.
fn value_of(stage: &Stage, kind: OutputKind, v: &Value) -> std::result::Result<String, Problem> {
    match kind {
        OutputKind::String => v
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or(Problem::NotString { found: kind_of(v) }),
        OutputKind::StringMapByStage => {
            let map = v.as_object().ok_or(Problem::NotMap { found: kind_of(v) })?;
            if let Some((k, entry)) = map.iter().find(|(_, e)| !e.is_string()) {
                return Err(Problem::NonStringEntry {
                    key: k.clone(),
                    found: kind_of(entry),
                });
            }
            map.get(&stage.name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| Problem::NoStageEntry {
                    stage: stage.name.clone(),
                })
        }
    }
}

/// Every required output of one stage from `terraform output -json` text, with what is
/// wrong with each (unlike `parse`, it does not stop at the first problem). Pure.
pub fn inspect(stage: &Stage, text: &str) -> std::result::Result<Vec<OutputRow>, String> {
    let mut rows: Vec<OutputRow> = check(stage, text)?
        .into_iter()
        .map(|c| OutputRow {
            name: if c.from_stage_map {
                stage_account::STAGE_ALARM_TOPICS
            } else {
                c.required.name
            },
            kind: match (c.required.kind, c.from_stage_map) {
                (OutputKind::String, false) => "string",
                (OutputKind::StringMapByStage, _) | (_, true) => "map(string)",
            },
            value: c.value,
            problem: c.problem.as_ref().map(Problem::row_text),
            used_for: c.required.used_for,
        })
        .collect();
    if let Ok(Value::Object(all)) = serde_json::from_str::<Value>(text) {
        rows.push(stage_account::deploy_role_row(stage, &all));
    }
    Ok(rows)
}

/// Checks `terraform output -json` text against `REQUIRED` for one stage: the
/// first problem `check` finds is the error (a missing or mistyped output
/// before an ARN in the wrong account). Pure.
pub fn parse(stage: &Stage, source_desc: &str, text: &str) -> Result<Outputs> {
    let checked = check(stage, text).map_err(|detail| {
        Error::from(OutputsError::OutputsUnreadable {
            stage: stage.name.clone(),
            source_desc: source_desc.to_string(),
            detail,
        })
    })?;
    let first = checked
        .iter()
        .filter(|c| {
            c.problem
                .as_ref()
                .is_some_and(|p| !matches!(p, Problem::Arn(_)))
        })
        .chain(
            checked
                .iter()
                .filter(|c| matches!(c.problem, Some(Problem::Arn(_)))),
        )
        .next();
    if let Some(c) = first {
        let name = c.required.name.to_string();
        return Err(match c.problem.as_ref() {
            Some(Problem::Missing) => OutputsError::OutputMissing {
                stage: stage.name.clone(),
                name,
                source_desc: source_desc.to_string(),
            },
            problem => OutputsError::OutputInvalid {
                stage: stage.name.clone(),
                name,
                source_desc: source_desc.to_string(),
                problem: problem.map(Problem::error_text).unwrap_or_default(),
            },
        }
        .into());
    }
    let value = |name: &str| {
        checked
            .iter()
            .find(|c| c.required.name == name)
            .and_then(|c| c.value.clone())
    };
    let take = |name: &str| value(name).unwrap_or_default();
    Ok(Outputs {
        artifact_bucket: take("artifact_bucket"),
        alarm_topic_arn: Some(take("alarm_topic_arn")),
        cloudformation_execution_role_arn: Some(take("cloudformation_execution_role_arns")),
        pipeline_name: Some(take("pipeline_name")),
        codedeploy_role_arn: value("codedeploy_role_arns"),
        github_token_secret: value("github_token_secret_arn"),
        source: source_desc.to_string(),
    })
}

#[cfg(test)]
mod tests;
