use super::*;
use crate::stage::load::parse as parse_stage;
use std::path::PathBuf;

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
fn the_codedeploy_role_is_needed_by_canary_stages_only() {
    let o = parse(&stage("dev"), "f.json", &json(&[])).expect("all at once needs none");
    assert_eq!((o.codedeploy_role_arn, o.github_token_secret), (None, None));
    let mut canary = stage("dev");
    canary.spec.release.api_traffic =
        crate::stage::schema::TrafficShift::Linear10PercentEvery1Minute;
    let err = parse(&canary, "f.json", &json(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`codedeploy_role_arns`"), "{err}");
    let roles = serde_json::json!({"dev": "arn:aws:iam::111111111111:role/cd"});
    let o = parse(&canary, "f.json", &json(&[("codedeploy_role_arns", roles)])).unwrap();
    assert_eq!(
        o.codedeploy_role_arn.as_deref(),
        Some("arn:aws:iam::111111111111:role/cd")
    );
    // An optional output that is present is still checked.
    let text = json(&[("github_token_secret_arn", serde_json::json!(7))]);
    assert!(parse(&stage("dev"), "f.json", &text).is_err());
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

#[test]
fn a_bucket_named_for_another_region_or_account_is_unusable() {
    let bucket = |name: &str| json(&[("artifact_bucket", serde_json::json!(name))]);
    assert!(
        parse(
            &stage("dev"),
            "f.json",
            &bucket("countries-artifacts-111111111111-us-east-1")
        )
        .is_ok()
    );
    let err = parse(
        &stage("dev"),
        "f.json",
        &bucket("countries-artifacts-111111111111-eu-west-1"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("a bucket in region eu-west-1, but stage dev runs in us-east-1"),
        "{err}"
    );
    let rows = inspect(
        &stage("dev"),
        &bucket("countries-artifacts-222222222222-us-east-1"),
    )
    .unwrap();
    assert!(
        rows[0]
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("in account 222222222222")),
        "{rows:?}"
    );
    // A name of one's own choosing says nothing about where the bucket is.
    assert!(parse(&stage("dev"), "f.json", &bucket("my-artifacts-eu-west-1")).is_ok());
}

#[test]
fn inspect_and_parse_agree() {
    // A non-string map entry: only `parse` used to reject it.
    let entry = serde_json::json!({"dev": "arn:aws:iam::111111111111:role/r", "qa": 3});
    let text = json(&[("cloudformation_execution_role_arns", entry)]);
    let err = parse(&stage("dev"), "f.json", &text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("but `qa` is a number"), "{err}");
    let rows = inspect(&stage("dev"), &text).unwrap();
    assert_eq!(
        rows[2].problem.as_deref(),
        Some("must be a map(string), but `qa` is a number")
    );
    // An ARN in another account: only `parse` used to check ARNs.
    let other = serde_json::json!("arn:aws:sns:us-east-1:999999999999:t");
    let text = json(&[("alarm_topic_arn", other)]);
    assert!(parse(&stage("dev"), "f.json", &text).is_err());
    let rows = inspect(&stage("dev"), &text).unwrap();
    assert!(
        rows[1]
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("account 999999999999")),
        "{rows:?}"
    );
}
