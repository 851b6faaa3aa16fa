//! Configuration from environment variables, parsed once at start.
//!
//! Parsing is pure (it takes a lookup function), so every rule is unit
//! tested; a missing or malformed variable stops the process with a message
//! that names it. The variables are listed in `docs/contract.md`.

use crate::breaker::BreakerSettings;
use crate::error::Error;
use crate::guard::Budget;
use std::time::Duration;

/// Settings both functions share.
#[derive(Debug, Clone)]
pub struct Common {
    /// Stage name, logged on every line.
    pub stage: String,
    /// `tracing` filter level.
    pub log_level: String,
    /// `countries-<stage>`.
    pub countries_table: String,
    /// `status-<stage>`.
    pub status_table: String,
    /// The fetch queue's URL (no GetQueueUrl per request).
    pub queue_url: String,
}

/// The `api` function's settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Shared settings.
    pub common: Common,
    /// In-process view-data cache lifetime; zero disables the cache.
    pub view_cache_ttl: Duration,
    /// `Cache-Control: max-age` sent with view-data.
    pub http_max_age_seconds: u64,
    /// Local TCP port (ignored inside Lambda).
    pub port: u16,
    /// The monthly upstream budget: spent, fetch-data answers 429.
    pub budget: Budget,
    /// A forced fetch per country at most this often.
    pub force_cooldown: Duration,
    /// How long a pending marker holds without a final outcome: a message's
    /// whole life in the queue, so a lost one never blocks its country longer.
    pub pending_ttl: Duration,
}

/// Which upstream protocol the worker speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// A REST Countries v3.1-compatible server (`/v3.1/alpha/{code}`).
    V3,
    /// REST Countries v5 (`/alpha_2/{code}`, bearer key, mapped to v3.1).
    V5,
}

/// Where the v5 API key comes from. Never the key's value in config files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// No key (v3 providers).
    None,
    /// An SSM SecureString parameter, read once at start.
    Parameter(String),
    /// The `UPSTREAM_API_KEY` variable (local use).
    Env(String),
}

/// The `worker` function's settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Shared settings.
    pub common: Common,
    /// `circuit-breaker-state-<stage>`.
    pub breaker_table: String,
    /// Dead-letter queue, for `worker redrive`.
    pub dlq_url: Option<String>,
    /// Upstream protocol.
    pub provider: Provider,
    /// Upstream base URL, without a trailing slash.
    pub upstream_base_url: String,
    /// Where the v5 key comes from.
    pub api_key: KeySource,
    /// Per-request upstream timeout.
    pub upstream_timeout: Duration,
    /// Breaker threshold and window.
    pub breaker: BreakerSettings,
    /// A country stored more recently than this is served from the store.
    pub refresh_after: Duration,
    /// The monthly upstream budget each call takes a unit from.
    pub budget: Budget,
    /// The queue's `maxReceiveCount`: a delivery with this receive count
    /// that is retried goes to the dead-letter queue, which ends its request.
    pub max_receive_count: u32,
}

/// Reads variables through `lookup`, so tests need not touch the process environment.
struct Vars<F: Fn(&str) -> Option<String>>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn optional(&self, name: &'static str) -> Option<String> {
        (self.0)(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, Error> {
        self.optional(name).ok_or_else(|| Error::Config {
            name,
            problem: "is not set; see docs/contract.md for what it holds".into(),
        })
    }

    fn number<T>(&self, name: &'static str, default: T, min: T, max: T) -> Result<T, Error>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(raw) = self.optional(name) else { return Ok(default) };
        let value: T = raw.parse().map_err(|_| Error::Config {
            name,
            problem: format!("must be a whole number from {min} to {max}, got {raw:?}"),
        })?;
        if value < min || value > max {
            return Err(Error::Config { name, problem: format!("must be from {min} to {max}, got {value}") });
        }
        Ok(value)
    }

    fn url(&self, name: &'static str) -> Result<String, Error> {
        let raw = self.required(name)?;
        checked_url(name, &raw)
    }

    fn optional_url(&self, name: &'static str) -> Result<Option<String>, Error> {
        self.optional(name).map(|raw| checked_url(name, &raw)).transpose()
    }
}

/// An http(s) URL with a host and nothing after the path (a query or fragment
/// would silently change every request built on it), without a trailing slash.
fn checked_url(name: &'static str, raw: &str) -> Result<String, Error> {
    let problem = match reqwest::Url::parse(raw) {
        Err(e) => Some(format!("is not a URL ({e})")),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => Some("must use http:// or https://".into()),
        Ok(url) if url.host_str().is_none_or(str::is_empty) => Some("has no host".into()),
        Ok(url) if url.query().is_some() || url.fragment().is_some() => Some("must not have a query or fragment".into()),
        Ok(_) => None,
    };
    match problem {
        Some(problem) => Err(Error::Config { name, problem: format!("{problem}: expected e.g. http://127.0.0.1:8081, got {raw:?}") }),
        None => Ok(raw.trim_end_matches('/').to_string()),
    }
}

const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

fn common<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Common, Error> {
    let log_level = vars.optional("LOG_LEVEL").unwrap_or_else(|| "info".into()).to_ascii_lowercase();
    if !LOG_LEVELS.contains(&log_level.as_str()) {
        return Err(Error::Config { name: "LOG_LEVEL", problem: format!("must be one of {}, got {log_level:?}", LOG_LEVELS.join(", ")) });
    }
    // Read by the AWS SDK, not by us; checked so a typo stops the process instead of failing every call.
    vars.optional_url("AWS_ENDPOINT_URL")?;
    Ok(Common {
        stage: vars.optional("STAGE").unwrap_or_else(|| "local".into()),
        log_level,
        countries_table: vars.required("COUNTRIES_TABLE")?,
        status_table: vars.required("STATUS_TABLE")?,
        queue_url: vars.url("QUEUE_URL")?,
    })
}

impl ApiConfig {
    /// Parses the api's variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = Vars(lookup);
        Ok(Self {
            common: common(&vars)?,
            view_cache_ttl: Duration::from_secs(vars.number("VIEW_CACHE_TTL_SECONDS", 30, 0, 86_400)?),
            http_max_age_seconds: vars.number("HTTP_MAX_AGE_SECONDS", 60, 0, 31_536_000)?,
            port: vars.number("PORT", 3000, 0, 65_535)?,
            budget: Budget::from_setting(vars.number("UPSTREAM_MONTHLY_BUDGET", 0, 0, 100_000_000)?),
            force_cooldown: Duration::from_secs(vars.number("FORCE_COOLDOWN_SECONDS", 300, 0, 31_536_000)?),
            pending_ttl: Duration::from_secs(vars.number("PENDING_TTL_SECONDS", 720, 1, 604_800)?),
        })
    }

    /// Parses the api's variables from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

impl WorkerConfig {
    /// Parses the worker's variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = Vars(lookup);
        let provider = match vars.required("UPSTREAM_PROVIDER")?.as_str() {
            "v3" => Provider::V3,
            "v5" => Provider::V5,
            other => {
                return Err(Error::Config { name: "UPSTREAM_PROVIDER", problem: format!("must be v3 or v5, got {other:?}") });
            }
        };
        let api_key = match (vars.optional("UPSTREAM_API_KEY_PARAMETER"), vars.optional("UPSTREAM_API_KEY")) {
            (Some(parameter), _) => KeySource::Parameter(parameter),
            (None, Some(key)) => KeySource::Env(key),
            (None, None) if provider == Provider::V5 => {
                return Err(Error::Config {
                    name: "UPSTREAM_API_KEY_PARAMETER",
                    problem: "the v5 provider needs a key: set UPSTREAM_API_KEY_PARAMETER (an SSM SecureString name) or UPSTREAM_API_KEY".into(),
                });
            }
            (None, None) => KeySource::None,
        };
        let window_seconds: i64 = vars.number("BREAKER_WINDOW_SECONDS", 300, 1, 86_400)?;
        let upstream_timeout_ms: u64 = vars.number("UPSTREAM_TIMEOUT_MS", 5000, 1, 60_000)?;
        if window_seconds * 1000 <= upstream_timeout_ms as i64 {
            // A trial still waiting on the upstream when its half-open period
            // ends would have its answer dropped: the breaker could not reopen.
            return Err(Error::Config {
                name: "BREAKER_WINDOW_SECONDS",
                problem: format!("must be longer than UPSTREAM_TIMEOUT_MS ({upstream_timeout_ms} ms), so a trial call ends within its half-open period"),
            });
        }
        let common = common(&vars)?;
        let dlq_url = vars.optional_url("DLQ_URL")?;
        if dlq_url.as_deref() == Some(common.queue_url.as_str()) {
            return Err(Error::Config { name: "DLQ_URL", problem: "is the same queue as QUEUE_URL; it must name the dead-letter queue".into() });
        }
        Ok(Self {
            common,
            breaker_table: vars.required("BREAKER_TABLE")?,
            dlq_url,
            provider,
            upstream_base_url: vars.url("UPSTREAM_BASE_URL")?,
            api_key,
            upstream_timeout: Duration::from_millis(upstream_timeout_ms),
            breaker: BreakerSettings {
                failure_rate_percent: vars.number("BREAKER_FAILURE_RATE_PERCENT", 50, 1, 100)?,
                min_calls: vars.number("BREAKER_MIN_CALLS", 10, 1, 10_000)?,
                window_ms: window_seconds * 1000,
                trial_calls: vars.number("BREAKER_TRIAL_CALLS", 1, 1, 100)?,
            },
            refresh_after: Duration::from_secs(vars.number("REFRESH_AFTER_SECONDS", 86_400, 0, 31_536_000)?),
            budget: Budget::from_setting(vars.number("UPSTREAM_MONTHLY_BUDGET", 0, 0, 100_000_000)?),
            max_receive_count: vars.number("MAX_RECEIVE_COUNT", 4, 1, 1_000)?,
        })
    }

    /// Parses the worker's variables from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const BASE: [(&str, &str); 7] = [
        ("COUNTRIES_TABLE", "countries-dev"),
        ("STATUS_TABLE", "status-dev"),
        ("BREAKER_TABLE", "circuit-breaker-state-dev"),
        ("QUEUE_URL", "http://127.0.0.1:5000/123456789012/countries-fetch-dev"),
        ("UPSTREAM_PROVIDER", "v3"),
        ("UPSTREAM_BASE_URL", "http://127.0.0.1:8081/"),
        ("STAGE", "dev"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut all: Vec<_> = BASE.iter().copied().filter(|(k, _)| !extra.iter().any(|(e, _)| e == k)).collect();
        all.extend(extra.iter().copied().filter(|(_, v)| !v.is_empty()));
        all
    }

    #[test]
    fn defaults_apply() {
        let w = WorkerConfig::from_lookup(env(&BASE)).unwrap();
        assert_eq!(w.breaker, BreakerSettings { failure_rate_percent: 50, min_calls: 10, window_ms: 300_000, trial_calls: 1 });
        assert_eq!(w.upstream_base_url, "http://127.0.0.1:8081");
        assert_eq!(w.refresh_after, Duration::from_secs(86_400));
        assert_eq!(w.api_key, KeySource::None);
        assert_eq!((w.budget, w.max_receive_count), (Budget::Unlimited, 4));
        let a = ApiConfig::from_lookup(env(&BASE)).unwrap();
        assert_eq!(a.port, 3000);
        assert_eq!((a.budget, a.force_cooldown, a.pending_ttl), (Budget::Unlimited, Duration::from_secs(300), Duration::from_secs(720)));
        let limited = ApiConfig::from_lookup(env(&with(&[("UPSTREAM_MONTHLY_BUDGET", "500"), ("PENDING_TTL_SECONDS", "0")])));
        assert!(limited.unwrap_err().to_string().contains("PENDING_TTL_SECONDS"));
        let limited = ApiConfig::from_lookup(env(&with(&[("UPSTREAM_MONTHLY_BUDGET", "500")]))).unwrap();
        assert_eq!(limited.budget, Budget::Monthly(500));
        assert_eq!(a.common.log_level, "info");
    }

    #[test]
    fn missing_variable_is_named() {
        let err = ApiConfig::from_lookup(env(&with(&[("QUEUE_URL", "")]))).unwrap_err();
        assert!(err.to_string().contains("QUEUE_URL"), "{err}");
    }

    #[test]
    fn the_breaker_window_outlasts_an_upstream_call() {
        let err = WorkerConfig::from_lookup(env(&with(&[("BREAKER_WINDOW_SECONDS", "5"), ("UPSTREAM_TIMEOUT_MS", "5000")]))).unwrap_err();
        assert!(err.to_string().contains("BREAKER_WINDOW_SECONDS must be longer than UPSTREAM_TIMEOUT_MS (5000 ms)"), "{err}");
        assert!(WorkerConfig::from_lookup(env(&with(&[("BREAKER_WINDOW_SECONDS", "6"), ("UPSTREAM_TIMEOUT_MS", "5000")]))).is_ok());
    }

    #[test]
    fn numbers_are_numbers_not_strings() {
        let err = WorkerConfig::from_lookup(env(&with(&[("BREAKER_MIN_CALLS", "five")]))).unwrap_err();
        assert!(err.to_string().contains("BREAKER_MIN_CALLS"), "{err}");
        let err = WorkerConfig::from_lookup(env(&with(&[("BREAKER_FAILURE_RATE_PERCENT", "101")]))).unwrap_err();
        assert!(err.to_string().contains("from 1 to"), "{err}");
        let w = WorkerConfig::from_lookup(env(&with(&[("BREAKER_MIN_CALLS", " 7 ")]))).unwrap();
        assert_eq!(w.breaker.min_calls, 7);
    }

    #[test]
    fn v5_needs_a_key_source() {
        let err = WorkerConfig::from_lookup(env(&with(&[("UPSTREAM_PROVIDER", "v5")]))).unwrap_err();
        assert!(err.to_string().contains("UPSTREAM_API_KEY_PARAMETER"), "{err}");
        let w = WorkerConfig::from_lookup(env(&with(&[
            ("UPSTREAM_PROVIDER", "v5"),
            ("UPSTREAM_API_KEY_PARAMETER", "/countries/dev/key"),
        ])))
        .unwrap();
        assert_eq!(w.api_key, KeySource::Parameter("/countries/dev/key".into()));
    }

    #[test]
    fn bad_provider_url_and_level_are_rejected() {
        for (name, value) in [
            ("UPSTREAM_PROVIDER", "v4"),
            ("UPSTREAM_BASE_URL", "ftp://x"),
            ("UPSTREAM_BASE_URL", "http://"),
            ("UPSTREAM_BASE_URL", "http://exa mple"),
            ("UPSTREAM_BASE_URL", "http://127.0.0.1:8081/?x=1#"),
            ("AWS_ENDPOINT_URL", "not-a-url"),
            ("DLQ_URL", "countries-dlq"),
            ("DLQ_URL", "http://127.0.0.1:5000/123456789012/countries-fetch-dev"),
            ("LOG_LEVEL", "loud"),
        ] {
            let err = WorkerConfig::from_lookup(env(&with(&[(name, value)]))).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
