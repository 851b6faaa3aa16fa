//! Reading and writing files.

use std::path::PathBuf;

use super::help::{ExitClass, Help};

/// Reading and writing files. Each variant carries its message (`#[error]`); [`FsError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A file or folder could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl FsError {
    /// The exit class and the hint: one arm per variant and no catch-all, so a
    /// new variant does not compile until it has both.
    pub fn help(&self) -> Help {
        match self {
            FsError::Read { .. } => Help::new(
                ExitClass::Usage,
                "check that the path exists and is readable".into(),
            ),
            FsError::Write { .. } => Help::new(
                ExitClass::Failed,
                "check that the output folder is writable".into(),
            ),
        }
    }
}
