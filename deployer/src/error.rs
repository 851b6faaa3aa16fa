//! The deployer's one error type.
//!
//! Every failure a user can meet is a variant here, so `main` can print it the
//! same way (`error: ...` then `hint: ...`) and map it to an exit code:
//! 1 when a check ran and failed, 2 when the input or setup is wrong.

use std::fmt;
use std::path::PathBuf;

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

/// Everything that can go wrong in the deployer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository root (the folder holding `stages/` and `templates/`) was not found.
    #[error("cannot find the repository root (a folder with stages/ and templates/) from {start}")]
    RootNotFound { start: PathBuf },

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

    /// One or more stage files are invalid (syntax, types or meaning).
    #[error("{}", join_lines(diagnostics))]
    InvalidStage { diagnostics: Vec<Diagnostic> },

    /// The stage named on the command line has no file.
    #[error("unknown stage `{name}`; stages are: {}", available.join(", "))]
    UnknownStage {
        name: String,
        available: Vec<String>,
    },

    /// The Terraform outputs could not be obtained.
    #[error("stage {stage}: cannot read Terraform outputs from {source_desc}: {detail}")]
    OutputsUnreadable {
        stage: String,
        source_desc: String,
        detail: String,
    },

    /// A Terraform output the templates need is absent.
    #[error("stage {stage}: Terraform output `{name}` is missing from {source_desc}")]
    OutputMissing {
        stage: String,
        name: String,
        source_desc: String,
    },

    /// A Terraform output has the wrong JSON type or content.
    #[error("stage {stage}: Terraform output `{name}` in {source_desc} {problem}")]
    OutputInvalid {
        stage: String,
        name: String,
        source_desc: String,
        problem: String,
    },

    /// `terraform` is needed (a stage reads outputs with `chdir:`) but is not on PATH.
    #[error(
        "stage {stage}: `terraform` is not installed or not on PATH (needed to read outputs from {dir})"
    )]
    TerraformMissing { stage: String, dir: PathBuf },

    /// A template does not parse or does not render (strict mode: a missing value is an error).
    #[error("template {template}{}: {message}", position(*line, *column))]
    Template {
        template: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },

    /// `render --check` found committed files that differ from a fresh render.
    #[error("generated files are stale: {}", paths.join(", "))]
    Stale { paths: Vec<String> },

    /// `validate` needs a rendered stack that is not there.
    #[error("stage {stage}: {path} does not exist")]
    NotRendered { stage: String, path: PathBuf },

    /// A linter is not installed in the project's lint virtualenv.
    #[error("{tool} is not installed at {path}")]
    LintToolMissing { tool: String, path: PathBuf },

    /// A linter could not be started.
    #[error("cannot run {tool}: {source}")]
    LintToolFailedToStart {
        tool: String,
        source: std::io::Error,
    },

    /// A linter reported problems.
    #[error("{tool} reported problems in: {}", files.join(", "))]
    LintFailed { tool: String, files: Vec<String> },
}

impl Error {
    /// The process exit code: 1 when a check ran and failed, 2 for usage or configuration errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Stale { .. } | Error::LintFailed { .. } | Error::Write { .. } => 1,
            _ => 2,
        }
    }

    /// One line telling the user what to do next.
    pub fn hint(&self) -> String {
        match self {
            Error::RootNotFound { .. } => {
                "run the deployer inside the repository, or pass --root DIR".into()
            }
            Error::Read { .. } => "check that the path exists and is readable".into(),
            Error::Write { .. } => "check that the output folder is writable".into(),
            Error::InvalidStage { .. } => {
                "fix the stage file at the line shown; docs/stages.md lists every field and its allowed values".into()
            }
            Error::UnknownStage { .. } => {
                "pass one of the stages listed, or add stages/<name>.yaml (see docs/stages.md)".into()
            }
            Error::OutputsUnreadable { .. } | Error::OutputMissing { .. } | Error::OutputInvalid { .. } => {
                "check `terraform_outputs` in the stage file, or DEPLOYER_OUTPUTS_FILE; the file must be `terraform output -json` output and declare every output in deployer/src/outputs.rs REQUIRED".into()
            }
            Error::TerraformMissing { .. } => {
                "install Terraform >= 1.11, or point DEPLOYER_OUTPUTS_FILE at a saved `terraform output -json`".into()
            }
            Error::Template { .. } => {
                "fix the template at the line shown; the values it may use are the fields of render::context::Context".into()
            }
            Error::Stale { .. } => {
                "run `deployer render --all` and commit generated/ with the change that caused it".into()
            }
            Error::NotRendered { .. } => "run `deployer render <stage>` first".into(),
            Error::LintToolMissing { .. } | Error::LintToolFailedToStart { .. } => {
                "python3 -m venv .countries/venv-lint && .countries/venv-lint/bin/pip install -r tools/requirements-lint.txt".into()
            }
            Error::LintFailed { .. } => {
                "fix templates/stack.yaml.hbs and re-render; skip a checkov check only with a reason in the resource's Metadata".into()
            }
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

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" line {l}, column {c}"),
        (Some(l), None) => format!(" line {l}"),
        _ => String::new(),
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
