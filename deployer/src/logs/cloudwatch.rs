//! CloudWatch Logs: the FilterLogEvents call behind `LogSource` (signed by
//! hand: see `aws::json`), and the paging and merging `deployer logs` does on
//! top of it.

use serde::Deserialize;
use serde_json::json;

use super::{Function, LogEvent};
use crate::aws::json::{JsonClient, LOGS, Request};
use crate::aws::json_call_error;
use crate::error::{Error, LogsError, Result};

/// One page of FilterLogEvents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// `(timestamp ms, message)` of each event.
    pub events: Vec<(i64, String)>,
    /// The token for the next page, if there is one.
    pub next: Option<String>,
}

/// What `deployer logs` needs from CloudWatch Logs (a trait, so tests can fake it).
#[allow(async_fn_in_trait)]
pub trait LogSource {
    /// One page of a group's events at or after `start_ms`, matching `pattern` when given.
    async fn filter(
        &self,
        group: &str,
        start_ms: i64,
        pattern: Option<&str>,
        next: Option<String>,
    ) -> Result<Page>;
}

/// The real CloudWatch Logs client.
#[derive(Debug, Clone)]
pub struct CloudWatchLogs {
    client: JsonClient,
}

impl CloudWatchLogs {
    /// A client for the configured target.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        CloudWatchLogs {
            client: JsonClient::new(&LOGS, config),
        }
    }
}

/// FilterLogEvents' output, the part read here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filtered {
    #[serde(default)]
    events: Vec<FilteredEvent>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FilteredEvent {
    timestamp: Option<i64>,
    message: Option<String>,
}

impl LogSource for CloudWatchLogs {
    async fn filter(
        &self,
        group: &str,
        start_ms: i64,
        pattern: Option<&str>,
        next: Option<String>,
    ) -> Result<Page> {
        let mut body = json!({"logGroupName": group, "startTime": start_ms});
        if let Some(pattern) = pattern {
            body["filterPattern"] = json!(pattern);
        }
        if let Some(next) = next {
            body["nextToken"] = json!(next);
        }
        let out: Filtered = self
            .client
            .call(Request::Operation {
                name: "FilterLogEvents",
                body,
            })
            .await
            .map_err(|e| {
                if e.code() == Some("ResourceNotFoundException") {
                    Error::from(LogsError::NoLogGroup {
                        group: group.to_string(),
                    })
                } else {
                    json_call_error(format!("reading CloudWatch Logs {group}"), &e)
                }
            })?;
        Ok(Page {
            events: out
                .events
                .into_iter()
                .map(|e| {
                    (
                        e.timestamp.unwrap_or_default(),
                        e.message.unwrap_or_default().trim_end().to_string(),
                    )
                })
                .collect(),
            next: out.next_token,
        })
    }
}

/// Every event of the functions' log groups at or after `start_ms` (all pages),
/// matching `pattern`. A group that does not exist yet (a function never invoked)
/// has no events.
pub async fn fetch(
    source: &impl LogSource,
    stage: &str,
    functions: &[Function],
    start_ms: i64,
    pattern: Option<&str>,
) -> Result<Vec<LogEvent>> {
    let mut events = Vec::new();
    for function in functions {
        let group = function.log_group(stage);
        let mut next = None;
        loop {
            let page = match source.filter(&group, start_ms, pattern, next).await {
                Ok(p) => p,
                Err(Error::Logs(LogsError::NoLogGroup { .. })) => break,
                Err(e) => return Err(e),
            };
            // CloudWatch's time is the one `start_ms` and `--follow` work with.
            events.extend(page.events.into_iter().map(|(ts, raw)| LogEvent {
                function: *function,
                timestamp_ms: ts,
                raw,
            }));
            match page.next {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => break,
            }
        }
    }
    Ok(events)
}
