//! Semantic checks on parsed stage files. Pure: no I/O.
//!
//! Parsing guarantees types; these checks guarantee meaning (ranges, the
//! promotion chain, what each provider needs). Each problem is reported at
//! the key to edit, with what is allowed, and all problems are returned at
//! once.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Diagnostic;
use crate::stage::load::Stage;
use crate::stage::locate::locate_nearest;
use crate::stage::rules;
use crate::stage::schema::{FunctionSettings, Provider};
use accounts::check_roles;
use chain::check_cycles;
use concurrency::check_concurrency;
use names::{is_region, is_ssm_name, is_stage_name};

/// Lambda's memory range in MB.
pub const MEMORY_MB: (u32, u32) = (128, 10240);
/// Lambda's timeout range in seconds.
pub const TIMEOUT_SECONDS: (u32, u32) = (1, 900);
/// The HTTP API stops waiting for its integration after 30 s, so a longer api timeout is never used.
pub const API_TIMEOUT_MAX_SECONDS: u32 = 30;
/// The oldest-request alarm's threshold range in minutes: up to SQS's longest retention (14 days).
pub const OLDEST_REQUEST_MINUTES: (u32, u32) = (1, 20_160);
/// Retention values CloudWatch Logs accepts.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Checks every stage and the links between them; empty when all is well.
pub fn validate(stages: &[Stage]) -> Vec<Diagnostic> {
    let names: BTreeSet<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    let mut out = Vec::new();
    for stage in stages {
        check_stage(stage, &names, &mut out);
    }
    check_cycles(stages, &mut out);
    check_roles(stages, &mut out);
    out
}

fn at(stage: &Stage, field: &str, message: String) -> Diagnostic {
    at_or(stage, field, field, message)
}

/// Like `at`, but points at `fallback` when `field` is absent from the file (e.g. a defaulted key).
fn at_or(stage: &Stage, field: &str, fallback: &str, message: String) -> Diagnostic {
    let path: Vec<&str> = field.split('.').collect();
    let (line, column) = match crate::stage::locate::locate(&stage.text, &path) {
        Some(pos) => pos,
        None => locate_nearest(&stage.text, fallback),
    };
    Diagnostic {
        file: stage.file.clone(),
        line,
        column,
        field: field.to_string(),
        message,
        source_line: crate::diagnostics::line_text(&stage.text, line),
    }
}

fn check_stage(stage: &Stage, names: &BTreeSet<&str>, out: &mut Vec<Diagnostic>) {
    let s = &stage.spec;
    let mut err = |field: &str, message: String| out.push(at(stage, field, message));

    if !is_stage_name(&stage.name) {
        err(
            "(file name)",
            format!(
                "stage name `{}` (the file name) is not allowed: use 1-20 lower-case letters, digits or `-`, starting with a letter (it becomes part of table and stack names)",
                stage.name
            ),
        );
    }
    if s.account.len() != 12 || !s.account.bytes().all(|b| b.is_ascii_digit()) {
        err(
            "account",
            format!(
                "`{}` is not an AWS account id: use the 12 digits, quoted",
                s.account
            ),
        );
    }
    if !is_region(&s.region) {
        err(
            "region",
            format!(
                "`{}` is not an AWS region name such as us-east-1 or eu-west-2",
                s.region
            ),
        );
    }

    match (&s.local, &s.terraform_outputs) {
        (Some(_), Some(_)) => err(
            "terraform_outputs",
            "a local stage (one with a `local:` section) takes no Terraform outputs; remove this key".into(),
        ),
        (None, None) => err(
            "terraform_outputs",
            "a cloud stage needs `terraform_outputs:` with `file: <path>` or `chdir: <dir>` (or a `local:` section if it runs on the emulator)".into(),
        ),
        (None, Some(src)) => match (&src.chdir, &src.file) {
            (Some(_), Some(_)) | (None, None) => err(
                "terraform_outputs",
                "set exactly one of `chdir: <terraform dir>` or `file: <output -json file>`".into(),
            ),
            _ => {}
        },
        (Some(_), None) => {}
    }

    if let Some(from) = &s.promote_from {
        if from == &stage.name {
            err(
                "promote_from",
                format!("stage `{from}` cannot be promoted from itself"),
            );
        } else if !names.contains(from.as_str()) {
            let known: Vec<&str> = names.iter().copied().filter(|n| *n != stage.name).collect();
            err(
                "promote_from",
                format!(
                    "`{from}` is not a stage; allowed: one of {} (a file in stages/)",
                    known.join(", ")
                ),
            );
        }
    }

    check_function(&s.app.api, "app.api", API_TIMEOUT_MAX_SECONDS, &mut err);
    check_function(&s.app.worker, "app.worker", TIMEOUT_SECONDS.1, &mut err);
    check_concurrency(&s.app.api, &s.app.worker, &mut err);

    if !LOG_RETENTION_DAYS.contains(&s.app.log_retention_days) {
        err(
            "app.log_retention_days",
            format!(
                "{} is not a CloudWatch retention; allowed: {:?}",
                s.app.log_retention_days, LOG_RETENTION_DAYS
            ),
        );
    }

    let up = &s.app.upstream;
    if !(up.base_url.starts_with("https://") || up.base_url.starts_with("http://"))
        || up.base_url.ends_with('/')
    {
        err(
            "app.upstream.base_url",
            format!(
                "`{}` must be an http:// or https:// URL without a trailing slash",
                up.base_url
            ),
        );
    }
    match (up.provider, &up.api_key_parameter) {
        (Provider::V5, None) => err(
            "app.upstream.api_key_parameter",
            format!(
                "provider v5 needs `api_key_parameter`: the name of the SSM SecureString holding the key, e.g. /countries/{}/restcountries-api-key",
                stage.name
            ),
        ),
        (Provider::V3, Some(_)) => err(
            "app.upstream.api_key_parameter",
            "provider v3 takes no key; remove this key or set `provider: v5`".into(),
        ),
        (_, Some(p)) if !is_ssm_name(p) => err(
            "app.upstream.api_key_parameter",
            format!(
                "`{p}` is not an SSM parameter name: start with `/` and use letters, digits and _ . - /"
            ),
        ),
        _ => {}
    }
    let worker_ms = u64::from(s.app.worker.timeout_seconds) * 1000;
    if up.timeout_ms == 0 || u64::from(up.timeout_ms) >= worker_ms {
        err(
            "app.upstream.timeout_ms",
            format!(
                "{} ms must be at least 1 and below the worker timeout ({worker_ms} ms), so a slow upstream is recorded as a failure instead of killing the worker",
                up.timeout_ms
            ),
        );
    }
    let b = &s.app.breaker;
    for (field, value, max, what) in [
        (
            "failure_rate_percent",
            b.failure_rate_percent,
            100,
            "(percent of recent calls failing)",
        ),
        (
            "min_calls",
            b.min_calls,
            10_000,
            "calls (0 would let one failure decide)",
        ),
        (
            "trial_calls",
            b.trial_calls,
            100,
            "trial calls (0 would keep it open)",
        ),
    ] {
        if !(1..=max).contains(&value) {
            err(
                &format!("app.breaker.{field}"),
                format!("allowed: 1 to {max} {what}"),
            );
        }
    }
    if u64::from(b.window_seconds) * 1000 <= u64::from(up.timeout_ms) {
        err(
            "app.breaker.window_seconds",
            format!(
                "{} s must be longer than app.upstream.timeout_ms ({} ms), so a trial call ends within its half-open period",
                b.window_seconds, up.timeout_ms
            ),
        );
    }

    if let Some(email) = &s.alarms.email {
        if !email.contains('@') || email.contains(char::is_whitespace) {
            err(
                "alarms.email",
                format!("`{email}` is not an e-mail address"),
            );
        }
        if s.local.is_some() {
            err(
                "alarms.email",
                "a local stage has no alarm topic to subscribe to; remove this key".into(),
            );
        }
    }
    if s.app.active_tracing && s.local.is_some() {
        err(
            "app.active_tracing",
            "a local stage runs on the emulator, which has no X-Ray; remove this key or set it to false".into(),
        );
    }
    let (lo, hi) = OLDEST_REQUEST_MINUTES;
    if !(lo..=hi).contains(&s.alarms.oldest_request_minutes) {
        err(
            "alarms.oldest_request_minutes",
            format!(
                "{} is not allowed: {lo}-{hi} minutes (SQS keeps a message at most 14 days)",
                s.alarms.oldest_request_minutes
            ),
        );
    }
    if s.alarms.error_threshold == 0 {
        err("alarms.error_threshold", "allowed: 1 or more errors".into());
    }
    if s.alarms.period_seconds == 0 || !s.alarms.period_seconds.is_multiple_of(60) {
        err(
            "alarms.period_seconds",
            format!(
                "{} is not allowed: use a multiple of 60 seconds",
                s.alarms.period_seconds
            ),
        );
    }

    for (key, value) in &s.tags {
        if key.is_empty() || key.len() > 128 || key.starts_with("aws:") || value.len() > 256 {
            err(
                &format!("tags.{key}"),
                "tag keys are 1-128 characters and may not start with `aws:`; values at most 256"
                    .into(),
            );
        }
    }

    if let Some(local) = &s.local {
        let ports = [
            ("local.emulator_port", local.emulator_port),
            ("local.api_port", local.api_port),
            ("local.upstream_port", local.upstream_port),
        ];
        let mut seen = BTreeMap::new();
        for (field, port) in ports {
            if port < 1024 {
                err(
                    field,
                    format!("{port} is a privileged port; allowed: 1024-65535"),
                );
            } else if let Some(other) = seen.insert(port, field) {
                err(
                    field,
                    format!(
                        "{port} is already used by {other}; each local process needs its own port"
                    ),
                );
            }
        }
    }
    limits::check(stage, &mut err);

    release::check(s, &mut err);

    // Last: it reports at a fallback position, so it pushes directly.
    if let Some(message) = rules::approval_missing(stage) {
        out.push(at_or(stage, "approval", "promote_from", message));
    }
}

fn check_function(
    f: &FunctionSettings,
    prefix: &str,
    max_timeout: u32,
    err: &mut impl FnMut(&str, String),
) {
    let (lo, hi) = MEMORY_MB;
    if !(lo..=hi).contains(&f.memory_mb) {
        err(
            &format!("{prefix}.memory_mb"),
            format!(
                "{} MB is outside what Lambda allows: {lo}-{hi}",
                f.memory_mb
            ),
        );
    }
    let lo = TIMEOUT_SECONDS.0;
    if !(lo..=max_timeout).contains(&f.timeout_seconds) {
        let why = if max_timeout < TIMEOUT_SECONDS.1 {
            " (the HTTP API waits at most 30 s)"
        } else {
            ""
        };
        err(
            &format!("{prefix}.timeout_seconds"),
            format!(
                "{} s is not allowed: {lo}-{max_timeout}{why}",
                f.timeout_seconds
            ),
        );
    }
    if f.reserved_concurrency == Some(0) {
        err(
            &format!("{prefix}.reserved_concurrency"),
            "0 would stop the function; allowed: 1 or more, or omit the key for no cap".into(),
        );
    }
}

mod accounts;
mod chain;
mod concurrency;
mod limits;
mod names;
pub mod release;

#[cfg(test)]
mod tests;
