//! One Embedded Metric Format document per invocation, built from what the
//! invocation counted. Pure: the caller gives the time and writes the line.
//!
//! The document is one JSON object: `_aws` (the timestamp and one metric
//! directive naming the namespace, the dimension set and each metric with
//! its unit), the dimension values and metric values as top-level members,
//! and any further plain properties (searchable in CloudWatch Logs Insights,
//! never metrics). Counts are summed within the invocation; durations are
//! kept as a list of values (at most [`MAX_VALUES`], the format's limit).

use super::list::{DIMENSIONS, Function, Metric, NAMESPACE, Source, Unit};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The most values one metric may carry in one document.
pub const MAX_VALUES: usize = 100;

/// What one invocation counted. Shared by the concurrent messages of a batch
/// (hence the lock, held only to add a number).
#[derive(Debug, Default)]
pub struct Tally(Mutex<BTreeMap<Metric, Vec<f64>>>);

impl Tally {
    /// Counts one event.
    pub fn count(&self, metric: Metric) {
        self.add(metric, 1.0);
    }

    /// Records one duration, in milliseconds.
    pub fn observe(&self, metric: Metric, ms: f64) {
        self.add(metric, ms);
    }

    fn add(&self, metric: Metric, value: f64) {
        // A log-filter metric is made from a log line by the stack, never emitted.
        if metric.source() != Source::Emf {
            return;
        }
        let mut values = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = values.entry(metric).or_default();
        match metric.unit() {
            Unit::Count => match entry.first_mut() {
                Some(sum) => *sum += value,
                None => entry.push(value),
            },
            Unit::Milliseconds if entry.len() < MAX_VALUES => entry.push(value),
            Unit::Milliseconds => {}
        }
    }

    /// The counted values, in list order: a count's sum, or a duration's values.
    pub fn into_values(self) -> BTreeMap<Metric, Vec<f64>> {
        self.0.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The EMF document for what `values` holds, or `None` when it holds nothing.
/// `properties` are added as plain members after the metrics.
pub fn document(
    stage: &str,
    function: Function,
    timestamp_ms: i64,
    values: &BTreeMap<Metric, Vec<f64>>,
    properties: &[(&'static str, Value)],
) -> Option<Value> {
    if values.is_empty() {
        return None;
    }
    let definitions: Vec<Value> = values
        .keys()
        .map(|m| json!({"Name": m.name(), "Unit": m.unit().as_str()}))
        .collect();
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [DIMENSIONS], "Metrics": definitions}],
        }),
    );
    root.insert(DIMENSIONS[0].into(), Value::from(stage));
    root.insert(DIMENSIONS[1].into(), Value::from(function.as_str()));
    for (metric, v) in values {
        let value = match metric.unit() {
            Unit::Count => number(v.first().copied().unwrap_or(0.0)),
            Unit::Milliseconds => Value::Array(v.iter().copied().map(number).collect()),
        };
        root.insert(metric.name().into(), value);
    }
    for (name, value) in properties {
        root.entry(*name).or_insert_with(|| value.clone());
    }
    Some(Value::Object(root))
}

/// Whole numbers as integers (`3`, not `3.0`), others to the microsecond (`0.127`).
fn number(v: f64) -> Value {
    let v = (v * 1000.0).round() / 1000.0;
    if v.fract() == 0.0 && v.abs() < 9.0e15 { Value::from(v as i64) } else { Value::from(v) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sum_and_durations_list_in_one_document() {
        let tally = Tally::default();
        tally.count(Metric::FetchStored);
        tally.observe(Metric::UpstreamLatency, 12.0);
        tally.count(Metric::FetchStored);
        tally.observe(Metric::UpstreamLatency, 30.500_000_4);
        tally.count(Metric::BreakerOpened);
        let doc = document("dev", Function::Worker, 1_700_000_000_123, &tally.into_values(), &[("messages", json!(2))]).unwrap();
        assert_eq!(
            doc,
            json!({
                "_aws": {"Timestamp": 1_700_000_000_123_i64, "CloudWatchMetrics": [{
                    "Namespace": "Countries",
                    "Dimensions": [["Stage", "Function"]],
                    "Metrics": [
                        {"Name": "FetchStored", "Unit": "Count"},
                        {"Name": "UpstreamLatency", "Unit": "Milliseconds"},
                        {"Name": "BreakerOpened", "Unit": "Count"}
                    ]
                }]},
                "Stage": "dev", "Function": "worker",
                "FetchStored": 2, "UpstreamLatency": [12, 30.5], "BreakerOpened": 1,
                "messages": 2
            })
        );
    }

    #[test]
    fn nothing_counted_is_no_document_and_properties_never_replace_metrics() {
        assert_eq!(document("dev", Function::Api, 0, &BTreeMap::new(), &[]), None);
        let tally = Tally::default();
        tally.count(Metric::Responses2xx);
        let doc = document("dev", Function::Api, 0, &tally.into_values(), &[("Stage", json!("x")), ("Responses2xx", json!(9))]).unwrap();
        assert_eq!((doc["Stage"].clone(), doc["Responses2xx"].clone()), (json!("dev"), json!(1)));
    }

    #[test]
    fn durations_stop_at_the_format_limit() {
        let tally = Tally::default();
        for i in 0..150 {
            tally.observe(Metric::ViewDataLatency, f64::from(i));
        }
        assert_eq!(tally.into_values()[&Metric::ViewDataLatency].len(), MAX_VALUES);
    }

    #[test]
    fn a_log_filter_metric_is_never_in_an_emf_line() {
        let tally = Tally::default();
        tally.count(Metric::UpstreamBudgetUsed);
        tally.count(Metric::FetchBudgetExhausted);
        let values = tally.into_values();
        assert_eq!(values.keys().copied().collect::<Vec<_>>(), [Metric::FetchBudgetExhausted]);
    }
}
