//! Lambda: the account's concurrency settings, read before a deploy reserves
//! any (a reservation that does not fit fails inside CloudFormation, after
//! the upload and halfway through the stack).
//!
//! moto does not implement GetAccountSettings, so the tests answer it at the
//! HTTP boundary with recorded responses, through `AWS_ENDPOINT_URL_LAMBDA`.

use serde::Deserialize;

use super::json::{JsonClient, LAMBDA, Request};
use super::json_call_error;
use crate::error::Result;

/// The account's Lambda concurrency in the stage's region (GetAccountSettings' `AccountLimit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountConcurrency {
    /// `ConcurrentExecutions`: the regional quota.
    pub limit: u32,
    /// `UnreservedConcurrentExecutions`: what the functions without a reservation share now.
    pub unreserved: u32,
}

/// The Lambda operation the deployer uses.
#[allow(async_fn_in_trait)]
pub trait AccountLimits {
    /// The account's concurrency quota and what is unreserved of it (GetAccountSettings).
    async fn concurrency(&self) -> Result<AccountConcurrency>;
}

/// The real Lambda client (its one call signed by hand: see `json`).
#[derive(Debug, Clone)]
pub struct Lambda {
    client: JsonClient,
}

impl Lambda {
    /// A client for the configured target; `AWS_ENDPOINT_URL_LAMBDA` wins over `--endpoint-url`
    /// (an emulator that lacks GetAccountSettings, or a test replaying recorded answers).
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Lambda {
            client: JsonClient::new(&LAMBDA, config),
        }
    }
}

/// GetAccountSettings' output, the part read here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Settings {
    account_limit: Option<Limit>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Limit {
    concurrent_executions: Option<i64>,
    unreserved_concurrent_executions: Option<i64>,
}

impl AccountLimits for Lambda {
    async fn concurrency(&self) -> Result<AccountConcurrency> {
        let out: Settings = self
            .client
            .call(Request::Get {
                path: "/2016-08-19/account-settings",
            })
            .await
            .map_err(|e| json_call_error("GetAccountSettings", &e))?;
        let count = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        let limit = out.account_limit;
        Ok(AccountConcurrency {
            limit: count(limit.as_ref().and_then(|l| l.concurrent_executions)),
            unreserved: count(limit.as_ref().and_then(|l| l.unreserved_concurrent_executions)),
        })
    }
}
