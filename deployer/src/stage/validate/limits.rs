//! Checks of the public API's guards (API Gateway throttling, the force
//! cooldown, the monthly upstream budget) and of the local stage's fault
//! switches for the offline upstream.

use crate::stage::load::Stage;
use crate::stage::rules;

/// API Gateway's default account quota: 10,000 requests per second, burst 5,000.
const MAX_RATE: u32 = 10_000;
const MAX_BURST: u32 = 5_000;
/// The longest force cooldown the api accepts (`FORCE_COOLDOWN_SECONDS`): a year.
const MAX_COOLDOWN_SECONDS: u32 = 31_536_000;
/// The largest monthly budget the functions accept (`UPSTREAM_MONTHLY_BUDGET`).
const MAX_MONTHLY_BUDGET: u32 = 100_000_000;
/// The longest stall or delay the offline upstream is given: 10 minutes.
const MAX_FAULT_MS: u32 = 600_000;

pub(super) fn check(stage: &Stage, err: &mut impl FnMut(&str, String)) {
    let app = &stage.spec.app;
    let t = &app.throttling;
    for (field, value, max, what) in [
        (
            "rate_limit",
            t.rate_limit,
            MAX_RATE,
            "requests per second (API Gateway's account default is 10,000)",
        ),
        (
            "burst_limit",
            t.burst_limit,
            MAX_BURST,
            "requests (API Gateway's account default burst is 5,000)",
        ),
        (
            "fetch_data_rate_limit",
            t.fetch_data_rate_limit,
            t.rate_limit,
            "requests per second: no more than `rate_limit`",
        ),
        (
            "fetch_data_burst_limit",
            t.fetch_data_burst_limit,
            t.burst_limit,
            "requests: no more than `burst_limit`",
        ),
    ] {
        if !(1..=max).contains(&value) {
            err(
                &format!("app.throttling.{field}"),
                format!("{value} is not allowed: 1 to {max} {what} (0 would refuse every request)"),
            );
        }
    }
    let up = &app.upstream;
    if up.force_cooldown_seconds > MAX_COOLDOWN_SECONDS {
        err(
            "app.upstream.force_cooldown_seconds",
            format!(
                "{} s is not allowed: 0 (every forced fetch honoured) to {MAX_COOLDOWN_SECONDS} (a year)",
                up.force_cooldown_seconds
            ),
        );
    }
    if up.monthly_budget() > MAX_MONTHLY_BUDGET {
        err(
            "app.upstream.monthly_budget",
            format!(
                "{} is not allowed: 1 to {MAX_MONTHLY_BUDGET} upstream calls a month, or 0 for no limit",
                up.monthly_budget()
            ),
        );
    }

    let Some(faults) = stage.spec.local.as_ref().and_then(|l| l.faults.as_ref()) else {
        return;
    };
    if !rules::runs_offline_upstream(stage) {
        err(
            "local.faults",
            format!(
                "fault switches belong to the offline upstream, but this stage's upstream is {} ({}); remove `faults` or point app.upstream at the offline server (v3, http://127.0.0.1:<local.upstream_port>)",
                up.base_url,
                up.provider.as_str()
            ),
        );
    }
    for (field, value) in [
        ("fail_per_mille", faults.fail_per_mille),
        ("stall_per_mille", faults.stall_per_mille),
    ] {
        if value > 1000 {
            err(
                &format!("local.faults.{field}"),
                format!("{value} is not allowed: 0 to 1000 requests out of 1000"),
            );
        }
    }
    if faults.fail_per_mille <= 1000
        && faults.stall_per_mille <= 1000
        && faults.fail_per_mille + faults.stall_per_mille > 1000
    {
        err(
            "local.faults.stall_per_mille",
            format!(
                "fail_per_mille + stall_per_mille is {}: together at most 1000 (out of 1000 requests)",
                faults.fail_per_mille + faults.stall_per_mille
            ),
        );
    }
    if faults.stall_per_mille > 0 && faults.stall_ms == 0 {
        err("local.faults.stall_ms", "stall_per_mille is set but stall_ms is 0: a stall of 0 ms stalls nothing; give it e.g. 3000".into());
    }
    for (field, value) in [("stall_ms", faults.stall_ms), ("delay_ms", faults.delay_ms)] {
        if value > MAX_FAULT_MS {
            err(
                &format!("local.faults.{field}"),
                format!("{value} ms is not allowed: 0 to {MAX_FAULT_MS} (10 minutes)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::stage::validate::tests::stage;
    use crate::stage::validate::validate;

    const LOCAL: &str = "account: '123456789012'
region: us-east-1
app:
  architecture: x86_64
  log_level: info
  api:
    memory_mb: 256
    timeout_seconds: 10
  worker:
    memory_mb: 256
    timeout_seconds: 30
  upstream:
    provider: v3
    base_url: http://127.0.0.1:8081
    monthly_budget: 100
    force_cooldown_seconds: 60
  throttling:
    rate_limit: 50
    burst_limit: 100
    fetch_data_rate_limit: 5
    fetch_data_burst_limit: 10
local:
  emulator_port: 4599
  api_port: 3000
  upstream_port: 8081
  faults:
    fail_per_mille: 600
    stall_per_mille: 100
    stall_ms: 3000
";

    fn fields(text: &str) -> Vec<(usize, String)> {
        validate(&[stage("local", text)])
            .into_iter()
            .map(|d| (d.line, d.field))
            .collect()
    }

    #[test]
    fn a_stage_with_every_guard_and_fault_set_passes() {
        assert_eq!(fields(LOCAL), vec![]);
    }

    #[test]
    fn throttling_is_in_range_and_fetch_data_is_no_looser_than_the_api() {
        let text = LOCAL
            .replace("rate_limit: 50", "rate_limit: 0")
            .replace("burst_limit: 100", "burst_limit: 6000")
            .replace("fetch_data_burst_limit: 10", "fetch_data_burst_limit: 7000");
        let d = validate(&[stage("local", &text)]);
        let got: Vec<(usize, &str)> = d.iter().map(|d| (d.line, d.field.as_str())).collect();
        assert_eq!(
            got,
            [
                (18, "app.throttling.rate_limit"),
                (19, "app.throttling.burst_limit"),
                (20, "app.throttling.fetch_data_rate_limit"),
                (21, "app.throttling.fetch_data_burst_limit"),
            ],
            "{d:?}"
        );
        assert!(
            d[0].message.contains("0 would refuse every request"),
            "{}",
            d[0]
        );
        assert!(
            d[2].message.contains("no more than `rate_limit`"),
            "{}",
            d[2]
        );
        assert!(
            d[0].to_string()
                .starts_with("stages/local.yaml:18:5: field `app.throttling.rate_limit`"),
            "{}",
            d[0]
        );
    }

    #[test]
    fn the_budget_and_the_cooldown_stay_within_what_the_functions_accept() {
        let text = LOCAL
            .replace("monthly_budget: 100", "monthly_budget: 100000001")
            .replace(
                "force_cooldown_seconds: 60",
                "force_cooldown_seconds: 31536001",
            );
        assert_eq!(
            fields(&text),
            [
                (16, "app.upstream.force_cooldown_seconds".to_string()),
                (15, "app.upstream.monthly_budget".to_string())
            ]
        );
    }

    #[test]
    fn faults_are_per_mille_need_a_stall_time_and_belong_to_the_offline_server() {
        let text = LOCAL
            .replace("fail_per_mille: 600", "fail_per_mille: 950")
            .replace("stall_ms: 3000", "stall_ms: 0");
        assert_eq!(
            fields(&text),
            [
                (28, "local.faults.stall_per_mille".to_string()),
                (29, "local.faults.stall_ms".to_string())
            ]
        );
        // Another upstream (a self-hosted v3 server on another port): allowed, but not with faults.
        let other = LOCAL.replace(
            "base_url: http://127.0.0.1:8081",
            "base_url: http://127.0.0.1:9090",
        );
        let d = validate(&[stage("local", &other)]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].line, d[0].field.as_str()), (26, "local.faults"));
        assert!(
            d[0].message.contains("http://127.0.0.1:9090 (v3)"),
            "{}",
            d[0]
        );
        let without_faults = other.split("  faults:").next().unwrap().to_string();
        assert_eq!(fields(&without_faults), vec![]);
    }
}
