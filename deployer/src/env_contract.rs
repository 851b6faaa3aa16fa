//! The environment contract: every variable a function gets, built in one
//! place for both places it is used.
//!
//! * `lambda`: the Lambda environment, rendered into the stack and
//!   app-config.json (generated/), with table and queue references the stack
//!   resolves (`!Ref`).
//! * `local_extras`: what only a local process gets (`PORT`, the emulator's
//!   `AWS_ENDPOINT_URL`); generated/ shows it with the stage file's ports
//!   (`local_process_environment`), `up local` with the ports it runs on.
//! * `process_env`: a local process's whole environment: `lambda` with the
//!   references resolved to the emulator's physical ids, `local_extras`, and
//!   the SDK's own variables (`SDK_PLUMBING`), which are outside the app's
//!   contract.
//!
//! The differences between the two uses are deliberate and listed here once:
//! `up local` passes the stack's physical ids (the same names), follows
//! `--upstream-port` in `UPSTREAM_BASE_URL`, replaces
//! `UPSTREAM_API_KEY_PARAMETER` by `UPSTREAM_API_KEY` when the deployer's
//! environment has a key (the emulator has no such parameter), and gives the
//! processes the stage file's region (not `--region`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stage::Stage;
use crate::stage::schema::Provider;

/// Variables the app reads that no Lambda environment sets, per function: the
/// emulator's endpoint and the local port (local processes only), and the
/// local-only key (`UPSTREAM_API_KEY_PARAMETER` is set only for a v5 stage).
pub const UNSET_IN_LAMBDA: [(&str, &[&str]); 2] = [
    ("api", &["AWS_ENDPOINT_URL", "PORT"]),
    (
        "worker",
        &[
            "AWS_ENDPOINT_URL",
            "UPSTREAM_API_KEY",
            "UPSTREAM_API_KEY_PARAMETER",
        ],
    ),
];

/// Variables the AWS SDK reads in a local process (region, the emulator's
/// dummy credentials, no instance metadata): outside the app's contract.
pub const SDK_PLUMBING: [&str; 5] = [
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_EC2_METADATA_DISABLED",
];

/// Variables removed from a local process's inherited environment, so the
/// deployer's own AWS profile or a Lambda runtime never leak into it.
pub const REMOVED_FROM_PROCESSES: [&str; 4] = [
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_PROFILE",
    "AWS_LAMBDA_RUNTIME_API",
];

/// The stack's resources a function's environment names: the derived physical
/// names, each behind a `!Ref` in the stack.
#[derive(Debug, Clone, Copy)]
pub struct Resources<'a> {
    /// `countries-<stage>`.
    pub countries_table: &'a str,
    /// `status-<stage>`.
    pub status_table: &'a str,
    /// `circuit-breaker-state-<stage>`.
    pub breaker_table: &'a str,
    /// The fetch queue's URL.
    pub queue_url: &'a str,
    /// The dead-letter queue's URL.
    pub dlq_url: &'a str,
    /// Receives of a message before the dead-letter queue (the queue's `maxReceiveCount`).
    pub max_receive_count: u32,
    /// The fetch queue's visibility timeout: with `max_receive_count`, how
    /// long a message can stay pending (the pending marker's lifetime).
    pub visibility_timeout_seconds: u32,
}

/// One environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVar {
    /// The variable name (docs/contract.md).
    pub name: String,
    /// Its value as the function sees it.
    pub value: String,
    /// In the stack, take the value from `!Ref <this logical id>` instead of the literal.
    pub stack_ref: Option<String>,
}

/// The api's and the worker's Lambda environments, per docs/contract.md.
pub fn lambda(stage: &Stage, r: &Resources) -> (Vec<EnvVar>, Vec<EnvVar>) {
    let app = &stage.spec.app;
    let up = &app.upstream;
    let common = [
        var("STAGE", stage.name.clone()),
        var("LOG_LEVEL", app.log_level.as_str().to_string()),
        reference("COUNTRIES_TABLE", r.countries_table, "CountriesTable"),
        reference("STATUS_TABLE", r.status_table, "StatusTable"),
    ];
    let mut api = common.to_vec();
    api.extend([
        reference("QUEUE_URL", r.queue_url, "FetchQueue"),
        var(
            "VIEW_CACHE_TTL_SECONDS",
            app.cache.view_ttl_seconds.to_string(),
        ),
        var(
            "HTTP_MAX_AGE_SECONDS",
            app.cache.http_max_age_seconds.to_string(),
        ),
        var("UPSTREAM_MONTHLY_BUDGET", up.monthly_budget().to_string()),
        var(
            "FORCE_COOLDOWN_SECONDS",
            up.force_cooldown_seconds.to_string(),
        ),
        var(
            "PENDING_TTL_SECONDS",
            (r.visibility_timeout_seconds * r.max_receive_count).to_string(),
        ),
    ]);
    let mut worker = common.to_vec();
    worker.extend([
        reference("BREAKER_TABLE", r.breaker_table, "BreakerTable"),
        reference("QUEUE_URL", r.queue_url, "FetchQueue"),
        reference("DLQ_URL", r.dlq_url, "FetchDeadLetterQueue"),
        var("UPSTREAM_PROVIDER", up.provider.as_str().to_string()),
        var("UPSTREAM_BASE_URL", up.base_url.clone()),
    ]);
    if let (Provider::V5, Some(parameter)) = (up.provider, &up.api_key_parameter) {
        worker.push(var("UPSTREAM_API_KEY_PARAMETER", parameter.clone()));
    }
    worker.extend([
        var("UPSTREAM_TIMEOUT_MS", up.timeout_ms.to_string()),
        var(
            "BREAKER_FAILURE_RATE_PERCENT",
            app.breaker.failure_rate_percent.to_string(),
        ),
        var("BREAKER_MIN_CALLS", app.breaker.min_calls.to_string()),
        var("BREAKER_TRIAL_CALLS", app.breaker.trial_calls.to_string()),
        var(
            "BREAKER_WINDOW_SECONDS",
            app.breaker.window_seconds.to_string(),
        ),
        var(
            "REFRESH_AFTER_SECONDS",
            up.refresh_after_seconds.to_string(),
        ),
        var("UPSTREAM_MONTHLY_BUDGET", up.monthly_budget().to_string()),
        var("MAX_RECEIVE_COUNT", r.max_receive_count.to_string()),
    ]);
    (api, worker)
}

fn var(name: &str, value: String) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value,
        stack_ref: None,
    }
}

fn reference(name: &str, value: &str, logical_id: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: value.to_string(),
        stack_ref: Some(logical_id.to_string()),
    }
}

/// What only a local process gets, on top of its Lambda environment: the
/// api's `PORT` and the emulator's `AWS_ENDPOINT_URL` (api, worker).
pub fn local_extras(endpoint_url: &str, api_port: u16) -> (Vec<EnvVar>, Vec<EnvVar>) {
    (
        vec![
            var("PORT", api_port.to_string()),
            var("AWS_ENDPOINT_URL", endpoint_url.to_string()),
        ],
        vec![var("AWS_ENDPOINT_URL", endpoint_url.to_string())],
    )
}

/// Local-only values layered over the function environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOverrides {
    /// `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    /// `AWS_REGION`.
    pub region: String,
    /// The api's `PORT`.
    pub api_port: u16,
    /// The offline upstream's URL, replacing `UPSTREAM_BASE_URL` (port overrides).
    pub upstream: Option<String>,
    /// `UPSTREAM_API_KEY` from the deployer's environment (a v5 stage run locally).
    pub api_key: Option<String>,
}

/// A local process's environment: the function's Lambda environment with stack
/// references resolved to the stack's physical ids, plus the emulator's endpoint
/// and dummy credentials. Pure; the error is a logical id the stack lacks.
pub fn process_env(
    vars: &[EnvVar],
    resources: &BTreeMap<String, String>,
    o: &LocalOverrides,
    is_api: bool,
) -> std::result::Result<Vec<(String, String)>, String> {
    let mut env = Vec::new();
    for v in vars {
        let value = match &v.stack_ref {
            Some(id) => resources.get(id).cloned().ok_or_else(|| id.clone())?,
            None => v.value.clone(),
        };
        let value = match (v.name.as_str(), &o.upstream) {
            ("UPSTREAM_BASE_URL", Some(url)) => url.clone(),
            _ => value,
        };
        if v.name == "UPSTREAM_API_KEY_PARAMETER" && o.api_key.is_some() {
            continue; // the emulator has no such parameter; the key comes from the environment
        }
        env.push((v.name.clone(), value));
    }
    if let (false, Some(key)) = (is_api, &o.api_key) {
        env.push(("UPSTREAM_API_KEY".into(), key.clone()));
    }
    let (api_extras, worker_extras) = local_extras(&o.endpoint, o.api_port);
    let extras = if is_api { api_extras } else { worker_extras };
    env.extend(extras.into_iter().map(|v| (v.name, v.value)));
    let plumbing = [
        o.region.as_str(),
        o.region.as_str(),
        "testing",
        "testing",
        "true",
    ];
    for (k, v) in SDK_PLUMBING.into_iter().zip(plumbing) {
        env.push((k.to_string(), v.to_string()));
    }
    Ok(env)
}

#[cfg(test)]
mod tests;
