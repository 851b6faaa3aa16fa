//! The local stage: its lock, ports, emulator and processes.

use std::path::PathBuf;

use super::help::{ExitClass, Help};

/// The local stage: its lock, ports, emulator and processes. Each variant carries its message (`#[error]`); [`LocalError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// Another `deployer up local` holds the lock.
    #[error("`deployer up local` is already running (pid {pid}, lock {lock})")]
    LocalAlreadyRunning { pid: u32, lock: PathBuf },

    /// A port the local stage needs is taken.
    #[error("port {port} on 127.0.0.1 ({what}) is already in use")]
    PortBusy {
        port: u16,
        what: String,
        flag: String,
    },

    /// A flag that only a local stage takes was given for another stage.
    #[error("{flag} applies only to a stage with `local:` settings; {stage} has none")]
    LocalOnly { flag: String, stage: String },

    /// A flag that a local stage does not take.
    #[error("{flag} does not apply to a local stage: `deployer up local` builds from source")]
    NotForLocal { flag: String },

    /// The emulator could not be installed or started.
    #[error("the local AWS emulator (moto) is not available: {detail}")]
    EmulatorUnavailable { detail: String },

    /// A command that needs the running local stage found no emulator.
    #[error("the local stage is not running: nothing answers on 127.0.0.1:{port}")]
    EmulatorNotRunning { port: u16, stage: String },

    /// `--watch` could not watch the source folders.
    #[error("`up local --watch` cannot watch for changes: {detail}")]
    WatchFailed { detail: String },

    /// A local stage with the v5 upstream, run without its key in the environment.
    #[error(
        "the local stage {stage} calls the v5 upstream, whose key (SSM parameter {parameter}) the emulator does not hold"
    )]
    UpstreamKeyMissing { stage: String, parameter: String },

    /// A local process failed to start or stopped on its own.
    #[error("{name} {detail}; its log: {}", log.display())]
    ProcessFailed {
        name: String,
        detail: String,
        log: PathBuf,
    },
}

impl LocalError {
    /// The exit class and the hint: one arm per variant and no catch-all, so a
    /// new variant does not compile until it has both.
    pub fn help(&self) -> Help {
        match self {
            LocalError::LocalAlreadyRunning { pid, .. } => Help::new(ExitClass::Usage, { format!(
                "use the running one (see its `api:` line), or stop it with Ctrl-C in its terminal or `kill {pid}`"
            ) }),
            LocalError::PortBusy { flag, .. } => Help::new(ExitClass::Usage, { format!(
                "stop what listens there, or choose another port with {flag}"
            ) }),
            LocalError::LocalOnly { .. } => Help::new(ExitClass::Usage, "drop the flag, or use it with `deployer up local`".into()),
            LocalError::NotForLocal { .. } => Help::new(ExitClass::Usage, "drop the flag".into()),
            LocalError::EmulatorUnavailable { .. } => Help::new(ExitClass::Usage, "install it by hand: python3 -m venv .countries/venv && .countries/venv/bin/pip install -r tools/requirements-moto.txt (needs Python 3 and the PyPI registry)".into()),
            LocalError::EmulatorNotRunning { stage, .. } => Help::new(ExitClass::Usage, { format!(
                "start it with `deployer up {stage}` (it starts the emulator and deploys the stack), then retry in another terminal"
            ) }),
            LocalError::UpstreamKeyMissing { .. } => Help::new(ExitClass::Usage, "export UPSTREAM_API_KEY=<your REST Countries key> and run `deployer up local` again (the key stays in the environment, never in a file), or point app.upstream at the offline server".into()),
            LocalError::WatchFailed { .. } => Help::new(ExitClass::Failed, "run without --watch, or raise the inotify limits (sysctl fs.inotify.max_user_watches)".into()),
            LocalError::ProcessFailed { .. } => Help::new(ExitClass::Failed, "read the log shown; `deployer package local` rebuilds the binaries it runs".into()),
        }
    }
}
