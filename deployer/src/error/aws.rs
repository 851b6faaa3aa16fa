//! AWS calls and the account guard.

use super::help::{ExitClass, Help};

/// What kind of failure an AWS call had, decided once where the SDK error is
/// at hand (`aws::classify`: its type and its error code), never from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsKind {
    /// A credential provider failed while loading credentials: a set-up problem.
    NoCredentials,
    /// No credential source, or credentials AWS refuses (invalid, expired).
    Credentials,
    /// The endpoint could not be reached (dispatch failure, timeout).
    Network,
    /// The credentials lack a permission.
    AccessDenied,
    /// Anything else AWS answered.
    Other,
}

impl AwsKind {
    /// The exit class and hint of a failed call of this kind.
    pub fn help(self) -> Help {
        let credentials = "configure AWS credentials (`aws configure`, AWS_PROFILE or --profile) for the stage's account; a profile that ~/.aws/config does not define falls through to the instance metadata service, which is what the message above then reports";
        match self {
            // Missing credentials are set-up, not a failed deploy (aws::describe_error words them so).
            AwsKind::NoCredentials => Help::new(ExitClass::Usage, credentials.into()),
            AwsKind::Credentials => Help::new(ExitClass::Failed, credentials.into()),
            AwsKind::Network => Help::new(
                ExitClass::Failed,
                "check the network and --endpoint-url / AWS_ENDPOINT_URL; the AWS endpoint could not be reached".into(),
            ),
            AwsKind::AccessDenied => Help::new(
                ExitClass::Failed,
                "the credentials lack a permission (docs/delivery.md lists what each role may do)".into(),
            ),
            AwsKind::Other => Help::new(
                ExitClass::Failed,
                "read AWS's message above; `deployer status <stage>` shows the stack's state".into(),
            ),
        }
    }

    /// The kind a report of several reads (`status`) takes: it always exits 1
    /// (docs/deploying.md), so missing credentials count as a failed read there.
    pub fn as_failed_read(self) -> AwsKind {
        match self {
            AwsKind::NoCredentials => AwsKind::Credentials,
            AwsKind::Credentials => AwsKind::Credentials,
            AwsKind::Network => AwsKind::Network,
            AwsKind::AccessDenied => AwsKind::AccessDenied,
            AwsKind::Other => AwsKind::Other,
        }
    }
}

/// AWS calls and the account guard. Each variant carries its message (`#[error]`); [`AwsError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// An AWS call failed.
    #[error("{action} failed: {message}")]
    Call {
        action: String,
        message: String,
        /// What kind of failure, decided from the SDK error (`aws::classify`).
        kind: AwsKind,
    },

    /// The stage's role in its own account could not be assumed.
    #[error("stage {stage}: cannot assume {role}: {message}; nothing was changed")]
    AssumeRole {
        stage: String,
        role: String,
        message: String,
        /// What kind of failure (`aws::classify` of STS's error).
        kind: AwsKind,
    },

    /// The credentials belong to another account than the stage's.
    #[error(
        "stage {stage} runs in account {expected}, but these credentials are for account {actual}; nothing was changed"
    )]
    AccountMismatch {
        stage: String,
        expected: String,
        actual: String,
    },
}

impl AwsError {
    /// The exit class and the hint: one arm per variant and no catch-all, so a
    /// new variant does not compile until it has both.
    pub fn help(&self) -> Help {
        match self {
            AwsError::Call { kind, .. } => kind.help(),
            AwsError::AssumeRole { kind: AwsKind::AccessDenied, .. } => Help::new(ExitClass::Failed, "the role trusts only the tooling account's CodeBuild deploy role of the stage and the operator_role_arns of its infrastructure/stage-account apply, with the external id the stage file names: use such credentials, or check external_id (docs/delivery.md, one account per stage)".into()),
            AwsError::AssumeRole { kind, .. } => kind.help(),
            AwsError::AccountMismatch { .. } => Help::new(ExitClass::Usage, "use credentials of the stage's account (--profile NAME or AWS_PROFILE), or fix `account` in the stage file; a stage in its own account names the role to reach it in `deploy_role_arn`".into()),
        }
    }
}
