//! A deployed stage's key numbers from CloudWatch: one GetMetricData call
//! (paged) with one query per listed metric and statistic, over a single
//! period that spans the window.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};

use super::Totals;
use super::list::list;
use crate::aws::call_error;
use crate::error::Result;

/// The CloudWatch client of one target.
#[derive(Debug, Clone)]
pub struct CloudWatchMetrics {
    client: Client,
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
            client: Client::new(config),
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
                let dimension =
                    |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
                let mut metric = Metric::builder()
                    .namespace(&l.namespace)
                    .metric_name(&def.name);
                for d in def.dimensions() {
                    // The list's first top-level dimension is the stage; the other, the function.
                    let value = if l.dimensions.first() == Some(d) {
                        stage
                    } else {
                        &def.function
                    };
                    metric = metric.dimensions(dimension(d, value));
                }
                let metric = metric.build();
                let metric_stat = MetricStat::builder()
                    .metric(metric)
                    .period(period)
                    .stat(stat.name())
                    .build();
                let query = MetricDataQuery::builder()
                    .id(&id)
                    .metric_stat(metric_stat)
                    .return_data(true)
                    .build();
                queries.push(query);
                wanted.push((id, def.name.clone(), *stat));
            }
        }
        let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut next = None;
        loop {
            let out = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(DateTime::from_millis(start_ms))
                .end_time(DateTime::from_millis(end_ms))
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| {
                    call_error(
                        format!("reading the {stage} stage's metrics from CloudWatch"),
                        &e,
                    )
                })?;
            for result in out.metric_data_results() {
                if let Some(id) = result.id() {
                    values
                        .entry(id.to_string())
                        .or_default()
                        .extend(result.values());
                }
            }
            match out.next_token() {
                Some(token) if !token.is_empty() => next = Some(token.to_string()),
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
