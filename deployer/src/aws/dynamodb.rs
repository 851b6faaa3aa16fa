//! DynamoDB, for `deployer status`: a stage's monthly upstream budget
//! counter, the item of the status table the worker spends with a
//! conditional `ADD` (docs/contract.md, "Tables").

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::call_error;
use crate::error::Result;

/// The sort key of every monthly counter item (its partition key is `budget#<yyyy-mm>`).
const COUNTER_SORT_KEY: &str = "budget";

/// The UTC calendar month a budget counts in, as the counter names it: `2026-11`.
pub fn budget_month(now: time::OffsetDateTime) -> String {
    let utc = now.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}", utc.year(), u8::from(utc.month()))
}

/// The DynamoDB reads the deployer makes.
#[allow(async_fn_in_trait)]
pub trait BudgetCounters {
    /// Upstream calls counted in `month` in the status table `table` (0 before the first).
    async fn budget_used(&self, table: &str, month: &str) -> Result<u64>;
}

/// The real DynamoDB client.
#[derive(Debug, Clone)]
pub struct DynamoDb {
    client: Client,
}

impl DynamoDb {
    /// A client for the command's target.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        DynamoDb {
            client: Client::new(config),
        }
    }
}

impl BudgetCounters for DynamoDb {
    async fn budget_used(&self, table: &str, month: &str) -> Result<u64> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key(
                "fetched_country",
                AttributeValue::S(format!("budget#{month}")),
            )
            .key("attempt_id", AttributeValue::S(COUNTER_SORT_KEY.into()))
            .send()
            .await
            .map_err(|e| call_error(format!("GetItem on {table}"), &e))?;
        let used = out
            .item
            .as_ref()
            .and_then(|i| i.get("used"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok());
        Ok(used.unwrap_or(0).max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deployer names a month's counter as the worker does.
    #[test]
    fn months_are_named_as_the_app_names_them() {
        for text in [
            "2026-11-28T04:45:20.123Z",
            "2026-12-31T23:59:59.999Z",
            "2027-01-01T00:00:00.000Z",
        ] {
            let at =
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .unwrap();
            let ms = (at.unix_timestamp_nanos() / 1_000_000) as i64;
            let app = countries::guard::budget_month(ms).key;
            assert_eq!(budget_month(at), app, "{text}");
            assert_eq!(
                format!("budget#{}", budget_month(at)),
                countries::store::budget::counter_key(&app)
            );
        }
        assert_eq!(countries::store::budget::COUNTER_SORT_KEY, COUNTER_SORT_KEY);
    }
}
