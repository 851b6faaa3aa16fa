//! A stage in an account of its own: the roles the deployer assumes there
//! (`deploy_role_arn`, `reader_role_arn`) and their `external_id`. Each role
//! must be one role of the stage's `account`, so that credentials can never
//! take a stage's commands to another account than the one its file names.

use std::collections::BTreeSet;

use super::at;
use crate::error::Diagnostic;
use crate::stage::load::Stage;

/// Checks each stage's roles, and that a stage others promote from can be read
/// by them (its `reader_role_arn`).
pub(super) fn check_roles(stages: &[Stage], out: &mut Vec<Diagnostic>) {
    let promoted_from: BTreeSet<&str> = stages
        .iter()
        .filter_map(|s| s.spec.promote_from.as_deref())
        .collect();
    for stage in stages {
        let s = &stage.spec;
        for (field, arn) in [
            ("deploy_role_arn", &s.deploy_role_arn),
            ("reader_role_arn", &s.reader_role_arn),
        ] {
            let Some(arn) = arn else { continue };
            if s.local.is_some() {
                out.push(at(
                    stage,
                    field,
                    "a local stage runs on the emulator, in no account of its own; remove this key"
                        .into(),
                ));
            } else if let Some(problem) = role_problem(arn, &s.account) {
                out.push(at(stage, field, problem));
            }
        }
        if s.reader_role_arn.is_some() && s.deploy_role_arn.is_none() {
            out.push(at(
                stage,
                "reader_role_arn",
                "is only for a stage in an account of its own: set `deploy_role_arn` too, or remove this key".into(),
            ));
        }
        if let Some(id) = &s.external_id {
            if s.deploy_role_arn.is_none() {
                out.push(at(
                    stage,
                    "external_id",
                    "is given to the roles of a stage in an account of its own: set `deploy_role_arn` too, or remove this key".into(),
                ));
            } else if !is_external_id(id) {
                out.push(at(
                    stage,
                    "external_id",
                    "allowed: 2-1224 characters of letters, digits and + = , . @ : / - (what STS accepts)".into(),
                ));
            }
        }
        if s.deploy_role_arn.is_some()
            && s.reader_role_arn.is_none()
            && promoted_from.contains(stage.name.as_str())
        {
            let next: Vec<&str> = stages
                .iter()
                .filter(|o| o.spec.promote_from.as_deref() == Some(stage.name.as_str()))
                .map(|o| o.name.as_str())
                .collect();
            out.push(at(
                stage,
                "deploy_role_arn",
                format!(
                    "{} promotes from {} and reads its stack through `reader_role_arn`: set it (output reader_role_arn of infrastructure/stage-account)",
                    next.join(", "),
                    stage.name
                ),
            ));
        }
    }
}

/// What is wrong with `arn` as a role of `account`, if anything.
fn role_problem(arn: &str, account: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let name = parts.get(5).and_then(|r| r.strip_prefix("role/"));
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && name.is_some_and(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
        });
    if !well_formed {
        return Some(format!(
            "`{arn}` is not a role ARN; expected arn:aws:iam::<12-digit account>:role/<name>, e.g. the deploy_role_arn output of infrastructure/stage-account"
        ));
    }
    (parts[4] != account).then(|| {
        format!(
            "`{arn}` is in account {}, but the stage runs in account {account} (`account`): a stage's roles must be in its own account",
            parts[4]
        )
    })
}

fn is_external_id(id: &str) -> bool {
    (2..=1224).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::super::tests::stage;
    use super::super::validate;

    const APP: &str = "app:
  architecture: arm64
  log_level: info
  api: {memory_mb: 256, timeout_seconds: 10}
  worker: {memory_mb: 256, timeout_seconds: 30}
  upstream: {provider: v3, base_url: 'https://countries.example.com'}
";

    fn file(account: &str, extra: &str) -> String {
        format!(
            "account: '{account}'\nregion: us-east-1\nterraform_outputs:\n  file: o.json\n{extra}{APP}"
        )
    }

    fn role(account: &str, name: &str) -> String {
        format!("arn:aws:iam::{account}:role/{name}")
    }

    #[test]
    fn three_accounts_pass() {
        let d = validate(&[
            stage(
                "dev",
                &file(
                    "222222222222",
                    &format!(
                        "deploy_role_arn: {}\nreader_role_arn: {}\nexternal_id: countries-dev-1\n",
                        role("222222222222", "countries-delivery-dev-deployer"),
                        role("222222222222", "countries-delivery-dev-reader")
                    ),
                ),
            ),
            stage(
                "prod",
                &file(
                    "444444444444",
                    &format!(
                        "promote_from: dev\napproval: true\ndeploy_role_arn: {}\n",
                        role("444444444444", "countries-delivery-prod-deployer")
                    ),
                ),
            ),
        ]);
        assert_eq!(d, vec![]);
    }

    #[test]
    fn a_role_in_another_account_names_file_line_and_field() {
        let text = file(
            "222222222222",
            &format!(
                "deploy_role_arn: {}\n",
                role("333333333333", "countries-delivery-dev-deployer")
            ),
        );
        let d = validate(&[stage("dev", &text)]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            (
                d[0].file.to_str(),
                d[0].line,
                d[0].column,
                d[0].field.as_str()
            ),
            (Some("stages/dev.yaml"), 5, 1, "deploy_role_arn")
        );
        assert!(
            d[0].message.contains("is in account 333333333333")
                && d[0].message.contains("runs in account 222222222222"),
            "{}",
            d[0]
        );
    }

    #[test]
    fn malformed_and_misplaced_keys_are_refused() {
        let bad = file(
            "222222222222",
            "deploy_role_arn: arn:aws:iam::222222222222:user/someone\nreader_role_arn: arn:aws:iam::222222222222:role/r*\nexternal_id: 'x'\n",
        );
        let d = validate(&[stage("dev", &bad)]);
        let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            ["deploy_role_arn", "reader_role_arn", "external_id"],
            "{d:?}"
        );
        assert!(d[0].message.contains("is not a role ARN"), "{}", d[0]);
        let alone = file(
            "222222222222",
            "external_id: countries\nreader_role_arn: arn:aws:iam::222222222222:role/r\n",
        );
        let d = validate(&[stage("dev", &alone)]);
        let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["reader_role_arn", "external_id"], "{d:?}");
        assert!(
            d[1].message.contains("set `deploy_role_arn` too"),
            "{}",
            d[1]
        );
    }

    #[test]
    fn a_stage_promoted_from_needs_its_reader_role() {
        let d = validate(&[
            stage(
                "dev",
                &file(
                    "222222222222",
                    &format!(
                        "deploy_role_arn: {}\n",
                        role("222222222222", "countries-delivery-dev-deployer")
                    ),
                ),
            ),
            stage("staging", &file("222222222222", "promote_from: dev\n")),
        ]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].field.as_str(), d[0].line), ("deploy_role_arn", 5));
        assert!(
            d[0].message.contains("staging promotes from dev"),
            "{}",
            d[0]
        );
    }

    #[test]
    fn a_local_stage_takes_no_role() {
        let text = format!(
            "account: '123456789012'\nregion: us-east-1\ndeploy_role_arn: {}\n{}local: {{emulator_port: 4599, api_port: 3000, upstream_port: 8081}}\n",
            role("123456789012", "r"),
            APP.replace("https://countries.example.com", "http://127.0.0.1:8081")
        );
        let d = validate(&[stage("local", &text)]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].field, "deploy_role_arn");
        assert!(d[0].message.contains("local stage"), "{}", d[0]);
    }
}
