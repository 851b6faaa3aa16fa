//! Where a stage's outputs come from (the built-in local values, a saved file,
//! or `terraform output -json`), and reading their text: the terraform
//! subprocess lives here, apart from the pure parsing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, OutputsError, Result};
use crate::stage::Stage;

/// Where one stage's outputs come from, after the override is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The local stage's built-in values.
    BuiltIn,
    /// A saved `terraform output -json` (path relative to the repository root, or absolute).
    File(PathBuf),
    /// `terraform -chdir=<dir> output -json`.
    Terraform(PathBuf),
}

/// Decides the source for a stage: the override file if given (cloud stages only), else the stage file's.
pub fn source_for(stage: &Stage, override_file: Option<&Path>) -> Source {
    let Some(src) = &stage.spec.terraform_outputs else {
        return Source::BuiltIn;
    };
    if let Some(file) = override_file {
        return Source::File(file.to_path_buf());
    }
    match (&src.file, &src.chdir) {
        (Some(file), _) => Source::File(PathBuf::from(file)),
        (None, Some(dir)) => Source::Terraform(PathBuf::from(dir)),
        (None, None) => Source::BuiltIn, // rejected by validation before we get here
    }
}

/// Where a stage's outputs come from, in words (for messages).
pub fn source_desc(stage: &Stage, override_file: Option<&Path>) -> String {
    match source_for(stage, override_file) {
        Source::BuiltIn => "built-in values of the local stage".into(),
        Source::File(f) => f.display().to_string(),
        Source::Terraform(dir) => format!("`terraform -chdir={} output -json`", dir.display()),
    }
}

/// The raw `terraform output -json` text of a stage and where it came from
/// (for messages); none for a local stage's built-in values.
pub fn read_text(
    root: &Path,
    stage: &Stage,
    override_file: Option<&Path>,
) -> Result<Option<(String, String)>> {
    match source_for(stage, override_file) {
        Source::BuiltIn => Ok(None),
        Source::File(file) => {
            let shown = file.display().to_string();
            let text = std::fs::read_to_string(root.join(&file)).map_err(|e| {
                Error::from(OutputsError::OutputsUnreadable {
                    stage: stage.name.clone(),
                    source_desc: shown.clone(),
                    detail: e.to_string(),
                })
            })?;
            Ok(Some((shown, text)))
        }
        Source::Terraform(dir) => {
            let shown = format!("`terraform -chdir={} output -json`", dir.display());
            let output = Command::new("terraform")
                .arg(format!("-chdir={}", root.join(&dir).display()))
                .args(["output", "-json"])
                .output()
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Error::from(OutputsError::TerraformMissing {
                        stage: stage.name.clone(),
                        dir: dir.clone(),
                    }),
                    _ => Error::from(OutputsError::OutputsUnreadable {
                        stage: stage.name.clone(),
                        source_desc: shown.clone(),
                        detail: e.to_string(),
                    }),
                })?;
            if !output.status.success() {
                return Err(OutputsError::OutputsUnreadable {
                    stage: stage.name.clone(),
                    source_desc: shown,
                    detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
                }
                .into());
            }
            Ok(Some((
                shown,
                String::from_utf8_lossy(&output.stdout).into_owned(),
            )))
        }
    }
}
