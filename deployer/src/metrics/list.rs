//! The functions' metric names, compiled in from `app/metrics.json` (the app
//! writes that file from its own list and a test keeps the two equal), so the
//! dashboard, the alarms and `status --metrics` use exactly the names the
//! code emits.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

const LIST_JSON: &str = include_str!("../../../app/metrics.json");

/// The whole list: namespace, dimension set, metrics.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MetricList {
    /// `Countries`.
    pub namespace: String,
    /// `["Stage", "Function"]`.
    pub dimensions: Vec<String>,
    /// Every metric, in display order.
    pub metrics: Vec<MetricDef>,
}

/// One metric.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct MetricDef {
    /// The CloudWatch name.
    pub name: String,
    /// `Count` or `Milliseconds`.
    pub unit: String,
    /// `api` or `worker`: the `Function` dimension's value.
    pub function: String,
    /// The dashboard widget it is drawn in.
    pub group: String,
    /// What one unit of it means.
    pub means: String,
    /// `emf` (the function writes it) or `log-filter` (a metric filter in
    /// the stack makes it from the function's log lines).
    pub source: String,
    /// Its dimensions: the list's for `emf`, `["Stage"]` for `log-filter`.
    pub dimensions: Vec<String>,
}

impl MetricDef {
    /// True for durations (shown as percentiles and maxima, not sums).
    pub fn is_duration(&self) -> bool {
        self.unit == "Milliseconds"
    }

    /// True for a metric a log metric filter makes (dimension `Stage` only).
    pub fn is_log_filter(&self) -> bool {
        self.source == "log-filter"
    }

    /// Its dimensions' names, in order.
    pub fn dimensions(&self) -> &[String] {
        &self.dimensions
    }
}

static LIST: LazyLock<MetricList> = LazyLock::new(|| {
    // Compiled in and parsed by this module's test: it cannot fail in a tested build.
    serde_json::from_str(LIST_JSON).expect("app/metrics.json is the app's metric list")
});

/// The list.
pub fn list() -> &'static MetricList {
    &LIST
}

/// The groups, in the order their first metric appears.
pub fn groups() -> Vec<(&'static str, Vec<&'static MetricDef>)> {
    let mut out: Vec<(&str, Vec<&MetricDef>)> = Vec::new();
    for m in &list().metrics {
        match out.iter_mut().find(|(g, _)| *g == m.group) {
            Some((_, members)) => members.push(m),
            None => out.push((m.group.as_str(), vec![m])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_list_reads() {
        let l = list();
        assert_eq!(l.namespace, "Countries");
        assert_eq!(l.dimensions, ["Stage", "Function"]);
        assert!(l.metrics.len() > 10);
        for m in &l.metrics {
            assert!(matches!(m.unit.as_str(), "Count" | "Milliseconds"), "{m:?}");
            assert!(matches!(m.function.as_str(), "api" | "worker"), "{m:?}");
            match m.source.as_str() {
                "emf" => assert_eq!(m.dimensions, l.dimensions, "{m:?}"),
                "log-filter" => assert_eq!(m.dimensions, ["Stage"], "{m:?}"),
                other => panic!("{other}: not a source"),
            }
        }
        let groups = groups();
        assert_eq!(groups[0].0, "Fetch outcomes");
        // Every group is one function's, so a widget filters on one Function value.
        for (group, members) in &groups {
            assert!(
                members.iter().all(|m| m.function == members[0].function),
                "{group}"
            );
        }
    }
}
