//! STS: whose credentials these are, for the account guard.

use aws_sdk_sts::Client;

use super::call_error;
use crate::error::{AwsError, Result};

/// The STS operation the deployer uses.
#[allow(async_fn_in_trait)]
pub trait Identity {
    /// The 12-digit account of the caller's credentials.
    async fn account(&self) -> Result<String>;
}

/// The real STS client.
#[derive(Debug, Clone)]
pub struct Sts {
    client: Client,
}

impl Sts {
    /// A client for the configured target.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Sts {
            client: Client::new(config),
        }
    }
}

impl Identity for Sts {
    async fn account(&self) -> Result<String> {
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| call_error("GetCallerIdentity", &e))?;
        Ok(out.account().unwrap_or_default().to_string())
    }
}

/// Refuses credentials of another account than the stage's, before anything
/// is read or changed: the one account check every stage-changing command runs.
pub async fn account_guard(sts: &impl Identity, stage: &str, expected: &str) -> Result<()> {
    let actual = sts.account().await?;
    if actual == expected {
        Ok(())
    } else {
        Err(AwsError::AccountMismatch {
            stage: stage.to_string(),
            expected: expected.to_string(),
            actual,
        }
        .into())
    }
}
