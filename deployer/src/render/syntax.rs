//! Where a Handlebars syntax error really is. The parser reports an unclosed
//! `{{` or block where it gave up, often the end of the file; a person needs
//! the place it was opened. Pure: text in, position out.

/// The first `{{` never closed by `}}`, or else the innermost `{{#block}}` never
/// closed by `{{/block}}`: its line, column (1-based) and a message.
pub fn unclosed(text: &str) -> Option<(usize, usize, String)> {
    let position = |offset: usize| {
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, column)
    };
    let mut blocks: Vec<(usize, &str)> = Vec::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find("{{") {
        let open = rest + found;
        let inner_start = open + 2;
        let close = text[inner_start..].find("}}").map(|i| inner_start + i);
        let next_open = text[inner_start..].find("{{").map(|i| inner_start + i);
        let Some(close) = close.filter(|c| next_open.is_none_or(|n| *c < n)) else {
            let (line, column) = position(open);
            return Some((line, column, "`{{` is not closed with `}}`".into()));
        };
        let inner = text[inner_start..close]
            .trim_start_matches('~')
            .trim_start();
        let name = |tag: &'static str| {
            inner.strip_prefix(tag).map(|n| {
                n.split(|c: char| c.is_whitespace() || c == '~')
                    .next()
                    .unwrap_or("")
            })
        };
        if let Some(block) = name("#") {
            blocks.push((open, block));
        } else if let Some(block) = name("/") {
            match blocks.pop() {
                Some((_, opened)) if opened == block => {}
                Some((at, opened)) => {
                    let (line, column) = position(at);
                    return Some((
                        line,
                        column,
                        format!(
                            "`{{{{#{opened}}}}}` is closed by `{{{{/{block}}}}}`, not `{{{{/{opened}}}}}`"
                        ),
                    ));
                }
                None => {
                    let (line, column) = position(open);
                    return Some((
                        line,
                        column,
                        format!("`{{{{/{block}}}}}` closes no open block"),
                    ));
                }
            }
        }
        rest = close + 2;
    }
    blocks.pop().map(|(at, block)| {
        let (line, column) = position(at);
        (
            line,
            column,
            format!("`{{{{#{block}}}}}` is never closed with `{{{{/{block}}}}}`"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_opening_of_what_is_unclosed() {
        assert_eq!(unclosed("{{#if a}}{{~/if}} {{x}}"), None);
        assert_eq!(
            unclosed("a\n  {{x\nb {{y}}\n").map(|u| (u.0, u.1)),
            Some((2, 3))
        );
        assert_eq!(
            unclosed("{{#each x}}\n{{#if y}}\n{{/if}}").map(|u| (u.0, u.1)),
            Some((1, 1))
        );
        assert_eq!(
            unclosed("{{/if}}").map(|u| u.2),
            Some("`{{/if}}` closes no open block".into())
        );
    }
}
