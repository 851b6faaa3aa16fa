//! Rendering stages into `generated/<stage>/`, and `--check` against what is committed.
//!
//! Rendering is deterministic (the context serializes in a fixed order, maps
//! are sorted, no clocks or digests), so a pull request's diff of generated/
//! shows exactly what a change does to each stage.

pub mod context;
pub mod templates;

use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::error::{Error, Result};
use crate::outputs::Outputs;
use crate::stage::Stage;
pub use context::{Context, Digests};
pub use templates::Templates;

/// The folder of rendered files, relative to the repository root.
pub const GENERATED_DIR: &str = "generated";

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// File name inside the stage folder, e.g. `stack.yaml`.
    pub name: String,
    /// Its full text.
    pub text: String,
}

/// What a write or a check found for one stage folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderReport {
    /// Files whose content differs (or that are new).
    pub changed: Vec<String>,
    /// Files in the folder that no template produces.
    pub extra: Vec<String>,
    /// Unified diffs of the changes (check only).
    pub diffs: Vec<String>,
}

/// Renders every template for one stage. Pure apart from what `templates` already loaded.
pub fn render_stage(
    templates: &Templates,
    stage: &Stage,
    outputs: &Outputs,
) -> Result<Vec<RenderedFile>> {
    let ctx = context::build(stage, outputs, None);
    let data = serde_json::to_value(&ctx).map_err(|e| Error::Template {
        template: "(context)".into(),
        line: None,
        column: None,
        message: e.to_string(),
        source_line: None,
    })?;
    let files = templates.render_all(&data)?;
    Ok(files
        .into_iter()
        .map(|(name, text)| RenderedFile { name, text })
        .collect())
}

/// Writes the files into `dir`, removing files no template produces; reports what changed.
pub fn write(dir: &Path, files: &[RenderedFile]) -> Result<FolderReport> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut report = FolderReport::default();
    for file in files {
        let path = dir.join(&file.name);
        if std::fs::read(&path).ok().as_deref() != Some(file.text.as_bytes()) {
            std::fs::write(&path, &file.text).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
            report.changed.push(file.name.clone());
        }
    }
    for name in extra_files(dir, files)? {
        let path = dir.join(&name);
        std::fs::remove_file(&path).map_err(|source| Error::Write { path, source })?;
        report.extra.push(name);
    }
    Ok(report)
}

/// Compares fresh files with the ones in `dir`; `shown` is how the folder appears in diffs.
pub fn check(dir: &Path, shown: &Path, files: &[RenderedFile]) -> Result<FolderReport> {
    let mut report = FolderReport::default();
    for file in files {
        let committed = read_if_exists(&dir.join(&file.name))?;
        if committed.as_deref() != Some(file.text.as_str()) {
            let label = shown.join(&file.name).display().to_string();
            report.diffs.push(unified_diff(
                &label,
                committed.as_deref().unwrap_or(""),
                &file.text,
            ));
            report.changed.push(file.name.clone());
        }
    }
    if dir.is_dir() {
        report.extra = extra_files(dir, files)?;
    }
    Ok(report)
}

/// A unified diff from the committed text to the fresh one (`a/` is committed, `b/` fresh).
pub fn unified_diff(label: &str, committed: &str, fresh: &str) -> String {
    TextDiff::from_lines(committed, fresh)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{label} (committed)"),
            &format!("b/{label} (fresh render)"),
        )
        .to_string()
}

/// Stage folders under `generated_dir` that belong to no stage (a removed stage file).
pub fn orphan_folders(generated_dir: &Path, stages: &[Stage]) -> Result<Vec<PathBuf>> {
    if !generated_dir.is_dir() {
        return Ok(vec![]);
    }
    let mut orphans: Vec<PathBuf> = dir_entries(generated_dir)?
        .into_iter()
        .filter(|(path, name)| path.is_dir() && !stages.iter().any(|s| s.name == *name))
        .map(|(path, _)| path)
        .collect();
    orphans.sort();
    Ok(orphans)
}

fn extra_files(dir: &Path, files: &[RenderedFile]) -> Result<Vec<String>> {
    let mut extra: Vec<String> = dir_entries(dir)?
        .into_iter()
        .filter(|(path, name)| path.is_file() && !files.iter().any(|f| f.name == *name))
        .map(|(_, name)| name)
        .collect();
    extra.sort();
    Ok(extra)
}

/// The entries of `dir`: each one's path and file name.
fn dir_entries(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let read_error = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        out.push((path, name));
    }
    Ok(out)
}

fn read_if_exists(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_committed_and_fresh() {
        let d = unified_diff("generated/dev/stack.yaml", "a\nb\n", "a\nc\n");
        assert!(
            d.contains("--- a/generated/dev/stack.yaml (committed)"),
            "{d}"
        );
        assert!(d.contains("-b\n+c\n"), "{d}");
    }
}
