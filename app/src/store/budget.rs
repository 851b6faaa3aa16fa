//! [`UpstreamBudget`] on DynamoDB: one counter item per UTC month in the
//! status table (`budget#<yyyy-mm>` / `budget`, attribute `used`), outside
//! any country's partition. A unit is taken with `ADD used :one` under the
//! condition `used < :limit`, so N workers racing for the last unit take it
//! once: DynamoDB checks and applies a conditional write to an item in one
//! step. `deployer status` reads the same item (docs/contract.md).
//!
//! As with the breaker's counts, an `ADD` whose answer is lost can be
//! retried and counted twice: the budget may read one call high, never low.

use super::UpstreamBudget;
use crate::error::{Error, sdk_detail};
use crate::sdk::LazyClient;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use futures::future::BoxFuture;

/// The partition key of a month's counter.
pub fn counter_key(month: &str) -> String {
    format!("budget#{month}")
}

/// The sort key of every counter item.
pub const COUNTER_SORT_KEY: &str = "budget";

/// The monthly budget counters of the `status-<stage>` table.
#[derive(Clone)]
pub struct DynamoBudget {
    client: LazyClient<Client>,
    table: String,
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl DynamoBudget {
    /// Wraps the process's client (made on first use when the SDK is deferred).
    pub fn new(client: impl Into<LazyClient<Client>>, table: impl Into<String>) -> Self {
        Self { client: client.into(), table: table.into() }
    }

    async fn update(&self, month: &str) -> UpdateItemFluentBuilder {
        self.client.get().await
            .update_item()
            .table_name(&self.table)
            .key("fetched_country", AttributeValue::S(counter_key(month)))
            .key("attempt_id", AttributeValue::S(COUNTER_SORT_KEY.into()))
            .return_values(ReturnValue::AllNew)
    }

    fn storage_error(&self, operation: &'static str, detail: String) -> Error {
        Error::Storage { operation, table: self.table.clone(), detail }
    }
}

impl UpstreamBudget for DynamoBudget {
    fn used<'a>(&'a self, month: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            let out = self
                .client.get().await
                .get_item()
                .table_name(&self.table)
                .key("fetched_country", AttributeValue::S(counter_key(month)))
                .key("attempt_id", AttributeValue::S(COUNTER_SORT_KEY.into()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| self.storage_error("GetItem", sdk_detail(&e)))?;
            let used = out.item.as_ref().and_then(|i| i.get("used")).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
            Ok(used.unwrap_or(0).max(0) as u64)
        })
    }

    fn spend<'a>(&'a self, month: &'a str, limit: u32) -> BoxFuture<'a, Result<Option<u64>, Error>> {
        Box::pin(async move {
            let spent = self
                .update(month).await
                .update_expression("ADD used :one")
                .condition_expression("attribute_not_exists(used) OR used < :limit")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":limit", n(i64::from(limit)))
                .send()
                .await;
            match spent {
                Ok(out) => {
                    let used = out.attributes.as_ref().and_then(|a| a.get("used")).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u64>().ok());
                    Ok(Some(used.unwrap_or(1)))
                }
                Err(e) if e.as_service_error().is_some_and(UpdateItemError::is_conditional_check_failed_exception) => Ok(None),
                Err(e) => Err(self.storage_error("UpdateItem", sdk_detail(&e))),
            }
        })
    }

    fn refund<'a>(&'a self, month: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let refunded = self
                .update(month).await
                .update_expression("ADD used :minus")
                .condition_expression("used > :zero")
                .expression_attribute_values(":minus", n(-1))
                .expression_attribute_values(":zero", n(0))
                .send()
                .await;
            match refunded {
                Ok(_) => Ok(()),
                Err(e) if e.as_service_error().is_some_and(UpdateItemError::is_conditional_check_failed_exception) => Ok(()),
                Err(e) => Err(self.storage_error("UpdateItem", sdk_detail(&e))),
            }
        })
    }
}
