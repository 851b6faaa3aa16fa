//! Unit tests of the stage-file checks.

use super::*;
use crate::stage::load::parse;
use std::path::{Path, PathBuf};

pub(crate) fn stage(name: &str, text: &str) -> Stage {
    let file = PathBuf::from(format!("stages/{name}.yaml"));
    let spec = parse(Path::new(&file), text).expect("fixture parses");
    Stage {
        name: name.into(),
        file,
        text: text.into(),
        spec,
    }
}

fn cloud(extra: &str) -> String {
    format!(
        "account: '111111111111'
region: us-east-1
terraform_outputs:
  file: o.json
{extra}app:
  architecture: arm64
  log_level: info
  api:
    memory_mb: 256
    timeout_seconds: 10
  worker:
    memory_mb: 256
    timeout_seconds: 30
  upstream:
    provider: v5
    base_url: https://api.example.com/v5
    api_key_parameter: /countries/x/key
"
    )
}

/// A local stage file: `app_extra` goes under `app:` (after `log_level`), `extra` at the end.
fn local(app_extra: &str, extra: &str) -> String {
    format!(
        "account: '123456789012'
region: us-east-1
app:
  architecture: x86_64
  log_level: info
{app_extra}  api:
    memory_mb: 256
    timeout_seconds: 10
  worker:
    memory_mb: 256
    timeout_seconds: 30
  upstream:
    provider: v3
    base_url: http://127.0.0.1:8081
local:
  emulator_port: 4599
  api_port: 3000
  upstream_port: 8081
{extra}"
    )
}

#[test]
fn a_good_chain_passes() {
    let stages = [
        stage("dev", &cloud("")),
        stage("staging", &cloud("promote_from: dev\n")),
        stage("prod", &cloud("promote_from: staging\napproval: true\n")),
    ];
    assert_eq!(validate(&stages), vec![]);
}

#[test]
fn memory_out_of_range_names_line_and_range() {
    let text = cloud("").replace(
        "memory_mb: 256\n    timeout_seconds: 30",
        "memory_mb: 64\n    timeout_seconds: 30",
    );
    let d = validate(&[stage("dev", &text)]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        (d[0].line, d[0].column, d[0].field.as_str()),
        (12, 5, "app.worker.memory_mb")
    );
    assert!(d[0].message.contains("128-10240"), "{}", d[0]);
}

#[test]
fn prod_needs_approval() {
    let stages = [
        stage("staging", &cloud("")),
        stage("prod", &cloud("promote_from: staging\n")),
    ];
    let d = validate(&stages);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].field, "approval");
    assert_eq!(
        d[0].line, 5,
        "points at promote_from when approval is absent"
    );
    assert!(d[0].message.contains("approval: true"));
}

#[test]
fn unknown_promote_from_lists_stages() {
    let d = validate(&[
        stage("dev", &cloud("")),
        stage("staging", &cloud("promote_from: qa\n")),
    ]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].line, d[0].field.as_str()), (5, "promote_from"));
    assert!(d[0].message.contains("one of dev"), "{}", d[0]);
}

#[test]
fn promote_from_cycle_is_reported_for_each_member() {
    let stages = [
        stage("a", &cloud("promote_from: b\n")),
        stage("b", &cloud("promote_from: a\n")),
        stage("c", &cloud("promote_from: a\n")),
    ];
    let d = validate(&stages);
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d[0].message.contains("a <- b <- a"), "{}", d[0]);
    assert!(d[1].message.contains("b <- a <- b"), "{}", d[1]);
}

#[test]
fn v5_needs_a_key_parameter() {
    let text = cloud("").replace("    api_key_parameter: /countries/x/key\n", "");
    let d = validate(&[stage("dev", &text)]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].field, "app.upstream.api_key_parameter");
}

#[test]
fn breaker_settings_are_in_range_and_the_window_outlasts_a_call() {
    let breaker = "  breaker:\n    failure_rate_percent: 0\n    min_calls: 0\n    trial_calls: 101\n    window_seconds: 4\n    \n";
    let text = format!("{}    timeout_ms: 5000\n{breaker}", cloud(""));
    let d = validate(&[stage("dev", &text)]);
    let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "app.breaker.failure_rate_percent",
            "app.breaker.min_calls",
            "app.breaker.trial_calls",
            "app.breaker.window_seconds"
        ],
        "{d:?}"
    );
    assert!(
        d[3].message
            .contains("longer than app.upstream.timeout_ms (5000 ms)"),
        "{}",
        d[3]
    );
}

#[test]
fn api_timeout_is_capped_by_the_http_api() {
    let text = cloud("").replace("timeout_seconds: 10", "timeout_seconds: 60");
    let d = validate(&[stage("dev", &text)]);
    assert_eq!(d[0].field, "app.api.timeout_seconds");
    assert!(d[0].message.contains("1-30"), "{}", d[0]);
}

#[test]
fn names_and_regions() {
    assert!(is_stage_name("dev") && is_stage_name("qa-2"));
    assert!(!is_stage_name("Dev") && !is_stage_name("2x") && !is_stage_name(""));
    assert!(is_region("us-east-1") && is_region("us-gov-west-1"));
    assert!(!is_region("useast1") && !is_region("us-east"));
}

#[test]
fn release_settings_are_checked_where_they_are_written() {
    let text =
        cloud("release:\n  api_traffic: canary_10_percent_5_minutes\n  monitoring_minutes: 181\n");
    let d = validate(&[stage("prod", &text)]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        (d[0].line, d[0].field.as_str()),
        (7, "release.monitoring_minutes")
    );
    assert!(d[0].message.contains("0-180"), "{}", d[0]);

    // An unknown strategy is a parse error naming the field and the allowed values.
    let file = PathBuf::from("stages/prod.yaml");
    let bad = cloud("release:\n  api_traffic: canary_50_percent\n");
    let e = parse(Path::new(&file), &bad).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (6, "release.api_traffic"));
    assert!(
        e.message.contains("canary_10_percent_5_minutes"),
        "{}",
        e.message
    );
}

#[test]
fn the_local_stage_releases_all_at_once() {
    let local = local(
        "",
        "release:\n  api_traffic: linear_10_percent_every_1_minute\n  monitoring_minutes: 5\n",
    );
    let d = validate(&[stage("local", &local)]);
    let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        ["release.api_traffic", "release.monitoring_minutes"],
        "{d:?}"
    );
    assert!(d[0].message.contains("no CodeDeploy"), "{}", d[0]);
}

#[test]
fn tracing_is_for_cloud_stages_and_the_queue_age_threshold_is_bounded() {
    let text = cloud("alarms:\n  oldest_request_minutes: 0\n").replace(
        "  log_level: info\n",
        "  log_level: info\n  active_tracing: true\n",
    );
    let d = validate(&[stage("dev", &text)]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        (d[0].line, d[0].field.as_str()),
        (6, "alarms.oldest_request_minutes")
    );
    assert!(d[0].message.contains("1-20160 minutes"), "{}", d[0]);

    let local = local("  active_tracing: true\n", "");
    let d = validate(&[stage("local", &local)]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].line, d[0].field.as_str()), (6, "app.active_tracing"));
    assert!(d[0].message.contains("no X-Ray"), "{}", d[0]);
}

#[test]
fn max_concurrency_is_the_workers_and_within_its_reservation() {
    let worker = |settings: &str| {
        cloud("").replace(
            "memory_mb: 256\n    timeout_seconds: 30",
            &format!("memory_mb: 256\n    timeout_seconds: 30\n{settings}"),
        )
    };
    // Without a reservation, the trigger's cap alone (a new account reserves nothing).
    assert_eq!(
        validate(&[stage("dev", &worker("    max_concurrency: 5"))]),
        vec![]
    );
    let fields = |text: &str| -> Vec<(String, String)> {
        validate(&[stage("dev", text)])
            .into_iter()
            .map(|d| (d.field, d.message))
            .collect()
    };
    let d = fields(&worker("    max_concurrency: 1"));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].1.contains("2-1000"), "{d:?}");
    let d = fields(&worker(
        "    reserved_concurrency: 3\n    max_concurrency: 4",
    ));
    assert_eq!(d[0].0, "app.worker.max_concurrency", "{d:?}");
    assert!(d[0].1.contains("above reserved_concurrency (3)"), "{d:?}");
    let api = cloud("").replace(
        "memory_mb: 256\n    timeout_seconds: 10",
        "memory_mb: 256\n    timeout_seconds: 10\n    max_concurrency: 5",
    );
    let d = fields(&api);
    assert_eq!(d[0].0, "app.api.max_concurrency", "{d:?}");
}
