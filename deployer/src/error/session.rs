//! The command session: the repository root, questions, arguments, the runtime.

use std::path::PathBuf;

use super::help::{ExitClass, Help};

/// The command session: the repository root, questions, arguments, the runtime. Each variant carries its message (`#[error]`); [`SessionError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The repository root (the folder holding `stages/` and `templates/`) was not found.
    #[error("cannot find the repository root (a folder with stages/ and templates/) from {start}")]
    RootNotFound { start: PathBuf },

    /// A confirmation is needed and there is no terminal to ask on.
    #[error("{action} needs confirmation, and there is no terminal to ask on")]
    ConfirmationNeeded { action: String },

    /// The person answered no.
    #[error("{action}: not confirmed; nothing was changed")]
    Declined { action: String },

    /// The async runtime could not start.
    #[error("cannot start the async runtime: {detail}")]
    Runtime { detail: String },

    /// A flag's value does not parse.
    #[error("{flag} {value}: expected {expected}")]
    InvalidArgument {
        flag: String,
        value: String,
        expected: String,
    },
}

impl SessionError {
    /// The exit class and the hint: one arm per variant and no catch-all, so a
    /// new variant does not compile until it has both.
    pub fn help(&self) -> Help {
        match self {
            SessionError::RootNotFound { .. } => Help::new(
                ExitClass::Usage,
                "run the deployer inside the repository, or pass --root DIR".into(),
            ),
            SessionError::ConfirmationNeeded { .. } => Help::new(
                ExitClass::Usage,
                "pass --yes to confirm in a non-interactive run".into(),
            ),
            SessionError::Declined { .. } => Help::new(
                ExitClass::Failed,
                "run it again and answer y, or pass --yes".into(),
            ),
            SessionError::Runtime { .. } => Help::new(
                ExitClass::Failed,
                "this is a problem of the machine (threads, file descriptors); retry".into(),
            ),
            SessionError::InvalidArgument { .. } => Help::new(
                ExitClass::Usage,
                "see the command's --help for the accepted values".into(),
            ),
        }
    }
}
