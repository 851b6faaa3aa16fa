//! The typed stage file, `stages/<stage>.yaml`.
//!
//! Every key is declared here and unknown keys are rejected
//! (`deny_unknown_fields`), so a typo fails loudly instead of silently
//! falling back to a default. docs/stages.md documents the same fields for
//! people; keep the two in step.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod limits;
mod release;
pub use limits::{OfflineFaults, ThrottlingSettings};
pub use release::{ReleaseSettings, TrafficShift};

/// One stage file. The stage's name is the file's stem (`dev.yaml` is `dev`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StageFile {
    /// The 12-digit AWS account the stage must run in (quoted: leading zeros matter).
    pub account: String,
    /// The AWS region of the stage's stack, e.g. `us-east-1`.
    pub region: String,
    /// Where the Terraform outputs come from. Required for cloud stages; a
    /// local stage has none (it uses built-in values, see `outputs::local`).
    #[serde(default)]
    pub terraform_outputs: Option<OutputsSource>,
    /// The stage whose running artifact this one is promoted from; none for
    /// a stage built from source (dev, local).
    #[serde(default)]
    pub promote_from: Option<String>,
    /// Whether a person must approve each deploy (required for prod).
    #[serde(default)]
    pub approval: bool,
    /// The service's settings: sizes, logging, upstream, breaker, cache.
    pub app: AppSettings,
    /// Alarm settings; alarms notify the Terraform alarm topic when there is one.
    #[serde(default)]
    pub alarms: AlarmSettings,
    /// Tags put on the stack (CloudFormation copies them to every resource).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Present only for a stage that runs on this machine against the emulator.
    #[serde(default)]
    pub local: Option<LocalSettings>,
    /// A stage in an account of its own: the role there that every command on
    /// the stage assumes first (infrastructure/stage-account output
    /// `deploy_role_arn`). In `account`; none when the caller's credentials
    /// are the stage's account (one account for everything).
    #[serde(default)]
    pub deploy_role_arn: Option<String>,
    /// The role there that the next stage's promotion reads this stage's stack
    /// with (output `reader_role_arn`); needed when a stage promotes from this one.
    #[serde(default)]
    pub reader_role_arn: Option<String>,
    /// The `sts:ExternalId` those roles require (their `external_ids`). Not a
    /// secret (AWS says so): it guards against a confused deputy, not a leak.
    #[serde(default)]
    pub external_id: Option<String>,
    /// How a release reaches traffic and what rolls it back (all at once, no
    /// monitoring window, when absent).
    #[serde(default)]
    pub release: ReleaseSettings,
}

/// Where `terraform output -json` comes from: exactly one of the two keys.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsSource {
    /// Run `terraform -chdir=<dir> output -json` (relative to the repository root).
    #[serde(default)]
    pub chdir: Option<String>,
    /// Read a saved `terraform output -json` file (relative to the repository root).
    #[serde(default)]
    pub file: Option<String>,
}

/// Settings the functions get, through their environment and the stack.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    /// CPU architecture of both functions (`x86_64` or `arm64`).
    pub architecture: Architecture,
    /// `LOG_LEVEL` of both functions.
    pub log_level: LogLevel,
    /// Days CloudWatch keeps the function logs (one of the values CloudWatch allows).
    #[serde(default = "default_log_retention_days")]
    pub log_retention_days: u32,
    /// The HTTP API function.
    pub api: FunctionSettings,
    /// The queue worker function.
    pub worker: FunctionSettings,
    /// The REST Countries provider the worker fetches from.
    pub upstream: UpstreamSettings,
    /// The shared circuit breaker in front of the upstream.
    #[serde(default)]
    pub breaker: BreakerSettings,
    /// Caching of view-data answers.
    #[serde(default)]
    pub cache: CacheSettings,
    /// X-Ray active tracing on both functions (`TracingConfig: Active`); off
    /// by default, and never on a local stage (the emulator has no X-Ray).
    #[serde(default)]
    pub active_tracing: bool,
    /// Request limits of the HTTP API stage (API Gateway answers 429 over them).
    #[serde(default)]
    pub throttling: ThrottlingSettings,
}

/// Size and limits of one Lambda function.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSettings {
    /// Memory in MB, 128-10240 (CPU grows with it).
    pub memory_mb: u32,
    /// Timeout in seconds: 1-900; the api at most 30 (the HTTP API gives up after 30 s).
    pub timeout_seconds: u32,
    /// Reserved concurrency: caps the function (and, for the worker, the
    /// upstream request rate). Omit for no cap.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// The worker only: the most instances its queue trigger runs at once
    /// (`ScalingConfig.MaximumConcurrency`), so the most upstream calls in
    /// flight, without reserving any of the account's concurrency. Defaults
    /// to `reserved_concurrency`.
    #[serde(default)]
    pub max_concurrency: Option<u32>,
}

/// CPU architecture of the functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Architecture {
    /// Intel/AMD 64-bit.
    #[serde(rename = "x86_64")]
    X86_64,
    /// Graviton; cheaper per GB-second.
    #[serde(rename = "arm64")]
    Arm64,
}

/// The app's `LOG_LEVEL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// The default.
    Info,
    /// Verbose.
    Debug,
    /// Very verbose.
    Trace,
}

/// Which upstream the worker calls and how.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSettings {
    /// `v3` (a v3.1-compatible server, e.g. the offline one) or `v5` (the live API, needs a key).
    pub provider: Provider,
    /// Base URL, e.g. `http://127.0.0.1:8081` or `https://api.restcountries.com/countries/v5`.
    pub base_url: String,
    /// SSM SecureString parameter holding the v5 key (the name, never the value). v5 only.
    #[serde(default)]
    pub api_key_parameter: Option<String>,
    /// Per-request timeout in milliseconds; must end before the worker's own timeout.
    #[serde(default = "default_upstream_timeout_ms")]
    pub timeout_ms: u32,
    /// A country stored more recently than this is not fetched again without `force`.
    #[serde(default = "default_refresh_after_seconds")]
    pub refresh_after_seconds: u32,
    /// Upstream calls allowed per UTC calendar month; `0` is unlimited.
    /// Absent: the provider's default (`monthly_budget()`).
    #[serde(default)]
    pub monthly_budget: Option<u32>,
    /// A forced fetch per country at most this often; within it `force=true` is served as a normal request.
    #[serde(default = "default_force_cooldown_seconds")]
    pub force_cooldown_seconds: u32,
}

impl UpstreamSettings {
    /// The monthly budget in force (0: unlimited): the stage file's, or 500
    /// for v5 (its free tier) and unlimited for v3 (the offline server).
    pub fn monthly_budget(&self) -> u32 {
        self.monthly_budget.unwrap_or(match self.provider {
            Provider::V5 => 500,
            Provider::V3 => 0,
        })
    }
}

/// The upstream protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// REST Countries v3.1 shape, no key.
    V3,
    /// REST Countries v5, bearer key from SSM.
    V5,
}

/// Circuit breaker settings: it opens on a failure rate over enough calls,
/// so a flaky upstream that answers most calls is not treated as a dead one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSettings {
    /// Share of recent calls failing, in percent, that opens the breaker.
    #[serde(default = "default_breaker_failure_rate_percent")]
    pub failure_rate_percent: u32,
    /// Recent calls (this window and the one before) needed before the rate counts.
    #[serde(default = "default_breaker_min_calls")]
    pub min_calls: u32,
    /// Counting window and open time, in seconds.
    #[serde(default = "default_breaker_window_seconds")]
    pub window_seconds: u32,
    /// Trial calls when half-open; that many successes close it.
    #[serde(default = "default_breaker_trial_calls")]
    pub trial_calls: u32,
}

/// view-data caching.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// In-process cache TTL per function instance; 0 disables it.
    #[serde(default = "default_view_cache_ttl_seconds")]
    pub view_ttl_seconds: u32,
    /// `Cache-Control: max-age` sent on view-data.
    #[serde(default = "default_http_max_age_seconds")]
    pub http_max_age_seconds: u32,
}

/// Alarm settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmSettings {
    /// An address subscribed (by the stack) to the alarm topic; it must confirm once.
    #[serde(default)]
    pub email: Option<String>,
    /// Function errors within one period that raise the errors alarm.
    #[serde(default = "default_error_threshold")]
    pub error_threshold: u32,
    /// Alarm evaluation period in seconds (a multiple of 60).
    #[serde(default = "default_alarm_period_seconds")]
    pub period_seconds: u32,
    /// Minutes the oldest fetch request may wait in the queue before its alarm fires.
    #[serde(default = "default_oldest_request_minutes")]
    pub oldest_request_minutes: u32,
}

/// Ports of the local stage's processes (all on 127.0.0.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LocalSettings {
    /// The AWS emulator (moto server); the functions get `AWS_ENDPOINT_URL` from it.
    pub emulator_port: u16,
    /// The local `api` process (`PORT`).
    pub api_port: u16,
    /// The offline REST Countries v3.1 server (when the stage's upstream is it).
    pub upstream_port: u16,
    /// Fault switches of the offline server, to watch the breaker and the
    /// dead-letter queue at work; only when `up local` runs that server.
    #[serde(default)]
    pub faults: Option<OfflineFaults>,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            failure_rate_percent: default_breaker_failure_rate_percent(),
            min_calls: default_breaker_min_calls(),
            window_seconds: default_breaker_window_seconds(),
            trial_calls: default_breaker_trial_calls(),
        }
    }
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            view_ttl_seconds: default_view_cache_ttl_seconds(),
            http_max_age_seconds: default_http_max_age_seconds(),
        }
    }
}

impl Default for AlarmSettings {
    fn default() -> Self {
        Self {
            email: None,
            error_threshold: default_error_threshold(),
            period_seconds: default_alarm_period_seconds(),
            oldest_request_minutes: default_oldest_request_minutes(),
        }
    }
}

impl Architecture {
    /// The name Lambda and the stage file use.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

impl LogLevel {
    /// The value of `LOG_LEVEL`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

impl Provider {
    /// The value of `UPSTREAM_PROVIDER`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::V3 => "v3",
            Provider::V5 => "v5",
        }
    }
}

fn default_log_retention_days() -> u32 {
    30
}
fn default_upstream_timeout_ms() -> u32 {
    5000
}
fn default_refresh_after_seconds() -> u32 {
    86400
}
fn default_force_cooldown_seconds() -> u32 {
    300
}
fn default_breaker_failure_rate_percent() -> u32 {
    50
}
fn default_breaker_min_calls() -> u32 {
    10
}
fn default_breaker_trial_calls() -> u32 {
    1
}
fn default_breaker_window_seconds() -> u32 {
    300
}
fn default_view_cache_ttl_seconds() -> u32 {
    30
}
fn default_http_max_age_seconds() -> u32 {
    60
}
fn default_error_threshold() -> u32 {
    1
}
fn default_alarm_period_seconds() -> u32 {
    300
}
fn default_oldest_request_minutes() -> u32 {
    15
}
