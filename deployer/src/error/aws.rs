//! AWS calls and the account guard.

use super::help::{ExitClass, Help};

/// AWS calls and the account guard. Each variant carries its message (`#[error]`); [`AwsError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// An AWS call failed.
    #[error("{action} failed: {message}")]
    Call { action: String, message: String },

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
            AwsError::Call { message, .. } => Help::new(
                // Missing credentials are set-up, not a failed deploy (aws::describe_error words it so).
                if message.starts_with("no usable AWS credentials") {
                    ExitClass::Usage
                } else {
                    ExitClass::Failed
                },
                {if message.contains("credential") || message.contains("Credential") {
                    "configure AWS credentials (`aws configure`, AWS_PROFILE or --profile) for the stage's account; a profile that ~/.aws/config does not define falls through to the instance metadata service, which is what the message above then reports".into()
                } else if message.contains("dispatch failure") || message.contains("connect") || message.contains("timed out") {
                    "check the network and --endpoint-url / AWS_ENDPOINT_URL; the AWS endpoint could not be reached".into()
                } else if message.contains("AccessDenied") || message.contains("not authorized") {
                    "the credentials lack a permission (docs/delivery.md lists what each role may do)".into()
                } else {
                    "read AWS's message above; `deployer status <stage>` shows the stack's state".into()
                }},
            ),
            AwsError::AccountMismatch { .. } => Help::new(ExitClass::Usage, "use credentials of the stage's account (--profile NAME or AWS_PROFILE), or fix `account` in the stage file".into()),
        }
    }
}
