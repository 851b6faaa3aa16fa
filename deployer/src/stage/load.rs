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
    yaml_serde::from_str::<StageFile>(text).map_err(|err| to_diagnostic(file, text, &err))
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

/// Turns a `yaml_serde` error into file:line:column, field and message.
fn to_diagnostic(file: &Path, text: &str, err: &yaml_serde::Error) -> Diagnostic {
    let full = err.to_string();
    // The message ends with " at line L column C" when it has a position; we report that separately.
    let message = match full.rfind(" at line ") {
        Some(i) if err.location().is_some() => full[..i].to_string(),
        _ => full.clone(),
    };
    let (path, message) = split_path(&message);
    let (field, message) = match unknown_field(&message) {
        Some(key) if path.is_empty() => (key.to_string(), message.clone()),
        Some(key) => (format!("{path}.{key}"), message.clone()),
        None if path.is_empty() => (
            missing_field(&message).unwrap_or("(file)").to_string(),
            message.clone(),
        ),
        None => match missing_field(&message) {
            Some(key) => (format!("{path}.{key}"), message.clone()),
            None => (path.clone(), message.clone()),
        },
    };
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    let message = if blank || message.contains("EOF while parsing") {
        "the file is empty; a stage file needs at least account, region and app".to_string()
    } else {
        message
    };
    let (mut line, mut column) = match err.location() {
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
        field = if path.is_empty() {
            key
        } else {
            format!("{path}.{key}")
        };
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

/// The key named in serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<&str> {
    backticked(message.strip_prefix("unknown field ")?)
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
mod tests {
    use super::*;

    fn diag(text: &str) -> Diagnostic {
        parse(Path::new("stages/x.yaml"), text).expect_err("should fail")
    }

    const GOOD_APP: &str = "app:
  architecture: arm64
  log_level: info
  api: {memory_mb: 128, timeout_seconds: 10}
  worker: {memory_mb: 128, timeout_seconds: 30}
  upstream: {provider: v3, base_url: 'http://127.0.0.1:8081'}
";

    #[test]
    fn duplicate_key_points_at_the_second_one() {
        let d = diag(&format!("account: '1'\nregion: r\nregion: s\n{GOOD_APP}"));
        assert_eq!(
            (d.line, d.column, d.field.as_str()),
            (3, 1, "region"),
            "{d}"
        );
        assert!(d.message.contains("duplicate field"), "{d}");
    }

    #[test]
    fn a_tab_is_named() {
        let text = format!(
            "account: '1'\nregion: r\n{}",
            GOOD_APP.replace("  log_level", "\tlog_level")
        );
        let d = diag(&text);
        assert_eq!(d.line, 5, "{d}");
        assert!(d.message.contains("tab"), "{d}");
    }

    #[test]
    fn rust_type_names_are_not_shown() {
        let text = format!(
            "account: '1'\nregion: r\n{}",
            GOOD_APP.replace("memory_mb: 128, timeout", "memory_mb: -1, timeout")
        );
        let d = diag(&text);
        assert!(d.message.contains("expected a whole number"), "{d}");
        assert!(!diag("- a\n").message.contains("StageFile"));
    }

    #[test]
    fn a_folder_without_stage_files_and_misnamed_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_dir(dir.path(), Path::new("stages")).unwrap_err();
        assert!(
            matches!(err, Error::Stage(StageError::NoStages { .. })),
            "{err}"
        );
        std::fs::write(dir.path().join("qa.yml"), "account: '1'\n").unwrap();
        std::fs::create_dir(dir.path().join("odd.yaml")).unwrap();
        std::fs::write(dir.path().join("bin.yaml"), b"account: '1'\nregion: \xff\n").unwrap();
        let Error::Stage(StageError::InvalidStage { diagnostics }) =
            load_dir(dir.path(), Path::new("stages")).unwrap_err()
        else {
            panic!("expected stage diagnostics");
        };
        let shown: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(
            shown[0].starts_with("stages/bin.yaml:2:9: field `(file)`: not UTF-8"),
            "{shown:?}"
        );
        assert!(
            shown[1].contains("stages/odd.yaml:1:1") && shown[1].contains("folder"),
            "{shown:?}"
        );
        assert!(
            shown[2].contains("rename it to stages/qa.yaml"),
            "{shown:?}"
        );
    }

    #[test]
    fn unknown_top_level_key() {
        let d = diag(&format!("account: '1'\nregion: r\nregoin: r\n{GOOD_APP}"));
        assert_eq!(
            (d.line, d.column, d.field.as_str()),
            (3, 1, "regoin"),
            "{d}"
        );
        assert!(d.message.contains("expected one of"), "{d}");
    }

    #[test]
    fn unknown_nested_key() {
        let text = format!("account: '1'\nregion: r\n{GOOD_APP}  breaker:\n    treshold: 3\n");
        let d = diag(&text);
        assert_eq!(
            (d.line, d.field.as_str()),
            (10, "app.breaker.treshold"),
            "{d}"
        );
    }

    #[test]
    fn wrong_type() {
        let text = format!(
            "account: '1'\nregion: r\n{}",
            GOOD_APP.replace("memory_mb: 128, timeout", "memory_mb: big, timeout")
        );
        let d = diag(&text);
        assert_eq!((d.line, d.field.as_str()), (6, "app.api.memory_mb"), "{d}");
        assert!(d.message.contains("invalid type"), "{d}");
    }

    #[test]
    fn bad_enum_value_lists_the_allowed_ones() {
        let text = format!(
            "account: '1'\nregion: r\n{}",
            GOOD_APP.replace("arm64", "amd64")
        );
        let d = diag(&text);
        assert_eq!((d.line, d.field.as_str()), (4, "app.architecture"), "{d}");
        assert!(d.message.contains("`x86_64` or `arm64`"), "{d}");
    }

    #[test]
    fn missing_required_key() {
        let d = diag(&format!("account: '1'\n{GOOD_APP}"));
        assert_eq!(d.field, "region", "{d}");
        assert!(d.message.contains("missing field"), "{d}");
    }

    #[test]
    fn empty_file() {
        let d = diag("");
        assert!(d.message.contains("empty"), "{d}");
    }
}
