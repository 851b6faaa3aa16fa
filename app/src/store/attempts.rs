//! [`AttemptLog`] on DynamoDB: one item per attempt, newest first by the
//! sort key `attempt_id` (`<time with ms>#<request id>#<delivery>`).
//!
//! SQS delivers at least once, and two workers holding the same message can
//! both finish it; only one final row may be kept. So a final attempt first
//! claims a marker item (`fetched_country = "request#<code>#<id>"`,
//! `attempt_id = "final"`, a copy of the row) with a conditional put, then
//! writes its row. The code is part of the key, so a request id reused for
//! another country (by a producer other than the api) is another request.
//! If the row write fails, the message is retried, and the redelivery finds
//! the marker and rewrites the row from it. Markers live under their own
//! partition keys, so they never show up in a country's status (nor do the
//! pending markers, force cooldowns and budget counters of `pending` and
//! `budget`: every key that is not a country holds a `#`). (A
//! transaction would say the same in one call, but the emulator copies the
//! whole table for every transaction: 160 ms at 2,000 items.)

use super::{Attempt, AttemptLog, Outcome};
use crate::country_code::CountryCode;
use crate::error::{Error, sdk_detail};
use crate::sdk::LazyClient;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::BoxFuture;
use std::collections::HashMap;

/// The sort key of a request's final-outcome marker.
const MARKER_SORT_KEY: &str = "final";

fn marker_key(code: &str, request_id: &str) -> String {
    format!("request#{code}#{request_id}")
}

/// The `status-<stage>` table.
#[derive(Clone)]
pub struct DynamoAttempts {
    client: LazyClient<Client>,
    table: String,
}

impl DynamoAttempts {
    /// Wraps the process's client (made on first use when the SDK is deferred).
    pub fn new(client: impl Into<LazyClient<Client>>, table: impl Into<String>) -> Self {
        Self { client: client.into(), table: table.into() }
    }

    fn storage_error(&self, operation: &'static str, detail: String) -> Error {
        Error::Storage { operation, table: self.table.clone(), detail }
    }
}

/// The sort key of an attempt: unique per delivery, ordered by time.
pub fn attempt_id(timestamp: &str, request_id: &str, receive_count: u32) -> String {
    format!("{timestamp}#{request_id}#{receive_count}")
}

fn to_item(a: &Attempt) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_string());
    let n = |v: u64| AttributeValue::N(v.to_string());
    let mut item = HashMap::from([
        ("fetched_country".into(), s(&a.fetched_country)),
        ("attempt_id".into(), s(&a.attempt_id)),
        ("timestamp".into(), s(&a.timestamp)),
        ("success".into(), AttributeValue::Bool(a.success)),
        ("final".into(), AttributeValue::Bool(a.outcome.is_final())),
        ("error".into(), s(&a.error)),
        ("outcome".into(), s(a.outcome.as_str())),
        ("request_id".into(), s(&a.request_id)),
        ("requested_at".into(), s(&a.requested_at)),
        ("receive_count".into(), n(u64::from(a.receive_count))),
        ("duration_ms".into(), n(a.duration_ms)),
        ("coalesced_requests".into(), n(u64::from(a.coalesced_requests))),
    ]);
    if let Some(trace_id) = &a.trace_id {
        item.insert("trace_id".into(), s(trace_id));
    }
    item
}

fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Attempt> {
    let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let n = |k: &str| item.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let success = item.get("success").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
    let outcome = s("outcome")
        .and_then(|o| Outcome::from_stored(&o))
        .unwrap_or(if success { Outcome::Stored } else { Outcome::UpstreamError });
    Some(Attempt {
        fetched_country: s("fetched_country")?,
        attempt_id: s("attempt_id")?,
        timestamp: s("timestamp").unwrap_or_default(),
        success,
        error: s("error").unwrap_or_default(),
        outcome,
        request_id: s("request_id").unwrap_or_default(),
        requested_at: s("requested_at").unwrap_or_default(),
        receive_count: n("receive_count") as u32,
        duration_ms: n("duration_ms"),
        coalesced_requests: u32::try_from(n("coalesced_requests")).unwrap_or(u32::MAX),
        trace_id: s("trace_id"),
    })
}

impl DynamoAttempts {
    async fn put(&self, item: HashMap<String, AttributeValue>, only_if_new: bool) -> Result<bool, Error> {
        let mut request = self.client.get().await.put_item().table_name(&self.table).set_item(Some(item));
        if only_if_new {
            request = request.condition_expression("attribute_not_exists(fetched_country)");
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(PutItemError::is_conditional_check_failed_exception) => Ok(false),
            Err(e) => Err(self.storage_error("PutItem", sdk_detail(&e))),
        }
    }
}

/// The marker of a final attempt: the row under the request's own key.
fn marker_of(row: &HashMap<String, AttributeValue>, code: &str, request_id: &str) -> HashMap<String, AttributeValue> {
    let mut marker = row.clone();
    for key in ["fetched_country", "attempt_id"] {
        if let Some(value) = marker.remove(key) {
            marker.insert(format!("row_{key}"), value);
        }
    }
    marker.insert("fetched_country".into(), AttributeValue::S(marker_key(code, request_id)));
    marker.insert("attempt_id".into(), AttributeValue::S(MARKER_SORT_KEY.into()));
    marker
}

/// The row a marker stands for.
fn row_of(mut marker: HashMap<String, AttributeValue>) -> Option<HashMap<String, AttributeValue>> {
    for key in ["fetched_country", "attempt_id"] {
        let value = marker.remove(&format!("row_{key}"))?;
        marker.insert(key.into(), value);
    }
    Some(marker)
}

impl AttemptLog for DynamoAttempts {
    fn record<'a>(&'a self, attempt: &'a Attempt) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let row = to_item(attempt);
            let marker = marker_of(&row, &attempt.fetched_country, &attempt.request_id);
            if attempt.outcome.is_final() && !self.put(marker, true).await? {
                return Ok(false);
            }
            self.put(row, false).await
        })
    }

    fn recent<'a>(&'a self, code: &'a CountryCode, limit: u32) -> BoxFuture<'a, Result<Vec<Attempt>, Error>> {
        Box::pin(async move {
            let out = self
                .client.get().await
                .query()
                .table_name(&self.table)
                .key_condition_expression("fetched_country = :c")
                .expression_attribute_values(":c", AttributeValue::S(code.to_string()))
                .scan_index_forward(false)
                .limit(limit as i32)
                .send()
                .await
                .map_err(|e| self.storage_error("Query", sdk_detail(&e)))?;
            Ok(out.items().iter().filter_map(from_item).collect())
        })
    }

    fn is_finished<'a>(&'a self, code: &'a CountryCode, request_id: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let out = self
                .client.get().await
                .get_item()
                .table_name(&self.table)
                .key("fetched_country", AttributeValue::S(marker_key(code.as_str(), request_id)))
                .key("attempt_id", AttributeValue::S(MARKER_SORT_KEY.into()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| self.storage_error("GetItem", sdk_detail(&e)))?;
            let Some(marker) = out.item else { return Ok(false) };
            // The row may be missing if its write failed after the marker's: rewrite it (idempotent).
            if let Some(row) = row_of(marker) {
                self.put(row, false).await?;
            }
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_round_trips() {
        let a = Attempt {
            fetched_country: "PY".into(),
            timestamp: "2026-11-28T04:45:20.123Z".into(),
            success: false,
            error: "timed out".into(),
            outcome: Outcome::UpstreamError,
            request_id: "r-1".into(),
            requested_at: "2026-11-28T04:45:19.000Z".into(),
            receive_count: 2,
            duration_ms: 5001,
            coalesced_requests: 3,
            attempt_id: attempt_id("2026-11-28T04:45:20.123Z", "r-1", 2),
            trace_id: None,
        };
        assert_eq!(from_item(&to_item(&a)), Some(a.clone()));
        let traced = Attempt { trace_id: Some("1-5759e988-bd862e3fe1be46a994272793".into()), ..a.clone() };
        assert_eq!(from_item(&to_item(&traced)), Some(traced));
        let marker = marker_of(&to_item(&a), "PY", "r-1");
        assert_eq!(marker["fetched_country"].as_s().unwrap(), "request#PY#r-1");
        assert_eq!(row_of(marker), Some(to_item(&a)));
    }

    #[test]
    fn attempt_ids_sort_by_time_and_never_collide_within_a_millisecond() {
        let t = "2026-11-28T04:45:20.123Z";
        assert_ne!(attempt_id(t, "a", 1), attempt_id(t, "b", 1));
        assert_ne!(attempt_id(t, "a", 1), attempt_id(t, "a", 2));
        assert!(attempt_id("2026-11-28T04:45:20.123Z", "z", 9) < attempt_id("2026-11-28T04:45:20.124Z", "a", 1));
    }
}
