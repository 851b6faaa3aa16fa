//! The deployer's errors, by area.
//!
//! Each area (fs, session, stage, outputs, render, package, aws, deploy,
//! local, logs) has its own type in its own file, where each variant's
//! message, exit class and hint sit together; [`Error`] wraps them so
//! `main` prints every failure the same way (`error: ...` then `hint: ...`) and
//! maps it to an exit code: 1 when a check ran and failed, 2 when the input or
//! setup is wrong.

mod aws;
mod deploy;
mod fs;
mod help;
mod local;
mod logs;
mod outputs;
mod package;
mod render;
mod session;
mod stage;

pub use aws::{AwsError, AwsKind};
pub use deploy::DeployError;
pub use fs::FsError;
pub use help::{ExitClass, Help};
pub use local::LocalError;
pub use logs::LogsError;
pub use outputs::OutputsError;
pub use package::PackageError;
pub use render::RenderError;
pub use session::SessionError;
pub use stage::Diagnostic;
pub use stage::StageError;

/// Everything that can go wrong in the deployer: one variant per area, each
/// displayed as the area's error itself.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading and writing files.
    #[error(transparent)]
    Fs(#[from] FsError),

    /// The command session: the repository root, questions, arguments, the runtime.
    #[error(transparent)]
    Session(#[from] SessionError),

    /// Stage files: syntax, types, meaning, and picking one.
    #[error(transparent)]
    Stage(#[from] StageError),

    /// Terraform outputs: reading and checking them.
    #[error(transparent)]
    Outputs(#[from] OutputsError),

    /// Templates, generated/ and the linters run on it.
    #[error(transparent)]
    Render(#[from] RenderError),

    /// Building and packaging the functions.
    #[error(transparent)]
    Package(#[from] PackageError),

    /// AWS calls and the account guard.
    #[error(transparent)]
    Aws(#[from] AwsError),

    /// Deploying and promoting: the stack, the change set, the smoke test, the promotion rules.
    #[error(transparent)]
    Deploy(#[from] DeployError),

    /// The local stage: its lock, ports, emulator and processes.
    #[error(transparent)]
    Local(#[from] LocalError),

    /// Reading logs.
    #[error(transparent)]
    Logs(#[from] LogsError),
}

impl Error {
    /// The exit class and hint, from the area's own error type.
    pub fn help(&self) -> Help {
        match self {
            Error::Fs(e) => e.help(),
            Error::Session(e) => e.help(),
            Error::Stage(e) => e.help(),
            Error::Outputs(e) => e.help(),
            Error::Render(e) => e.help(),
            Error::Package(e) => e.help(),
            Error::Aws(e) => e.help(),
            Error::Deploy(e) => e.help(),
            Error::Local(e) => e.help(),
            Error::Logs(e) => e.help(),
        }
    }

    /// The process exit code: 1 when a check ran and failed, 2 for usage or configuration errors.
    pub fn exit_code(&self) -> u8 {
        match self.help().class {
            ExitClass::Failed => 1,
            ExitClass::Usage => 2,
        }
    }

    /// True when the failing command already printed its `--json` summary
    /// (with `"ok": false`), so stdout must not get a second JSON document.
    pub fn in_json_summary(&self) -> bool {
        matches!(
            self,
            Error::Render(RenderError::Stale { .. } | RenderError::LintFailed { .. })
        )
    }

    /// One line telling the user what to do next.
    pub fn hint(&self) -> String {
        self.help().hint
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
