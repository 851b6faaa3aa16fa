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
            "HTTP_MAX_AGE_SECONDS"
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
            "REFRESH_AFTER_SECONDS"
        ]
    );
    assert!(ctx.functions.api.local_environment.is_empty());
}
