//! A deployed stage's key numbers from CloudWatch: one GetMetricData call
//! (paged) with one query per listed metric and statistic, over a single
//! period that spans the window.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::Totals;
use super::list::list;
use crate::aws::json::{CLOUDWATCH, JsonClient, Request};
use crate::aws::json_call_error;
use crate::error::Result;

/// The CloudWatch client of one target (awsJson1.0, signed by hand: see `aws::json`).
#[derive(Debug, Clone)]
pub struct CloudWatchMetrics {
    client: JsonClient,
}

/// GetMetricData's output, the part read here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetricData {
    #[serde(default)]
    metric_data_results: Vec<MetricDataResult>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetricDataResult {
    id: Option<String>,
    #[serde(default)]
    values: Vec<f64>,
}

/// Which statistic a query asks for, and what it fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stat {
    Sum,
    SampleCount,
    Maximum,
}

impl Stat {
    fn name(self) -> &'static str {
        match self {
            Stat::Sum => "Sum",
            Stat::SampleCount => "SampleCount",
            Stat::Maximum => "Maximum",
        }
    }
}

/// The query period: the window in whole minutes, plus one for CloudWatch
/// rounding the start down to the minute.
pub fn period_seconds(start_ms: i64, end_ms: i64) -> i32 {
    let seconds = ((end_ms - start_ms).max(0) + 999) / 1000;
    let minutes = (seconds + 59) / 60 + 1;
    i32::try_from(minutes * 60).unwrap_or(i32::MAX / 60 * 60)
}

impl CloudWatchMetrics {
    /// A client for the configured target.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        CloudWatchMetrics {
            client: JsonClient::new(&CLOUDWATCH, config),
        }
    }

    /// Each listed metric's totals for `stage` over `[start_ms, end_ms]`.
    pub async fn totals(
        &self,
        stage: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<BTreeMap<String, Totals>> {
        let l = list();
        let period = period_seconds(start_ms, end_ms);
        let mut wanted: Vec<(String, String, Stat)> = Vec::new();
        let mut queries = Vec::new();
        for (i, def) in l.metrics.iter().enumerate() {
            let stats: &[Stat] = if def.is_duration() {
                &[Stat::Sum, Stat::SampleCount, Stat::Maximum]
            } else if def.is_log_filter() {
                // A running count (the month's budget use): its Maximum is the value.
                &[Stat::Sum, Stat::Maximum]
            } else {
                &[Stat::Sum]
            };
            for stat in stats {
                let id = format!("m{i}_{}", stat.name().to_ascii_lowercase());
                // The list's first top-level dimension is the stage; the other, the function.
                let dimensions: Vec<Value> = def
                    .dimensions()
                    .iter()
                    .map(|d| {
                        let value = if l.dimensions.first() == Some(d) { stage } else { &def.function };
                        json!({"Name": d, "Value": value})
                    })
                    .collect();
                queries.push(json!({
                    "Id": id,
                    "MetricStat": {
                        "Metric": {"Namespace": l.namespace, "MetricName": def.name, "Dimensions": dimensions},
                        "Period": period,
                        "Stat": stat.name(),
                    },
                    "ReturnData": true,
                }));
                wanted.push((id, def.name.clone(), *stat));
            }
        }
        let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut next: Option<String> = None;
        loop {
            // awsJson timestamps are seconds since the epoch.
            let mut body = json!({
                "MetricDataQueries": queries.clone(),
                "StartTime": start_ms as f64 / 1000.0,
                "EndTime": end_ms as f64 / 1000.0,
            });
            if let Some(token) = next.take() {
                body["NextToken"] = json!(token);
            }
            let out: MetricData = self
                .client
                .call(Request::Operation { name: "GetMetricData", body })
                .await
                .map_err(|e| json_call_error(format!("reading the {stage} stage's metrics from CloudWatch"), &e))?;
            for result in out.metric_data_results {
                if let Some(id) = result.id {
                    values.entry(id).or_default().extend(result.values);
                }
            }
            match out.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => break,
            }
        }
        let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
        for (id, name, stat) in wanted {
            let got = values.get(&id).cloned().unwrap_or_default();
            let t = totals.entry(name).or_default();
            match stat {
                Stat::Sum => t.sum += got.iter().sum::<f64>(),
                Stat::SampleCount => t.samples += got.iter().sum::<f64>(),
                Stat::Maximum => t.maximum = got.into_iter().reduce(f64::max),
            }
        }
        Ok(totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_period_covers_the_window() {
        assert_eq!(period_seconds(0, 3_600_000), 3660);
        assert_eq!(period_seconds(0, 1), 120);
        assert_eq!(period_seconds(0, 0), 60);
        assert_eq!(period_seconds(0, 86_400_000) % 60, 0);
    }
}
