//! How errors read: the `error:` lines, for a stage-file or template error the
//! offending line with a caret under the column and a hint (the way cargo shows
//! a compile error), then the `hint:` line; and the same information as JSON
//! for `--json`. Pure: error in, text or JSON out.

use serde_json::{Value, json};

use crate::error::{Diagnostic, Error, RenderError, StageError};

/// The text of 1-based `line` in `text`, for a snippet (none past the end).
pub fn line_text(text: &str, line: usize) -> Option<String> {
    line.checked_sub(1)
        .and_then(|i| text.lines().nth(i))
        .map(|l| l.trim_end().to_string())
}

/// How many characters the caret covers: the key or expression at `column`
/// (up to `:`, whitespace or `}}`), at least one.
fn caret_width(source: &str, column: usize) -> usize {
    let rest: String = source.chars().skip(column.saturating_sub(1)).collect();
    let end = if rest.starts_with("{{") {
        rest.find("}}").map_or(rest.len(), |i| i + 2)
    } else {
        rest.find(|c: char| c == ':' || c.is_whitespace())
            .unwrap_or(rest.len())
    };
    rest[..end].chars().count().max(1)
}

/// One snippet in cargo's layout:
///
/// ```text
///   --> stages/qa.yaml:11:3
///    |
/// 11 |   log_retention: 7
///    |   ^^^^^^^^^^^^^ field `app.log_retention`
///    |
///    = hint: ...
/// ```
pub fn snippet(
    file: &str,
    line: usize,
    column: usize,
    source_line: Option<&str>,
    label: &str,
    hint: &str,
    color: bool,
) -> String {
    let (blue, red, reset) = if color {
        ("\x1b[1;34m", "\x1b[1;31m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    let mut out = format!("{pad}{blue}-->{reset} {file}:{line}:{column}\n");
    if let Some(source) = source_line {
        let column = column.max(1);
        // Tabs would shift the caret: show them as one space each.
        let shown = source.replace('\t', " ");
        let indent = " ".repeat(column - 1);
        let carets = "^".repeat(caret_width(&shown, column));
        out.push_str(&format!("{pad} {blue}|{reset}\n"));
        out.push_str(&format!("{blue}{number} |{reset} {shown}\n"));
        out.push_str(&format!(
            "{pad} {blue}|{reset} {indent}{red}{carets} {label}{reset}\n"
        ));
        out.push_str(&format!("{pad} {blue}|{reset}\n"));
    }
    out.push_str(&format!("{pad} {blue}={reset} hint: {hint}\n"));
    out
}

/// The hint for one stage-file diagnostic: what to change there.
pub fn stage_hint(d: &Diagnostic) -> String {
    let m = &d.message;
    if m.starts_with("unknown field") {
        "remove the key or rename it to one of the fields listed (docs/stages.md)".into()
    } else if m.starts_with("missing field") {
        "add the field; docs/stages.md says what it holds".into()
    } else if m.contains("invalid type") {
        "give the value the type named above (quote numbers meant as text)".into()
    } else if m.contains("unknown variant") || m.contains("expected `") {
        "use one of the values listed".into()
    } else if m.contains("empty") {
        "start from a copy of stages/dev.yaml".into()
    } else {
        "docs/stages.md lists every field and its allowed values".into()
    }
}

/// The hint for a template error.
pub fn template_hint(message: &str) -> String {
    if message.contains("is not defined") {
        "use a field of render::context::Context (docs/stages.md shows the context), or add it there"
            .into()
    } else {
        "fix the Handlebars syntax at the caret; `deployer render <stage>` re-checks it".into()
    }
}

/// The whole error as printed on stderr: `error:` lines, snippets, `hint:`.
pub fn report(err: &Error, color: bool) -> String {
    let (red, bold, reset) = if color {
        ("\x1b[1;31m", "\x1b[1m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let mut out = String::new();
    match err {
        Error::Stage(StageError::InvalidStage { diagnostics }) => {
            for d in diagnostics {
                out.push_str(&format!("{red}error{reset}{bold}: {d}{reset}\n"));
                out.push_str(&snippet(
                    &d.file.display().to_string(),
                    d.line,
                    d.column,
                    d.source_line.as_deref(),
                    &format!("field `{}`", d.field),
                    &stage_hint(d),
                    color,
                ));
            }
        }
        Error::Render(RenderError::Template {
            template,
            line: Some(line),
            column,
            message,
            source_line,
        }) => {
            out.push_str(&format!("{red}error{reset}{bold}: {err}{reset}\n"));
            out.push_str(&snippet(
                template,
                *line,
                column.unwrap_or(1),
                source_line.as_deref(),
                message.split(" (").next().unwrap_or(message),
                &template_hint(message),
                color,
            ));
        }
        _ => {
            for line in err.to_string().lines() {
                out.push_str(&format!("{red}error{reset}{bold}: {line}{reset}\n"));
            }
        }
    }
    out.push_str(&format!("hint: {}\n", err.hint()));
    out
}

/// The error as JSON (`--json`): message, exit code, hint, and one entry per
/// position with file, line, column, field, message, hint and the source line.
pub fn json(err: &Error) -> Value {
    let diagnostics: Vec<Value> = match err {
        Error::Stage(StageError::InvalidStage { diagnostics }) => diagnostics
            .iter()
            .map(|d| {
                json!({
                    "file": d.file.display().to_string(),
                    "line": d.line,
                    "column": d.column,
                    "field": d.field,
                    "message": d.message,
                    "hint": stage_hint(d),
                    "source_line": d.source_line,
                })
            })
            .collect(),
        Error::Render(RenderError::Template {
            template,
            line,
            column,
            message,
            source_line,
        }) => vec![json!({
            "file": template,
            "line": line,
            "column": column,
            "field": Value::Null,
            "message": message,
            "hint": template_hint(message),
            "source_line": source_line,
        })],
        _ => vec![],
    };
    json!({
        "error": {
            "message": err.to_string(),
            "exit_code": err.exit_code(),
            "hint": err.hint(),
            "diagnostics": diagnostics,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_puts_the_caret_under_the_column() {
        let s = snippet(
            "stages/qa.yaml",
            11,
            3,
            Some("  log_retention: 7"),
            "field `app.log_retention`",
            "remove it",
            false,
        );
        assert_eq!(
            s,
            "  --> stages/qa.yaml:11:3\n   |\n11 |   log_retention: 7\n   |   ^^^^^^^^^^^^^ field `app.log_retention`\n   |\n   = hint: remove it\n"
        );
    }

    #[test]
    fn caret_covers_a_handlebars_expression() {
        assert_eq!(caret_width("x: {{nope}} y", 4), "{{nope}}".len());
        assert_eq!(caret_width("key: v", 1), 3);
        assert_eq!(caret_width("", 5), 1);
    }

    #[test]
    fn line_text_is_one_based() {
        assert_eq!(line_text("a\nb\n", 2).as_deref(), Some("b"));
        assert_eq!(line_text("a\n", 3), None);
        assert_eq!(line_text("a\n", 0), None);
    }

    /// `--json` of a stage-file error: one entry per position, with the same
    /// fields the text shows (the run end to end is tests/diagnostics.rs).
    #[test]
    fn stage_errors_in_json() {
        let err = Error::from(StageError::InvalidStage {
            diagnostics: vec![Diagnostic {
                file: "stages/qa.yaml".into(),
                line: 11,
                column: 3,
                field: "app.log_retention".into(),
                message: "unknown field `log_retention`, expected one of `architecture`".into(),
                source_line: Some("  log_retention: 7".into()),
            }],
        });
        let v = json(&err);
        let d = &v["error"]["diagnostics"][0];
        assert_eq!(d["file"], "stages/qa.yaml");
        assert_eq!(d["line"], 11);
        assert_eq!(d["column"], 3);
        assert_eq!(d["field"], "app.log_retention");
        assert_eq!(d["source_line"], "  log_retention: 7");
        assert!(
            d["message"]
                .as_str()
                .unwrap()
                .starts_with("unknown field `log_retention`"),
            "{d}"
        );
        assert!(d["hint"].as_str().unwrap().contains("rename"), "{d}");
        assert_eq!(v["error"]["exit_code"], 2);
        assert!(v["error"]["hint"].is_string());
    }
}
