//! Reading logs.

use std::path::PathBuf;

use super::help::{ExitClass, Help};

/// Reading logs. Each variant carries its message (`#[error]`); [`LogsError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// The local stage has no log files yet.
    #[error("no local logs in {}", dir.display())]
    NoLocalLogs { dir: PathBuf },

    /// A CloudWatch log group does not exist (the function never ran, or no stack).
    #[error("log group {group} does not exist")]
    NoLogGroup { group: String },
}

impl LogsError {
    /// The exit class and the hint: one arm per variant and no catch-all, so a
    /// new variant does not compile until it has both.
    pub fn help(&self) -> Help {
        match self {
            LogsError::NoLocalLogs { .. } => Help::new(ExitClass::Usage, "run `deployer up local` first; its processes write their logs there".into()),
            LogsError::NoLogGroup { .. } => Help::new(ExitClass::Usage, "deploy the stage (`deployer up <stage>`) and call the API once; Lambda creates the group on the first run".into()),
        }
    }
}
