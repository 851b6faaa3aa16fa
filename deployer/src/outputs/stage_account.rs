//! Outputs of a stage that runs in an account of its own: its alarm topic
//! comes from the optional output `stage_alarm_topic_arns` (the tooling
//! account's `alarm_topic_arn` is of no use in another account), and its
//! stage file must name the role to reach it (`deploy_role_arn`), which
//! `deployer outputs` shows beside the outputs. Pure.

use serde_json::{Map, Value};

use super::parse::OutputRow;
use super::usable::arn_in;
use crate::stage::Stage;

/// The optional output naming the alarm topic of each stage in its own account.
pub const STAGE_ALARM_TOPICS: &str = "stage_alarm_topic_arns";

/// The stage's entry of `stage_alarm_topic_arns`, when there is one.
pub fn stage_alarm_topic(stage: &Stage, all: &Map<String, Value>) -> Option<String> {
    all.get(STAGE_ALARM_TOPICS)?
        .get("value")?
        .get(&stage.name)?
        .as_str()
        .map(str::to_string)
}

/// What to do when the alarm topic is in another account than the stage's.
pub fn alarm_topic_hint(stage: &Stage) -> String {
    format!(
        "; a stage in its own account takes its topic from `{STAGE_ALARM_TOPICS}` (stage_accounts.{} of the tooling root)",
        stage.name
    )
}

/// The account of the tooling foundation, as its alarm topic's ARN says.
pub(super) fn tooling_account(all: &Map<String, Value>) -> Option<String> {
    let arn = all.get("alarm_topic_arn")?.get("value")?.as_str()?;
    arn.split(':').nth(4).map(str::to_string)
}

/// An ARN of the foundation's (the GitHub token's secret): the deployer reads it
/// with the caller's credentials, never the stage's role, so it is in the
/// foundation's account whichever account the stage runs in (in the stage's,
/// when `alarm_topic_arn` does not say which that is).
pub fn check_tooling_arn(stage: &Stage, arn: &str, all: &Map<String, Value>) -> Result<(), String> {
    let account = foundation_account(stage, all);
    arn_in(arn, &account, Some(&stage.spec.region), "the foundation")
}

/// The foundation's account, which owns the GitHub secret and the artifact
/// bucket whichever account the stage runs in: as its alarm topic says, else
/// the stage's own.
pub(super) fn foundation_account(stage: &Stage, all: &Map<String, Value>) -> String {
    tooling_account(all).unwrap_or_else(|| stage.spec.account.clone())
}

/// The stage file's `deploy_role_arn` as `deployer outputs` shows it: missing
/// when the stage runs in another account than the foundation and names no
/// role to reach it there.
pub fn deploy_role_row(stage: &Stage, all: &Map<String, Value>) -> OutputRow {
    let role = stage.spec.deploy_role_arn.clone();
    let elsewhere = tooling_account(all).filter(|a| *a != stage.spec.account);
    let problem = match (&role, elsewhere) {
        (None, Some(tooling)) => Some(format!(
            "missing: stage {} runs in account {} and the foundation in {tooling}; set deploy_role_arn in {} (output deploy_role_arn of infrastructure/stage-account)",
            stage.name,
            stage.spec.account,
            stage.file.display()
        )),
        _ => None,
    };
    OutputRow {
        name: "deploy_role_arn",
        kind: "stage file",
        value: role.or_else(|| {
            problem
                .is_none()
                .then(|| "(none: the caller's account)".into())
        }),
        problem,
        used_for: "the role in the stage's own account every command assumes first",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::inspect;
    use crate::stage::load::parse as parse_stage;
    use std::path::PathBuf;

    fn stage(extra: &str) -> Stage {
        let text = format!(
            "account: '222222222222'
region: us-east-1
terraform_outputs: {{file: o.json}}
{extra}app:
  architecture: arm64
  log_level: info
  api: {{memory_mb: 256, timeout_seconds: 10}}
  worker: {{memory_mb: 256, timeout_seconds: 30}}
  upstream: {{provider: v3, base_url: 'http://x'}}
"
        );
        let file = PathBuf::from("stages/dev.yaml");
        let spec = parse_stage(&file, &text).expect("parses");
        Stage {
            name: "dev".into(),
            file,
            text,
            spec,
        }
    }

    fn outputs(stage_topics: serde_json::Value) -> String {
        serde_json::json!({
            "artifact_bucket": {"value": "countries-artifacts-111111111111-us-east-1"},
            "alarm_topic_arn": {"value": "arn:aws:sns:us-east-1:111111111111:countries-notifications"},
            "cloudformation_execution_role_arns": {"value": {"dev": "arn:aws:iam::222222222222:role/countries-delivery-dev-cloudformation"}},
            "pipeline_name": {"value": "countries"},
            "stage_alarm_topic_arns": {"value": stage_topics},
        })
        .to_string()
    }

    #[test]
    fn a_stage_in_its_own_account_shows_what_it_lacks() {
        let rows = inspect(&stage(""), &outputs(serde_json::json!({}))).expect("json");
        let problems: Vec<(&str, &str)> = rows
            .iter()
            .filter_map(|r| Some((r.name, r.problem.as_deref()?)))
            .collect();
        assert_eq!(problems.len(), 2, "{rows:#?}");
        assert_eq!(problems[0].0, "alarm_topic_arn");
        assert!(
            problems[0]
                .1
                .contains("is in account 111111111111 but stage dev runs in account 222222222222")
                && problems[0].1.contains("stage_alarm_topic_arns"),
            "{}",
            problems[0].1
        );
        assert_eq!(problems[1].0, "deploy_role_arn");
        assert!(
            problems[1].1.starts_with(
                "missing: stage dev runs in account 222222222222 and the foundation in 111111111111"
            ),
            "{}",
            problems[1].1
        );
    }

    #[test]
    fn a_complete_stage_in_its_own_account_has_no_problem() {
        let s = stage(
            "deploy_role_arn: arn:aws:iam::222222222222:role/countries-delivery-dev-deployer\n",
        );
        let topic = "arn:aws:sns:us-east-1:222222222222:countries-dev-alarms";
        let rows = inspect(&s, &outputs(serde_json::json!({"dev": topic}))).expect("json");
        assert!(rows.iter().all(|r| r.problem.is_none()), "{rows:#?}");
        let alarm = rows
            .iter()
            .find(|r| r.name == STAGE_ALARM_TOPICS)
            .expect("the stage's topic row");
        assert_eq!(alarm.value.as_deref(), Some(topic));
        let parsed =
            crate::outputs::parse(&s, "o.json", &outputs(serde_json::json!({"dev": topic})))
                .expect("parses");
        assert_eq!(parsed.alarm_topic_arn.as_deref(), Some(topic));
    }

    #[test]
    fn the_github_secret_is_the_foundations_whatever_account_the_stage_runs_in() {
        let s = stage(
            "deploy_role_arn: arn:aws:iam::222222222222:role/countries-delivery-dev-deployer\n",
        );
        let with_secret = |arn: &str| {
            let topic = "arn:aws:sns:us-east-1:222222222222:countries-dev-alarms";
            let mut v: Value =
                serde_json::from_str(&outputs(serde_json::json!({"dev": topic}))).expect("json");
            v["github_token_secret_arn"] = serde_json::json!({"value": arn});
            v.to_string()
        };
        let tooling =
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:countries/github-token-AbCdEf";
        let parsed = crate::outputs::parse(&s, "o.json", &with_secret(tooling))
            .expect("the tooling account's secret");
        assert_eq!(parsed.github_token_secret.as_deref(), Some(tooling));
        let err = crate::outputs::parse(
            &s,
            "o.json",
            &with_secret("arn:aws:secretsmanager:us-east-1:222222222222:secret:countries/github-token-AbCdEf"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`github_token_secret_arn`")
                && err.contains(
                    "is in account 222222222222 but the foundation runs in account 111111111111"
                ),
            "{err}"
        );
    }
}
