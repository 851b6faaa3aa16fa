//! [`CountryStore`] on DynamoDB. The document is one string attribute
//! (exact round trip, one attribute to read); a few fields sit beside it so
//! the table stays readable in the console.

use super::{CountryStore, StoredCountry};
use crate::country_code::CountryCode;
use crate::error::{Error, sdk_detail};
use crate::sdk::LazyClient;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::BoxFuture;
use std::collections::HashMap;

/// The `countries-<stage>` table.
#[derive(Clone)]
pub struct DynamoCountries {
    client: LazyClient<Client>,
    table: String,
}

impl DynamoCountries {
    /// Wraps the process's client (made on first use when the SDK is deferred).
    pub fn new(client: impl Into<LazyClient<Client>>, table: impl Into<String>) -> Self {
        Self { client: client.into(), table: table.into() }
    }

    fn corrupt(&self, code: &CountryCode, detail: &str) -> Error {
        Error::CorruptItem { table: self.table.clone(), key: code.to_string(), detail: detail.into() }
    }
}

fn string(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

impl CountryStore for DynamoCountries {
    fn get<'a>(&'a self, code: &'a CountryCode) -> BoxFuture<'a, Result<Option<StoredCountry>, Error>> {
        Box::pin(async move {
            let out = self
                .client.get().await
                .get_item()
                .table_name(&self.table)
                .key("cca2", AttributeValue::S(code.to_string()))
                .send()
                .await
                .map_err(|e| Error::Storage { operation: "GetItem", table: self.table.clone(), detail: sdk_detail(&e) })?;
            let Some(item) = out.item else { return Ok(None) };
            let document = string(&item, "document").ok_or_else(|| self.corrupt(code, "no document attribute"))?;
            let fetched_at_ms = item
                .get("fetched_at_ms")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| self.corrupt(code, "no fetched_at_ms attribute"))?;
            let request_id = string(&item, "request_id").unwrap_or_default();
            let mut stored = StoredCountry::new(code.clone(), document, fetched_at_ms, request_id);
            if let Some(etag) = string(&item, "etag") {
                stored.etag = etag;
            }
            Ok(Some(stored))
        })
    }

    fn put<'a>(&'a self, country: &'a StoredCountry) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let summary: serde_json::Value = serde_json::from_str(&country.document).unwrap_or_default();
            let name = summary.pointer("/name/common").and_then(|v| v.as_str()).unwrap_or_default();
            self.client.get().await
                .put_item()
                .table_name(&self.table)
                .item("cca2", AttributeValue::S(country.code.to_string()))
                .item("document", AttributeValue::S(country.document.clone()))
                .item("etag", AttributeValue::S(country.etag.clone()))
                .item("name", AttributeValue::S(name.to_string()))
                .item("fetched_at", AttributeValue::S(crate::timestamp::format_millis(country.fetched_at_ms)))
                .item("fetched_at_ms", AttributeValue::N(country.fetched_at_ms.to_string()))
                .item("request_id", AttributeValue::S(country.request_id.clone()))
                .send()
                .await
                .map_err(|e| Error::Storage { operation: "PutItem", table: self.table.clone(), detail: sdk_detail(&e) })?;
            Ok(())
        })
    }
}
