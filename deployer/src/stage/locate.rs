//! Finds where a key sits in a YAML text, for error messages.
//!
//! `yaml_serde` reports positions only for errors it raises itself; the
//! semantic checks run on the parsed structs, which have no positions. This
//! pure helper maps a dotted key path (`app.api.memory_mb`) back to a line and
//! column by following indentation. It understands the block style the stage
//! files use; for anything it cannot follow it falls back to the nearest
//! parent key it found, then to the top of the file.

/// A 1-based line and column.
pub type Position = (usize, usize);

/// The position of the key at `path`, or of its nearest existing parent, or 1:1.
pub fn locate_nearest(text: &str, path: &str) -> Position {
    let mut parts: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
    while !parts.is_empty() {
        if let Some(pos) = locate(text, &parts) {
            return pos;
        }
        parts.pop();
    }
    (1, 1)
}

/// The position of the key at `path` (each element one mapping level), if present.
pub fn locate(text: &str, path: &[&str]) -> Option<Position> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let Some((indent, key)) = key_of_line(raw) else {
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key));
        if stack.len() == path.len() && stack.iter().zip(path).all(|((_, k), p)| k == p) {
            return Some((index + 1, indent + 1));
        }
    }
    None
}

/// The indentation and key of a `key: ...` line; `None` for blanks, comments,
/// list items without a key, and continuation lines.
fn key_of_line(line: &str) -> Option<(usize, String)> {
    let trimmed = line.trim_start_matches(' ');
    let mut indent = line.len() - trimmed.len();
    let mut rest = trimmed;
    if rest.starts_with('#') || rest.trim().is_empty() || rest.starts_with("---") {
        return None;
    }
    // A list item's keys are nested one level deeper than the dash.
    while let Some(after) = rest.strip_prefix("- ") {
        let stripped = after.trim_start_matches(' ');
        indent += rest.len() - stripped.len();
        rest = stripped;
    }
    let (key, after) = if let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'')
    {
        let body = &rest[1..];
        let end = body.find(quote)?;
        (body[..end].to_string(), &body[end + 1..])
    } else {
        let end = rest.find(':')?;
        (rest[..end].trim_end().to_string(), &rest[end..])
    };
    let after = after.trim_start_matches(' ');
    let value = after.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with(' ') || value.starts_with('\t')) {
        return None; // `http://x` is a value, not a key
    }
    if key.is_empty() || key.contains(' ') && !rest.starts_with(['"', '\'']) {
        return None;
    }
    Some((indent, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# comment
account: \"1\"
app:
  api:
    memory_mb: 128   # small
  worker:
    memory_mb: 256
  upstream:
    base_url: http://127.0.0.1:8081
tags:
  \"cost-center\": x
";

    #[test]
    fn finds_nested_keys() {
        assert_eq!(locate(TEXT, &["account"]), Some((2, 1)));
        assert_eq!(locate(TEXT, &["app", "api", "memory_mb"]), Some((5, 5)));
        assert_eq!(locate(TEXT, &["app", "worker", "memory_mb"]), Some((7, 5)));
        assert_eq!(locate(TEXT, &["tags", "cost-center"]), Some((11, 3)));
    }

    #[test]
    fn urls_are_values_not_keys() {
        assert_eq!(locate(TEXT, &["app", "upstream", "base_url"]), Some((9, 5)));
        assert_eq!(locate(TEXT, &["http"]), None);
    }

    #[test]
    fn falls_back_to_the_nearest_parent() {
        assert_eq!(locate_nearest(TEXT, "app.api.timeout_seconds"), (4, 3));
        assert_eq!(locate_nearest(TEXT, "approval"), (1, 1));
    }

    #[test]
    fn list_items_nest_under_the_dash() {
        let text = "items:\n  - name: a\n    size: 1\n";
        assert_eq!(locate(text, &["items", "name"]), Some((2, 5)));
        assert_eq!(locate(text, &["items", "size"]), Some((3, 5)));
    }
}
