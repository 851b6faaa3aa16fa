//! The AWS edges: CloudFormation, S3, STS, CodePipeline and Lambda, each behind a small trait with
//! one real implementation, plus the SDK configuration the commands share
//! (`--profile`, `--region`, `--endpoint-url`, and the emulator's dummy
//! credentials for the local stage).

pub mod cloudformation;
pub mod codepipeline;
pub mod dynamodb;
pub mod json;
pub mod lambda;
pub mod s3;
pub mod sts;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::error::{AwsError, AwsKind, Error};

/// Where and as whom AWS calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The region (the stage's unless `--region` overrides it).
    pub region: String,
    /// A named profile (`--profile`, `AWS_PROFILE`).
    pub profile: Option<String>,
    /// An endpoint such as the emulator's (`--endpoint-url`, `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
    /// Use the emulator's dummy credentials instead of the credential chain.
    pub emulator_credentials: bool,
}

/// The emulator's (moto's) fixed account.
pub const EMULATOR_ACCOUNT: &str = "123456789012";

/// Loads the SDK configuration for `target`.
pub async fn sdk_config(target: &Target) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(target.region.clone()));
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if target.emulator_credentials {
        loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
            "testing", "testing", None, None, "emulator",
        ));
    }
    loader.load().await
}

/// The clients one command uses, all for the same target. A stage in its own
/// account is reached through its role there: its stack (CloudFormation), its
/// identity (STS, the account guard), its Lambda quota and its logs run as
/// that role; the
/// artifact bucket (S3) and the pipeline (CodePipeline) live in the tooling
/// account and always use the caller's own credentials.
#[derive(Debug, Clone)]
pub struct Clients {
    /// CloudFormation (the stage's account).
    pub cloudformation: cloudformation::CloudFormation,
    /// S3 (the artifact bucket, the tooling account).
    pub s3: s3::S3,
    /// STS (the account guard: who the stage's calls run as).
    pub sts: sts::Sts,
    /// CodePipeline (`status`, `promote`; the tooling account).
    pub codepipeline: codepipeline::CodePipeline,
    /// DynamoDB (`status`: the monthly upstream budget's counter; the stage's account).
    pub dynamodb: dynamodb::DynamoDb,
    /// The configuration of the stage-side calls (CloudWatch Logs uses it too).
    pub stage_config: SdkConfig,
    /// Lambda (the stage account's concurrency, before a deploy reserves any).
    pub lambda: lambda::Lambda,
    /// What they talk to.
    pub target: Target,
}

impl Clients {
    /// Builds the clients; with `role`, the stage-side ones assume it (lazily:
    /// `sts::assume_now` assumes it at once).
    pub async fn new(target: Target, role: Option<&sts::StageRole>) -> Self {
        let config = sdk_config(&target).await;
        let stage_config = match role {
            Some(role) => sts::assumed_config(&config, role).await,
            None => config.clone(),
        };
        Clients {
            cloudformation: cloudformation::CloudFormation::new(&stage_config),
            s3: s3::S3::new(&config, target.endpoint_url.is_some()),
            sts: sts::Sts::new(&stage_config),
            codepipeline: codepipeline::CodePipeline::new(&config),
            dynamodb: dynamodb::DynamoDb::new(&stage_config),
            lambda: lambda::Lambda::new(&stage_config),
            stage_config,
            target,
        }
    }
}

/// Service error codes that mean the credentials themselves are refused.
const BAD_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "IncompleteSignature",
    "MissingAuthenticationToken",
];

/// Service error codes that mean a permission is missing.
const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
];

/// What kind of failure an SDK error is, from its type and error code: the one
/// place AWS errors are classified (exit class and hint follow from the kind).
pub fn classify<E, R>(err: &SdkError<E, R>) -> AwsKind
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_credential_types::provider::error::CredentialsError;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return if matches!(c, CredentialsError::ProviderError(_)) {
                AwsKind::NoCredentials
            } else {
                AwsKind::Credentials
            };
        }
        current = e.source();
    }
    if let SdkError::ServiceError(service) = err {
        return kind_of_code(service.err().code().unwrap_or_default());
    }
    if matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    ) {
        return AwsKind::Network;
    }
    AwsKind::Other
}

/// What kind of failure a service's error code means.
fn kind_of_code(code: &str) -> AwsKind {
    if BAD_CREDENTIALS.contains(&code) {
        AwsKind::Credentials
    } else if ACCESS_DENIED.contains(&code) {
        AwsKind::AccessDenied
    } else {
        AwsKind::Other
    }
}

/// The error of a failed signed JSON call (the services without an SDK client here).
pub fn json_call_error(action: impl Into<String>, err: &json::CallError) -> Error {
    Error::from(AwsError::Call {
        action: action.into(),
        message: err.to_string(),
        kind: err.kind(),
    })
}

/// The error of a failed call: the message of [`describe_error`] and the kind of [`classify`].
pub fn call_error<E, R>(action: impl Into<String>, err: &SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    Error::from(AwsError::Call {
        action: action.into(),
        message: describe_error(err),
        kind: classify(err),
    })
}

/// A one-line description of an SDK error: the service's code and message, or the
/// transport problem (no credentials, endpoint unreachable, ...).
pub fn describe_error<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (None, Some(message)) => message.to_string(),
                (Some(code), None) => code.to_string(),
                (None, None) => aws_sdk_sts::error::DisplayErrorContext(err).to_string(),
            }
        }
        _ => {
            let chain = error_chain(err);
            if classify(err) == AwsKind::NoCredentials {
                format!("no usable AWS credentials ({chain})")
            } else {
                chain
            }
        }
    }
}

/// An error and its sources, joined with `: `, repeated parts removed, at most 400 characters.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    let mut joined = parts.join(": ");
    if joined.chars().count() > 400 {
        joined = joined.chars().take(400).collect::<String>() + "...";
    }
    joined
}
