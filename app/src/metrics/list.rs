//! The one list of metric names. The functions emit these (namespace
//! [`NAMESPACE`], dimensions [`DIMENSIONS`]); `app/metrics.json` is this list
//! written out for the deployer, which renders the dashboard and the alarms
//! from it, and a test fails when the two differ (`UPDATE_METRICS=1 cargo
//! test -p countries --lib metrics` rewrites the file). To add a metric, add
//! a variant here and to [`Metric::ALL`], emit it, and refresh the file.
//! A few metrics are not emitted but made by a CloudWatch Logs metric filter
//! from one of the function's log lines ([`Source::LogFilter`]): they carry
//! the `Stage` dimension only, and the stack defines their filter.

use serde_json::{Value, json};

/// The CloudWatch namespace of every metric the functions write.
pub const NAMESPACE: &str = "Countries";

/// The one dimension set of the emitted metrics: the stage, and which function wrote the value.
pub const DIMENSIONS: [&str; 2] = ["Stage", "Function"];

/// How a metric reaches CloudWatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The function writes it (Embedded Metric Format), with [`DIMENSIONS`].
    Emf,
    /// A log metric filter in the stack reads it from the function's log
    /// lines; its only dimension is `Stage`, and it is never in an EMF line.
    LogFilter,
}

impl Source {
    /// `emf` or `log-filter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Emf => "emf",
            Source::LogFilter => "log-filter",
        }
    }

    /// The metric's dimensions.
    pub const fn dimensions(self) -> &'static [&'static str] {
        match self {
            Source::Emf => &DIMENSIONS,
            Source::LogFilter => &["Stage"],
        }
    }
}

/// The function a metric comes from (the `Function` dimension's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Function {
    /// The HTTP API.
    Api,
    /// The queue worker.
    Worker,
}

impl Function {
    /// `api` or `worker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Function::Api => "api",
            Function::Worker => "worker",
        }
    }
}

/// A CloudWatch unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Events; summed over a period.
    Count,
    /// Durations; averaged, maxed or percentiled over a period.
    Milliseconds,
}

impl Unit {
    /// The name CloudWatch uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// Every metric the functions emit; what each one counts is its
/// [`Definition::means`] (see [`Metric::definition`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    FetchStored,
    FetchServedFromStore,
    FetchNotFound,
    FetchMalformed,
    FetchCircuitOpen,
    FetchUpstreamError,
    FetchConfigurationError,
    FetchStorageError,
    FetchBudgetExhausted,
    UpstreamLatency,
    BreakerOpened,
    BreakerClosed,
    BreakerTrial,
    RequestsFetchData,
    RequestsViewData,
    RequestsStatus,
    RequestsOther,
    Responses2xx,
    Responses3xx,
    Responses4xx,
    Responses5xx,
    ViewCacheHits,
    ViewCacheMisses,
    ViewDataLatency,
    UpstreamBudgetUsed,
}

/// What a person needs to know about a metric: the dashboard and `deployer
/// status --metrics` show it under `group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    /// The CloudWatch metric name.
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// The function that writes it.
    pub function: Function,
    /// The dashboard widget it belongs to.
    pub group: &'static str,
    /// What one unit of it means.
    pub means: &'static str,
    /// Emitted by the function, or made from its logs by a metric filter.
    pub source: Source,
}

const OUTCOMES: &str = "Fetch outcomes";
const LATENCY: &str = "Upstream latency";
const BREAKER: &str = "Circuit breaker";
const ROUTES: &str = "API requests by route";
const CLASSES: &str = "API responses by status class";
const CACHE: &str = "View-data cache";
const VIEW: &str = "View-data latency";
const BUDGET: &str = "Monthly upstream budget";

impl Metric {
    /// All of them, in the order the dashboard and `status --metrics` show them.
    pub const ALL: [Metric; 25] = [
        Metric::FetchStored,
        Metric::FetchServedFromStore,
        Metric::FetchNotFound,
        Metric::FetchMalformed,
        Metric::FetchCircuitOpen,
        Metric::FetchUpstreamError,
        Metric::FetchConfigurationError,
        Metric::FetchStorageError,
        Metric::FetchBudgetExhausted,
        Metric::UpstreamLatency,
        Metric::BreakerOpened,
        Metric::BreakerClosed,
        Metric::BreakerTrial,
        Metric::RequestsFetchData,
        Metric::RequestsViewData,
        Metric::RequestsStatus,
        Metric::RequestsOther,
        Metric::Responses2xx,
        Metric::Responses3xx,
        Metric::Responses4xx,
        Metric::Responses5xx,
        Metric::ViewCacheHits,
        Metric::ViewCacheMisses,
        Metric::ViewDataLatency,
        Metric::UpstreamBudgetUsed,
    ];

    /// Name, unit, function, group, meaning and source.
    pub const fn definition(self) -> Definition {
        use Function::{Api, Worker};
        use Unit::{Count, Milliseconds};
        let source = match self {
            Metric::UpstreamBudgetUsed => Source::LogFilter,
            _ => Source::Emf,
        };
        let (name, unit, function, group, means) = match self {
            Metric::FetchStored => ("FetchStored", Count, Worker, OUTCOMES, "a fetch request fetched its country from the upstream and stored it"),
            Metric::FetchServedFromStore => ("FetchServedFromStore", Count, Worker, OUTCOMES, "a fetch request found a fresh stored copy; no upstream call"),
            Metric::FetchNotFound => ("FetchNotFound", Count, Worker, OUTCOMES, "the upstream has no such country (permanent)"),
            Metric::FetchMalformed => ("FetchMalformed", Count, Worker, OUTCOMES, "the upstream's answer was unusable (permanent)"),
            Metric::FetchCircuitOpen => ("FetchCircuitOpen", Count, Worker, OUTCOMES, "the breaker was open: no upstream call, retried later"),
            Metric::FetchUpstreamError => ("FetchUpstreamError", Count, Worker, OUTCOMES, "timeout, connection error or 5xx from the upstream: retried"),
            Metric::FetchConfigurationError => ("FetchConfigurationError", Count, Worker, OUTCOMES, "the upstream refused the key or plan (401/403): retried; fix the key"),
            Metric::FetchStorageError => ("FetchStorageError", Count, Worker, OUTCOMES, "storing the country failed: retried"),
            Metric::FetchBudgetExhausted => ("FetchBudgetExhausted", Count, Worker, OUTCOMES, "the month's upstream budget was spent: no upstream call, final (not retried)"),
            Metric::UpstreamLatency => ("UpstreamLatency", Milliseconds, Worker, LATENCY, "one upstream call, from request to answer or failure"),
            Metric::BreakerOpened => ("BreakerOpened", Count, Worker, BREAKER, "the breaker opened (or reopened after a failed trial)"),
            Metric::BreakerClosed => ("BreakerClosed", Count, Worker, BREAKER, "the breaker closed after successful trial calls"),
            Metric::BreakerTrial => ("BreakerTrial", Count, Worker, BREAKER, "a worker claimed a trial call of the half-open breaker"),
            Metric::RequestsFetchData => ("RequestsFetchData", Count, Api, ROUTES, "a request to /fetch-data/{code}"),
            Metric::RequestsViewData => ("RequestsViewData", Count, Api, ROUTES, "a request to /view-data/{code}"),
            Metric::RequestsStatus => ("RequestsStatus", Count, Api, ROUTES, "a request to /status/{code}"),
            Metric::RequestsOther => ("RequestsOther", Count, Api, ROUTES, "any other request (/, /health, /openapi.json, unknown routes)"),
            Metric::Responses2xx => ("Responses2xx", Count, Api, CLASSES, "an answer with a 2xx status"),
            Metric::Responses3xx => ("Responses3xx", Count, Api, CLASSES, "an answer with a 3xx status (304 for a matching ETag)"),
            Metric::Responses4xx => ("Responses4xx", Count, Api, CLASSES, "an answer with a 4xx status"),
            Metric::Responses5xx => ("Responses5xx", Count, Api, CLASSES, "an answer with a 5xx status"),
            Metric::ViewCacheHits => ("ViewCacheHits", Count, Api, CACHE, "view-data served from the in-process cache"),
            Metric::ViewCacheMisses => ("ViewCacheMisses", Count, Api, CACHE, "view-data read from the countries table"),
            Metric::ViewDataLatency => ("ViewDataLatency", Milliseconds, Api, VIEW, "one view-data request, as the api handled it"),
            Metric::UpstreamBudgetUsed => ("UpstreamBudgetUsed", Count, Worker, BUDGET, "the month's upstream calls so far (UTC month), from the worker's log line per unit spent; read its Maximum"),
        };
        Definition { name, unit, function, group, means, source }
    }

    /// The CloudWatch metric name.
    pub const fn name(self) -> &'static str {
        self.definition().name
    }

    /// Its unit.
    pub const fn unit(self) -> Unit {
        self.definition().unit
    }

    /// The function that writes it.
    pub const fn function(self) -> Function {
        self.definition().function
    }

    /// Emitted, or made from the logs by a metric filter.
    pub const fn source(self) -> Source {
        self.definition().source
    }
}

/// The list as `app/metrics.json` holds it.
pub fn list_json() -> Value {
    let metrics: Vec<Value> = Metric::ALL
        .iter()
        .map(|m| {
            let d = m.definition();
            json!({
                "name": d.name,
                "unit": d.unit.as_str(),
                "function": d.function.as_str(),
                "group": d.group,
                "means": d.means,
                "source": d.source.as_str(),
                "dimensions": d.source.dimensions(),
            })
        })
        .collect();
    json!({
        "_about": "The functions' metrics: emitted in CloudWatch Embedded Metric Format with the top-level dimensions (source emf), or made from a function's log lines by a metric filter in the stack with the metric's own dimensions (source log-filter). Written from app/src/metrics/list.rs by `UPDATE_METRICS=1 cargo test -p countries --lib metrics`; the deployer renders the dashboard and alarms from this file. Do not edit by hand.",
        "namespace": NAMESPACE,
        "dimensions": DIMENSIONS,
        "metrics": metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_all_is_complete() {
        let names: HashSet<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), Metric::ALL.len());
        // Every name is a valid CloudWatch metric name and no dimension's name.
        for m in Metric::ALL {
            let name = m.name();
            assert!(!name.is_empty() && name.len() <= 255 && name.is_ascii(), "{name}");
            assert!(!DIMENSIONS.contains(&name), "{name}");
            assert_eq!(format!("{m:?}"), name, "the variant is named like the metric");
        }
    }

    /// The deployer reads app/metrics.json; it must be this list.
    #[test]
    fn metrics_json_is_this_list() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/metrics.json");
        let fresh = format!("{:#}\n", list_json());
        if std::env::var_os("UPDATE_METRICS").is_some() {
            std::fs::write(path, &fresh).expect("write app/metrics.json");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == fresh,
            "app/metrics.json differs from app/src/metrics/list.rs: run `UPDATE_METRICS=1 cargo test -p countries --lib metrics` and commit it"
        );
    }
}
