//! Untrusted text shown back to a caller (in an error message) or written to
//! a log: shortened, and with anything invisible escaped, so what a person
//! reads is exactly what was sent (`py\u{0}` never reads as `py`).

/// At most `max` characters of `raw`; control, format (zero-width, BOM,
/// bidi) and non-space whitespace characters as `\u{..}`; `...` when cut.
pub fn show(raw: &str, max: usize) -> String {
    let mut out = String::new();
    for c in raw.chars().take(max) {
        if invisible(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    if raw.chars().nth(max).is_some() {
        out.push_str("...");
    }
    out
}

fn invisible(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(c,
            '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_escaped_and_long_input_cut() {
        assert_eq!(show("PY", 16), "PY");
        assert_eq!(show("py\0", 16), "py\\u{0}");
        assert_eq!(show("py\n", 16), "py\\u{a}");
        assert_eq!(show("py\u{200b}", 16), "py\\u{200b}");
        assert_eq!(show("\u{feff}py", 16), "\\u{feff}py");
        assert_eq!(show("\u{202e}ab", 16), "\\u{202e}ab");
        assert_eq!(show("é ü", 16), "é ü");
        assert_eq!(show(&"9".repeat(20), 16), format!("{}...", "9".repeat(16)));
        assert_eq!(show(&"9".repeat(16), 16), "9".repeat(16));
    }
}
