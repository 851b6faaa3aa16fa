//! Stage files: syntax, types, meaning, and picking one.

use std::fmt;
use std::path::PathBuf;

use super::help::{ExitClass, Help};

/// A problem in a stage file, pinned to the place a person must edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stage file, as given (relative to the repository root when found there).
    pub file: PathBuf,
    /// 1-based line of the offending key (or of the nearest key that exists).
    pub line: usize,
    /// 1-based column of that key.
    pub column: usize,
    /// Dotted path of the field, e.g. `app.api.memory_mb`.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// The text of that line, for the snippet under the error (none when unknown).
    pub source_line: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: field `{}`: {}",
            self.file.display(),
            self.line,
            self.column,
            self.field,
            self.message
        )
    }
}

/// Stage files: syntax, types, meaning, and picking one. Each variant carries its message (`#[error]`); [`StageError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// One or more stage files are invalid (syntax, types or meaning).
    #[error("{}", join_lines(diagnostics))]
    InvalidStage { diagnostics: Vec<Diagnostic> },

    /// `stages/` holds no stage file.
    #[error("{} holds no stage files (*.yaml)", dir.display())]
    NoStages { dir: PathBuf },

    /// The stage named on the command line has no file.
    #[error("unknown stage `{name}`; stages are: {}", available.join(", "))]
    UnknownStage {
        name: String,
        available: Vec<String>,
    },
}

impl StageError {
    /// The exit class and the hint: one arm per variant and no catch-all, so a
    /// new variant does not compile until it has both.
    pub fn help(&self) -> Help {
        match self {
            StageError::InvalidStage { .. } => Help::new(ExitClass::Usage, "fix the stage file at the line shown; docs/stages.md lists every field and its allowed values".into()),
            StageError::NoStages { .. } => Help::new(ExitClass::Usage, "restore stages/ (`git checkout -- stages`) or add stages/<name>.yaml (docs/stages.md)".into()),
            StageError::UnknownStage { .. } => Help::new(ExitClass::Usage, "pass one of the stages listed, or add stages/<name>.yaml (see docs/stages.md)".into()),
        }
    }
}

fn join_lines(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
