//! [`PendingFetches`] on DynamoDB: per-country items in the status table,
//! under their own partition keys so they never show in a country's status.
//!
//! - `pending#<code>` / `pending`: the request now queued or in progress for
//!   the country (`request_id`), until `expires_at_ms`, and how many requests
//!   joined it (`joined`).
//! - `force#<code>` / `force`: when the next forced fetch is allowed (`next_force_ms`).
//!
//! Every write is one conditional `UpdateItem`, so concurrent api instances
//! agree on one pending request and one forced fetch. `expires_at` (epoch
//! seconds) is the table's TTL attribute; because DynamoDB deletes expired
//! items lazily (and the emulator never), the conditions compare
//! `expires_at_ms` / `next_force_ms` with the time and treat a past one as
//! absent. A cleared marker is expired rather than deleted: one operation
//! fewer in the functions' zips, and the TTL removes it.

use super::{Claim, ForceClaim, PendingFetches};
use crate::country_code::CountryCode;
use crate::error::{Error, sdk_detail};
use crate::guard::ttl_seconds;
use crate::sdk::LazyClient;
use crate::timestamp::EpochMillis;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use futures::future::BoxFuture;
use std::collections::HashMap;

/// How often a claim retries when the marker keeps appearing and vanishing
/// between its two writes (each retry means another request's write landed).
const MAX_RACES: usize = 8;

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// The pending marker's and the force item's partition keys.
pub fn marker_keys(code: &str) -> (String, String) {
    (format!("pending#{code}"), format!("force#{code}"))
}

/// The per-country items of the `status-<stage>` table.
#[derive(Clone)]
pub struct DynamoPending {
    client: LazyClient<Client>,
    table: String,
}

type UpdateResult = Result<UpdateItemOutput, SdkError<UpdateItemError, aws_sdk_dynamodb::config::http::HttpResponse>>;

/// A conditional write's result: written (the new item), or its condition
/// failed (the item as it was, when asked for).
enum Write {
    Done(HashMap<String, AttributeValue>),
    Refused(Option<HashMap<String, AttributeValue>>),
}

impl DynamoPending {
    /// Wraps the process's client (made on first use when the SDK is deferred).
    pub fn new(client: impl Into<LazyClient<Client>>, table: impl Into<String>) -> Self {
        Self { client: client.into(), table: table.into() }
    }

    async fn update(&self, partition: String, sort: &str) -> UpdateItemFluentBuilder {
        self.client.get().await
            .update_item()
            .table_name(&self.table)
            .key("fetched_country", AttributeValue::S(partition))
            .key("attempt_id", AttributeValue::S(sort.into()))
            .return_values(ReturnValue::AllNew)
    }

    fn settle(&self, result: UpdateResult) -> Result<Write, Error> {
        match result {
            Ok(out) => Ok(Write::Done(out.attributes.unwrap_or_default())),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => Ok(Write::Refused(refused.item.clone())),
                _ => Err(Error::Storage { operation: "UpdateItem", table: self.table.clone(), detail: sdk_detail(&e) }),
            },
        }
    }
}

impl PendingFetches for DynamoPending {
    fn claim<'a>(&'a self, code: &'a CountryCode, request_id: &'a str, now: EpochMillis, expires_at_ms: EpochMillis) -> BoxFuture<'a, Result<Claim, Error>> {
        Box::pin(async move {
            let (key, _) = marker_keys(code.as_str());
            for _ in 0..MAX_RACES {
                // Join first: in a burst, most requests find a fetch pending.
                let join = self
                    .update(key.clone(), "pending").await
                    .update_expression("ADD joined :one")
                    .condition_expression("expires_at_ms > :now")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":now", n(now));
                if let Write::Done(marker) = self.settle(join.send().await)? {
                    let pending = marker.get("request_id").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                    return Ok(Claim::Joined { request_id: pending });
                }
                let lead = self
                    .update(key.clone(), "pending").await
                    .update_expression("SET request_id = :id, expires_at_ms = :exp, expires_at = :ttl, joined = :zero")
                    .condition_expression("attribute_not_exists(expires_at_ms) OR expires_at_ms <= :now")
                    .expression_attribute_values(":id", AttributeValue::S(request_id.into()))
                    .expression_attribute_values(":exp", n(expires_at_ms))
                    .expression_attribute_values(":ttl", n(ttl_seconds(expires_at_ms)))
                    .expression_attribute_values(":zero", n(0))
                    .expression_attribute_values(":now", n(now));
                if let Write::Done(_) = self.settle(lead.send().await)? {
                    return Ok(Claim::Leader);
                }
                // Another request became the pending one in between: join it.
            }
            Err(Error::Storage {
                operation: "UpdateItem",
                table: self.table.clone(),
                detail: format!("the pending marker of {code} kept changing under {MAX_RACES} attempts to claim it"),
            })
        })
    }

    fn clear<'a>(&'a self, code: &'a CountryCode, request_id: &'a str, now: EpochMillis) -> BoxFuture<'a, Result<u32, Error>> {
        Box::pin(async move {
            let (key, _) = marker_keys(code.as_str());
            let expire = self
                .update(key, "pending").await
                .update_expression("SET expires_at_ms = :now, expires_at = :ttl")
                .condition_expression("request_id = :id")
                .expression_attribute_values(":id", AttributeValue::S(request_id.into()))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":ttl", n(ttl_seconds(now)));
            Ok(match self.settle(expire.send().await)? {
                Write::Done(marker) => number(&marker, "joined").map_or(0, |j| u32::try_from(j.max(0)).unwrap_or(u32::MAX)),
                // Another request's marker (this one expired and was replaced), or none.
                Write::Refused(_) => 0,
            })
        })
    }

    fn claim_force<'a>(&'a self, code: &'a CountryCode, now: EpochMillis, cooldown_ms: i64) -> BoxFuture<'a, Result<ForceClaim, Error>> {
        Box::pin(async move {
            let (_, key) = marker_keys(code.as_str());
            let next = now + cooldown_ms;
            let take = self
                .update(key, "force").await
                .update_expression("SET next_force_ms = :next, expires_at = :ttl")
                .condition_expression("attribute_not_exists(next_force_ms) OR next_force_ms <= :now")
                .expression_attribute_values(":next", n(next))
                .expression_attribute_values(":ttl", n(ttl_seconds(next)))
                .expression_attribute_values(":now", n(now))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            Ok(match self.settle(take.send().await)? {
                Write::Done(_) => ForceClaim { granted: true, next_allowed_ms: next },
                Write::Refused(item) => ForceClaim {
                    granted: false,
                    next_allowed_ms: item.as_ref().and_then(|i| number(i, "next_force_ms")).unwrap_or(next),
                },
            })
        })
    }
}
