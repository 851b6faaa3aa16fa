//! Unit tests of the render context: names, environments, artifact keys.

use super::*;
use crate::stage::load::parse;
use std::path::PathBuf;

fn stage(text: &str, name: &str) -> Stage {
    let file = PathBuf::from(format!("stages/{name}.yaml"));
    Stage {
        name: name.into(),
        spec: parse(&file, text).expect("parses"),
        file,
        text: text.into(),
    }
}

const V5: &str = "account: '111111111111'
region: eu-west-1
terraform_outputs: {file: o.json}
app:
  architecture: arm64
  log_level: warn
  api: {memory_mb: 256, timeout_seconds: 10}
  worker: {memory_mb: 512, timeout_seconds: 20}
  upstream: {provider: v5, base_url: 'https://u', api_key_parameter: /k}
";

#[test]
fn derived_names() {
    let ctx = build(&stage(V5, "dev"), &crate::outputs::local(), None);
    assert_eq!(ctx.tables.breaker, "circuit-breaker-state-dev");
    assert_eq!(
        ctx.queue.url,
        "https://sqs.eu-west-1.amazonaws.com/111111111111/countries-fetch-dev"
    );
    assert_eq!(ctx.queue.visibility_timeout_seconds, 120);
    assert_eq!(ctx.functions.worker.artifact.parameter, "WorkerArtifactKey");
    assert_eq!(
        ctx.functions.worker.artifact.key,
        "functions/worker/<sha256>.zip"
    );
    assert!(ctx.stage.protect_data);
}

#[test]
fn digests_fill_the_artifact_keys() {
    let d = Digests {
        api: "a".repeat(64),
        worker: "b".repeat(64),
    };
    let ctx = build(&stage(V5, "dev"), &crate::outputs::local(), Some(&d));
    assert_eq!(
        ctx.functions.api.artifact.key,
        format!("functions/api/{}.zip", "a".repeat(64))
    );
    assert!(!ctx.functions.api.artifact.placeholder);
}

fn names(vars: &[EnvVar]) -> Vec<&str> {
    vars.iter().map(|v| v.name.as_str()).collect()
}

#[test]
fn environments_follow_the_contract() {
    let ctx = build(&stage(V5, "dev"), &crate::outputs::local(), None);
    assert_eq!(
        names(&ctx.functions.api.environment),
        [
            "STAGE",
            "LOG_LEVEL",
            "COUNTRIES_TABLE",
            "STATUS_TABLE",
            "QUEUE_URL",
            "VIEW_CACHE_TTL_SECONDS",
            "HTTP_MAX_AGE_SECONDS",
            "UPSTREAM_MONTHLY_BUDGET",
            "FORCE_COOLDOWN_SECONDS",
            "PENDING_TTL_SECONDS"
        ]
    );
    assert_eq!(
        names(&ctx.functions.worker.environment),
        [
            "STAGE",
            "LOG_LEVEL",
            "COUNTRIES_TABLE",
            "STATUS_TABLE",
            "BREAKER_TABLE",
            "QUEUE_URL",
            "DLQ_URL",
            "UPSTREAM_PROVIDER",
            "UPSTREAM_BASE_URL",
            "UPSTREAM_API_KEY_PARAMETER",
            "UPSTREAM_TIMEOUT_MS",
            "BREAKER_FAILURE_RATE_PERCENT",
            "BREAKER_MIN_CALLS",
            "BREAKER_TRIAL_CALLS",
            "BREAKER_WINDOW_SECONDS",
            "REFRESH_AFTER_SECONDS",
            "UPSTREAM_MONTHLY_BUDGET",
            "MAX_RECEIVE_COUNT"
        ]
    );
    assert!(ctx.functions.api.local_environment.is_empty());
}

fn value<'a>(vars: &'a [EnvVar], name: &str) -> &'a str {
    vars.iter()
        .find(|v| v.name == name)
        .map(|v| v.value.as_str())
        .unwrap_or_else(|| panic!("{name} is not set"))
}

#[test]
fn the_guards_settings_reach_the_functions_with_their_defaults() {
    let ctx = build(&stage(V5, "dev"), &crate::outputs::local(), None);
    let (api, worker) = (
        &ctx.functions.api.environment,
        &ctx.functions.worker.environment,
    );
    // v5's free tier; the alarm at 80 %.
    assert_eq!(value(api, "UPSTREAM_MONTHLY_BUDGET"), "500");
    assert_eq!(value(worker, "UPSTREAM_MONTHLY_BUDGET"), "500");
    assert_eq!((ctx.budget.monthly, ctx.budget.alarm_at), (500, 400));
    assert_eq!(value(api, "FORCE_COOLDOWN_SECONDS"), "300");
    // A pending marker lasts as long as a message can: visibility timeout x receives.
    assert_eq!(
        value(api, "PENDING_TTL_SECONDS"),
        (120 * MAX_RECEIVE_COUNT).to_string()
    );
    assert_eq!(
        value(worker, "MAX_RECEIVE_COUNT"),
        MAX_RECEIVE_COUNT.to_string()
    );

    let v3 = V5.replace(
        "{provider: v5, base_url: 'https://u', api_key_parameter: /k}",
        "{provider: v3, base_url: 'https://u', force_cooldown_seconds: 60}",
    );
    let ctx = build(&stage(&v3, "dev"), &crate::outputs::local(), None);
    assert_eq!(
        value(&ctx.functions.worker.environment, "UPSTREAM_MONTHLY_BUDGET"),
        "0",
        "v3: unlimited"
    );
    assert_eq!((ctx.budget.monthly, ctx.budget.alarm_at), (0, 0));
    assert_eq!(
        value(&ctx.functions.api.environment, "FORCE_COOLDOWN_SECONDS"),
        "60"
    );
    let odd = v3.replace("force_cooldown_seconds: 60", "monthly_budget: 7");
    let ctx = build(&stage(&odd, "dev"), &crate::outputs::local(), None);
    assert_eq!(
        (ctx.budget.monthly, ctx.budget.alarm_at),
        (7, 6),
        "80 % of 7 rounds up to 6"
    );
}
