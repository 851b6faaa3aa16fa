//! Lambda: the account's concurrency settings, read before a deploy reserves
//! any (a reservation that does not fit fails inside CloudFormation, after
//! the upload and halfway through the stack).
//!
//! moto does not implement GetAccountSettings, so the tests answer it at the
//! HTTP boundary with recorded responses, through `AWS_ENDPOINT_URL_LAMBDA`.

use aws_sdk_lambda::Client;

use super::call_error;
use crate::error::Result;

/// The standard per-service endpoint variable; honoured even when
/// `--endpoint-url` sends every other service elsewhere (an emulator that
/// lacks GetAccountSettings, or a test replaying recorded answers).
pub const ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_LAMBDA";

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

/// The real Lambda client.
#[derive(Debug, Clone)]
pub struct Lambda {
    client: Client,
}

impl Lambda {
    /// A client for the configured target; `AWS_ENDPOINT_URL_LAMBDA` wins over `--endpoint-url`.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        let mut conf = aws_sdk_lambda::config::Builder::from(config);
        if let Ok(url) = std::env::var(ENDPOINT_ENV)
            && !url.is_empty()
        {
            conf = conf.endpoint_url(url);
        }
        Lambda {
            client: Client::from_conf(conf.build()),
        }
    }
}

impl AccountLimits for Lambda {
    async fn concurrency(&self) -> Result<AccountConcurrency> {
        let out = self
            .client
            .get_account_settings()
            .send()
            .await
            .map_err(|e| call_error("GetAccountSettings", &e))?;
        let limit = out.account_limit();
        let count = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        Ok(AccountConcurrency {
            limit: count(limit.map(|l| l.concurrent_executions())),
            unreserved: count(limit.and_then(|l| l.unreserved_concurrent_executions())),
        })
    }
}
