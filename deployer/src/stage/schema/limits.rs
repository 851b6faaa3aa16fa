//! The stage file's request limits and the local stage's fault switches:
//! API Gateway throttling of the HTTP API, the offline upstream's faults.

use serde::{Deserialize, Serialize};

/// API Gateway throttling of the HTTP API's stage: a steady rate (requests
/// per second) and a burst, for every route and, tighter, for fetch-data.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottlingSettings {
    /// Steady requests per second across the API (the stage's default route settings).
    #[serde(default = "default_rate_limit")]
    pub rate_limit: u32,
    /// Requests the API takes at once above the steady rate.
    #[serde(default = "default_burst_limit")]
    pub burst_limit: u32,
    /// Steady requests per second on fetch-data (every method), at most `rate_limit`.
    #[serde(default = "default_fetch_data_rate_limit")]
    pub fetch_data_rate_limit: u32,
    /// Burst on fetch-data, at most `burst_limit`.
    #[serde(default = "default_fetch_data_burst_limit")]
    pub fetch_data_burst_limit: u32,
}

impl Default for ThrottlingSettings {
    fn default() -> Self {
        Self {
            rate_limit: default_rate_limit(),
            burst_limit: default_burst_limit(),
            fetch_data_rate_limit: default_fetch_data_rate_limit(),
            fetch_data_burst_limit: default_fetch_data_burst_limit(),
        }
    }
}

/// The offline upstream's fault switches (its `--fail-per-mille`,
/// `--stall-per-mille`, `--stall-ms` and `--delay-ms` flags).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineFaults {
    /// Requests out of 1000 answered 500.
    #[serde(default)]
    pub fail_per_mille: u32,
    /// Requests out of 1000 that stall for `stall_ms` before answering.
    #[serde(default)]
    pub stall_per_mille: u32,
    /// How long a stalled request waits, in ms (past `app.upstream.timeout_ms` it is a timeout).
    #[serde(default)]
    pub stall_ms: u32,
    /// Delay added to every answer, in ms.
    #[serde(default)]
    pub delay_ms: u32,
}

fn default_rate_limit() -> u32 {
    50
}
fn default_burst_limit() -> u32 {
    100
}
fn default_fetch_data_rate_limit() -> u32 {
    5
}
fn default_fetch_data_burst_limit() -> u32 {
    10
}
