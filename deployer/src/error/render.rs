//! Templates, generated/ and the linters run on it.

use std::path::PathBuf;

use super::help::{ExitClass, Help};

/// Templates, generated/ and the linters run on it. Each variant carries its message (`#[error]`); [`RenderError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template does not parse or does not render (strict mode: a missing value is an error).
    #[error("template {template}{}: {message}", position(*line, *column))]
    Template {
        template: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
        /// The text of that line, for the snippet under the error.
        source_line: Option<String>,
    },

    /// `templates/` holds no `*.hbs` file: rendering would make nothing (and remove earlier renders).
    #[error("{} holds no templates (*.hbs); nothing was rendered", dir.display())]
    NoTemplates { dir: PathBuf },

    /// `render --check` found committed files that differ from a fresh render.
    #[error("generated files are stale: {}", paths.join(", "))]
    Stale { paths: Vec<String> },

    /// `validate` needs a rendered stack that is not there.
    #[error("stage {stage}: {path} does not exist")]
    NotRendered { stage: String, path: PathBuf },

    /// The in-memory render differs from the committed generated/.
    #[error("stage {stage}: the committed files differ from a fresh render: {}", files.join(", "))]
    RenderStale { stage: String, files: Vec<String> },

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

impl RenderError {
    /// The exit class and the hint: one arm per variant and no catch-all, so a
    /// new variant does not compile until it has both.
    pub fn help(&self) -> Help {
        match self {
            RenderError::Template { .. } => Help::new(ExitClass::Usage, "fix the template at the line shown; the values it may use are the fields of render::context::Context".into()),
            RenderError::NoTemplates { .. } => Help::new(ExitClass::Usage, "restore templates/ (`git checkout -- templates`); the deployer renders each templates/<name>.hbs into generated/<stage>/<name>".into()),
            RenderError::Stale { paths } if paths.iter().any(|p| p.ends_with("(no stage file)")) => Help::new(ExitClass::Failed, "`git rm -r` the folders of stages that no longer exist, run `deployer render --all`, and commit generated/".into()),
            RenderError::Stale { .. } => Help::new(ExitClass::Failed, "run `deployer render --all` and commit generated/ with the change that caused it".into()),
            RenderError::NotRendered { .. } => Help::new(ExitClass::Usage, "run `deployer render <stage>` first".into()),
            RenderError::LintToolMissing { .. } | RenderError::LintToolFailedToStart { .. } => Help::new(ExitClass::Usage, "python3 -m venv .countries/venv-lint && .countries/venv-lint/bin/pip install -r tools/requirements-lint.txt".into()),
            RenderError::LintFailed { .. } => Help::new(ExitClass::Failed, "fix templates/stack.yaml.hbs and re-render; skip a checkov check only with a reason in the resource's Metadata".into()),
            RenderError::RenderStale { stage, .. } => Help::new(ExitClass::Usage, { format!(
                "run `deployer render {stage}` and commit generated/ with the change that caused it, then retry"
            ) }),
        }
    }
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" line {l}, column {c}"),
        (Some(l), None) => format!(" line {l}"),
        (None, _) => String::new(),
    }
}
