//! Reading stage files: the only I/O in `stage/`.
//!
//! `parse` is pure (text in, struct or diagnostic out) so tests can feed it
//! strings; `load_dir` reads every `stages/*.yaml` and collects all problems
//! at once, so one run shows every mistake.

use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error, FsError, Result, StageError};
use crate::stage::locate::locate_nearest;
use crate::stage::schema::StageFile;

/// A parsed stage file with what error messages need: its path and text.
#[derive(Debug, Clone)]
pub struct Stage {
    /// The stage name: the file stem.
    pub name: String,
    /// The file, as shown in messages.
    pub file: PathBuf,
    /// The file's text, to locate keys for semantic errors.
    pub text: String,
    /// The typed content.
    pub spec: StageFile,
}

/// Parses one stage file's text; a YAML or type error becomes a positioned diagnostic.
pub fn parse(file: &Path, text: &str) -> std::result::Result<StageFile, Diagnostic> {
    serde_path_to_error::deserialize(yaml_serde::Deserializer::from_str(text)).map_err(|err| {
        // A YAML syntax error names no field, whatever was being read when the parser
        // met it: it is one when reading the file as plain YAML fails at the same place.
        let syntax = yaml_serde::from_str::<serde::de::IgnoredAny>(text)
            .err()
            .is_some_and(|e| same_place(e.location(), err.inner().location()));
        let path = if syntax {
            String::new()
        } else {
            dotted(err.path())
        };
        to_diagnostic(file, text, &path, err.inner())
    })
}

fn same_place(a: Option<yaml_serde::Location>, b: Option<yaml_serde::Location>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a.line(), a.column()) == (b.line(), b.column()),
        (None, None) => true,
        (Some(_), None) | (None, Some(_)) => false,
    }
}

/// Reads and parses every `*.yaml` in `dir`, sorted by name; `shown_dir` is how
/// the folder appears in messages (e.g. `stages`).
pub fn load_dir(dir: &Path, shown_dir: &Path) -> Result<Vec<Stage>> {
    let entries = std::fs::read_dir(dir).map_err(|source| {
        Error::from(FsError::Read {
            path: dir.to_path_buf(),
            source,
        })
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| {
            Error::from(FsError::Read {
                path: dir.to_path_buf(),
                source,
            })
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(StageError::NoStages {
            dir: shown_dir.to_path_buf(),
        }
        .into());
    }

    let mut stages = Vec::new();
    let mut diagnostics = Vec::new();
    for path in paths {
        let file = shown_dir.join(path.file_name().unwrap_or_default());
        let whole_file = |message: String| Diagnostic {
            file: file.clone(),
            line: 1,
            column: 1,
            field: "(file)".into(),
            message,
            source_line: None,
        };
        if path.extension().is_some_and(|e| e == "yml") {
            let renamed = file.with_extension("yaml");
            diagnostics.push(whole_file(format!(
                "stage files end in .yaml; rename it to {}",
                renamed.display()
            )));
            continue;
        }
        if !path.is_file() {
            diagnostics.push(whole_file(
                "this is a folder, not a stage file; move it out of stages/".into(),
            ));
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|source| {
            Error::from(FsError::Read {
                path: file.clone(),
                source,
            })
        })?;
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
                diagnostics.push(Diagnostic {
                    line,
                    column,
                    ..whole_file("not UTF-8 text; save the file as UTF-8".into())
                });
                continue;
            }
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match parse(&file, &text) {
            Ok(spec) => stages.push(Stage {
                name,
                file,
                text,
                spec,
            }),
            Err(d) => diagnostics.push(d),
        }
    }
    if diagnostics.is_empty() {
        Ok(stages)
    } else {
        Err(StageError::InvalidStage { diagnostics }.into())
    }
}

/// The dotted field path serde_path_to_error tracked (`app.api.memory_mb`,
/// `tags[0]`); empty at the top of the file.
fn dotted(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key }
            | serde_path_to_error::Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

/// Turns a deserialization error into file:line:column, field and message.
///
/// The field comes from the path serde_path_to_error tracked and the position
/// from yaml_serde's location. Only two things still come from the message
/// text, because serde carries them nowhere else: the key a "missing field" or
/// "duplicate field" error names (its path is the parent mapping).
fn to_diagnostic(file: &Path, text: &str, path: &str, inner: &yaml_serde::Error) -> Diagnostic {
    // yaml_serde has no accessor for the bare message: drop the position it appends
    // and the path it prepends (both reported separately).
    let full = inner.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) if inner.location().is_some() => full[..i].to_string(),
        _ => full.clone(),
    };
    let (_, message) = split_path(&message);
    let parent_and = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    let field = match (missing_field(&message), path.is_empty()) {
        (Some(key), _) => parent_and(key),
        (None, true) => "(file)".to_string(),
        (None, false) => path.to_string(),
    };
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    let message = if blank || message.contains("EOF while parsing") {
        "the file is empty; a stage file needs at least account, region and app".to_string()
    } else {
        message
    };
    let (mut line, mut column) = match inner.location() {
        Some(loc) if !message.starts_with("missing field") => (loc.line(), loc.column()),
        _ => locate_nearest(text, &field),
    };
    let mut field = field;
    let mut message = plain_types(&message);
    if let Some(key) = message
        .strip_prefix("duplicate field ")
        .and_then(backticked)
    {
        // serde points at the mapping; the second occurrence is what to remove.
        let key = key.to_string();
        if let Some((l, c)) = second_key(text, &key) {
            (line, column) = (l, c);
        }
        field = parent_and(&key);
    }
    if text
        .lines()
        .nth(line.saturating_sub(1))
        .is_some_and(|l| l.contains('\t'))
    {
        message =
            "a tab character: YAML indents with spaces only; replace the tab with spaces".into();
    }
    Diagnostic {
        file: file.to_path_buf(),
        line,
        column,
        field,
        message,
        source_line: crate::diagnostics::line_text(text, line),
    }
}

/// serde's Rust type names in words a stage-file author knows.
fn plain_types(message: &str) -> String {
    let mut out = message.to_string();
    for (rust, plain) in [
        (
            "expected struct StageFile",
            "expected a mapping of account, region, app, ...",
        ),
        ("expected u8", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected f64", "expected a number"),
    ] {
        out = out.replace(rust, plain);
    }
    out
}

/// Line and column (1-based) of the second line that starts with `key:`.
fn second_key(text: &str, key: &str) -> Option<(usize, usize)> {
    let prefix = format!("{key}:");
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let indent = l.len() - l.trim_start().len();
            l.trim_start()
                .starts_with(&prefix)
                .then_some((i + 1, indent + 1))
        })
        .nth(1)
}

/// Splits `app.api: invalid type ...` into the path and the message.
fn split_path(message: &str) -> (String, String) {
    if let Some((head, tail)) = message.split_once(": ") {
        let is_path = !head.is_empty()
            && head
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'));
        if is_path {
            return (head.to_string(), tail.to_string());
        }
    }
    (String::new(), message.to_string())
}

/// The key named in serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    backticked(message.strip_prefix("missing field ")?)
}

fn backticked(s: &str) -> Option<&str> {
    let s = s.strip_prefix('`')?;
    Some(&s[..s.find('`')?])
}

#[cfg(test)]
mod tests;
