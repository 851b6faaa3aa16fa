//! STS: whose credentials these are, for the account guard, and the role a
//! stage in its own account is reached through.

use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_sts::Client;
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;

use super::{call_error, classify, describe_error};
use crate::error::{AwsError, AwsKind, Result};

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

/// A role in a stage's own account that the deployer works through (the stage
/// file's `deploy_role_arn` or `reader_role_arn`, with its `external_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRole {
    /// The role's ARN.
    pub arn: String,
    /// `sts:ExternalId`, when the role's trust policy requires one.
    pub external_id: Option<String>,
    /// The session name CloudTrail shows for what the deployer does as the role.
    pub session_name: String,
}

/// `base`'s settings with the credentials of `role`, assumed with `base`'s own
/// credentials through STS and assumed again before they expire (a deploy can
/// outlast one session). Nothing is called until a client uses it.
pub async fn assumed_config(base: &SdkConfig, role: &StageRole) -> SdkConfig {
    let mut builder = AssumeRoleProvider::builder(&role.arn)
        .configure(base)
        .session_name(&role.session_name);
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id);
    }
    let provider = builder.build().await;
    base.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

/// Assumes `role` now, with `config` from [`assumed_config`]: before any other
/// call, so that a role that does not trust these credentials (or wants
/// another external id) fails first, named, and nothing else is tried.
pub async fn assume_now(config: &SdkConfig, stage: &str, role: &StageRole) -> Result<()> {
    let failed = |message: String, kind: AwsKind| AwsError::AssumeRole {
        stage: stage.to_string(),
        role: role.arn.clone(),
        message,
        kind,
    };
    let Some(provider) = config.credentials_provider() else {
        return Err(failed(
            "no credentials provider is configured".into(),
            AwsKind::Credentials,
        )
        .into());
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(e) => {
            // The provider wraps STS's own error: its code and message say why.
            let sts = std::error::Error::source(&e).and_then(|s| {
                s.downcast_ref::<aws_sdk_sts::error::SdkError<AssumeRoleError, HttpResponse>>()
            });
            let (message, kind) = match sts {
                Some(err) => (describe_error(err), classify(err)),
                None => (
                    aws_sdk_sts::error::DisplayErrorContext(&e).to_string(),
                    AwsKind::Credentials,
                ),
            };
            Err(failed(message, kind).into())
        }
    }
}
