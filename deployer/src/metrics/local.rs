//! The local stage's key numbers: the Embedded Metric Format lines the
//! functions wrote to `.countries/local/logs`, added up the way CloudWatch
//! adds up what it extracts from them. Pure: lines in, totals out.

use std::collections::BTreeMap;

use serde_json::Value;

use super::list::list;
use super::{KeyNumber, Totals, key_number};

/// What the lines of `stage` timed in `[start_ms, end_ms]` add up to, by metric
/// name, and how many metric lines that was. Other lines (log events, other
/// namespaces or stages, lines outside the window) are skipped.
pub fn totals<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    stage: &str,
    start_ms: i64,
    end_ms: i64,
) -> (BTreeMap<String, Totals>, usize) {
    let namespace = &list().namespace;
    let mut out: BTreeMap<String, Totals> = BTreeMap::new();
    let mut documents = 0;
    for line in lines {
        let Ok(Value::Object(root)) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(aws) = root.get("_aws") else {
            continue;
        };
        let in_window = aws
            .get("Timestamp")
            .and_then(Value::as_i64)
            .is_some_and(|t| (start_ms..=end_ms).contains(&t));
        if !in_window || root.get("Stage").and_then(Value::as_str) != Some(stage) {
            continue;
        }
        let directives = aws.get("CloudWatchMetrics").and_then(Value::as_array);
        let mut counted = false;
        for directive in directives.into_iter().flatten() {
            if directive.get("Namespace").and_then(Value::as_str) != Some(namespace.as_str()) {
                continue;
            }
            let metrics = directive.get("Metrics").and_then(Value::as_array);
            for name in metrics
                .into_iter()
                .flatten()
                .filter_map(|m| m.get("Name").and_then(Value::as_str))
            {
                let values: Vec<f64> = match root.get(name) {
                    Some(Value::Array(items)) => items.iter().filter_map(Value::as_f64).collect(),
                    Some(v) => v.as_f64().into_iter().collect(),
                    None => vec![],
                };
                let entry = out.entry(name.to_string()).or_default();
                values.into_iter().for_each(|v| entry.add(v));
                counted = true;
            }
        }
        documents += usize::from(counted);
    }
    (out, documents)
}

/// One row per listed metric, in list order (zero when nothing was recorded).
pub fn key_numbers(totals: &BTreeMap<String, Totals>) -> Vec<KeyNumber> {
    list()
        .metrics
        .iter()
        .map(|def| key_number(def, totals.get(&def.name).copied().unwrap_or_default()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKER: &str = r#"{"_aws":{"Timestamp":1000,"CloudWatchMetrics":[{"Namespace":"Countries","Dimensions":[["Stage","Function"]],"Metrics":[{"Name":"FetchStored","Unit":"Count"},{"Name":"UpstreamLatency","Unit":"Milliseconds"}]}]},"Stage":"local","Function":"worker","FetchStored":2,"UpstreamLatency":[10,30],"messages":2}"#;

    #[test]
    fn adds_up_counts_and_durations_of_the_stage_in_the_window() {
        let other_stage = WORKER.replace("\"local\"", "\"dev\"");
        let late = WORKER.replace("1000", "5000");
        let lines = [
            WORKER,
            WORKER,
            r#"{"timestamp":"2026-11-28T04:39:19Z","level":"INFO","message":"attempt recorded"}"#,
            "--- started ---",
            other_stage.as_str(),
            late.as_str(),
        ];
        let (totals, documents) = totals(lines, "local", 0, 2000);
        assert_eq!(documents, 2);
        let rows = key_numbers(&totals);
        let row = |name: &str| rows.iter().find(|r| r.name == name).unwrap().clone();
        assert_eq!(row("FetchStored").count, 4.0);
        let latency = row("UpstreamLatency");
        assert_eq!(
            (latency.count, latency.average, latency.maximum),
            (4.0, Some(20.0), Some(30.0))
        );
        let none = row("FetchNotFound");
        assert_eq!((none.count, none.average), (0.0, None));
        assert_eq!(row("ViewDataLatency").maximum, None);
        assert_eq!(rows.len(), list().metrics.len());
    }
}
