//! The Handlebars registry: strict mode, no HTML escaping, and the few helpers
//! templates may use (`json`, `upper`, `join`, `eq`).
//!
//! Strict mode makes a missing value an error naming the template, line and
//! variable. The built-in `if`/`unless` accept missing values silently, so
//! they are replaced by strict versions: `{{#if typo}}` fails instead of
//! quietly dropping a block.

use std::path::{Path, PathBuf};

use handlebars::{
    Context as HbContext, Handlebars, Helper, HelperDef, HelperResult, JsonTruthy, Output,
    RenderContext, RenderError, RenderErrorReason, Renderable, handlebars_helper,
};
use serde_json::Value;

use crate::error::{Error, FsError, RenderError as RenderFailure, Result};

/// The folder of templates, relative to the repository root.
pub const TEMPLATES_DIR: &str = "templates";

/// Loaded templates: each `templates/<name>.hbs` renders to `<name>`.
pub struct Templates {
    registry: Handlebars<'static>,
    /// Template names (`templates/stack.yaml.hbs`), sorted.
    names: Vec<String>,
    /// Each template's text, for the snippet under an error.
    sources: std::collections::BTreeMap<String, String>,
}

handlebars_helper!(json: |v: Json| serde_json::to_string(v).unwrap_or_default());
handlebars_helper!(upper: |s: str| s.to_uppercase());
handlebars_helper!(eq: |a: Json, b: Json| a == b);
handlebars_helper!(join: |list: array, sep: str| {
    list.iter()
        .map(|v| match v { Value::String(s) => s.clone(), other => other.to_string() })
        .collect::<Vec<_>>()
        .join(sep)
});

impl Templates {
    /// An empty registry with strict mode and the helpers.
    pub fn new() -> Self {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_helper("json", Box::new(json));
        registry.register_helper("upper", Box::new(upper));
        registry.register_helper("eq", Box::new(eq));
        registry.register_helper("join", Box::new(join));
        registry.register_helper("if", Box::new(StrictBlock { negate: false }));
        registry.register_helper("unless", Box::new(StrictBlock { negate: true }));
        Templates {
            registry,
            names: Vec::new(),
            sources: Default::default(),
        }
    }

    /// Adds one template from text; `name` is how errors refer to it.
    pub fn add(&mut self, name: &str, text: &str) -> Result<()> {
        self.registry
            .register_template_string(name, text)
            .map_err(|e| {
                // The parser reports an unclosed `{{` or block where it gave up (often the
                // end of the file); point at where it was opened instead.
                let (pos, message) = match super::syntax::unclosed(text) {
                    Some((line, column, what)) => (Some((line, column)), what),
                    None => (e.pos(), e.reason().to_string()),
                };
                Error::from(RenderFailure::Template {
                    template: name.to_string(),
                    line: pos.map(|p| p.0),
                    column: pos.map(|p| p.1),
                    message,
                    source_line: pos.and_then(|p| crate::diagnostics::line_text(text, p.0)),
                })
            })?;
        self.names.push(name.to_string());
        self.sources.insert(name.to_string(), text.to_string());
        self.names.sort();
        Ok(())
    }

    /// Loads every `*.hbs` under `root/templates` (not recursive).
    pub fn load(root: &Path) -> Result<Self> {
        let dir = root.join(TEMPLATES_DIR);
        let read_err = |source| {
            Error::from(FsError::Read {
                path: dir.clone(),
                source,
            })
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(read_err)? {
            let path = entry.map_err(read_err)?.path();
            if path.extension().is_some_and(|e| e == "hbs") {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(RenderFailure::NoTemplates {
                dir: PathBuf::from(TEMPLATES_DIR),
            }
            .into());
        }
        files.sort();
        let mut templates = Templates::new();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| {
                Error::from(FsError::Read {
                    path: path.clone(),
                    source,
                })
            })?;
            let file_name = path.file_name().unwrap_or_default().to_string_lossy();
            templates.add(&format!("{TEMPLATES_DIR}/{file_name}"), &text)?;
        }
        Ok(templates)
    }

    /// `(output file name, rendered text)` for every template, sorted by name.
    pub fn render_all(&self, data: &Value) -> Result<Vec<(String, String)>> {
        self.names
            .iter()
            .map(|name| {
                let text = self
                    .registry
                    .render(name, data)
                    .map_err(|e| template_error(name, &e, &self.sources))?;
                let file = name
                    .rsplit('/')
                    .next()
                    .unwrap_or(name)
                    .trim_end_matches(".hbs")
                    .to_string();
                Ok((file, text))
            })
            .collect()
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

fn template_error(
    name: &str,
    e: &RenderError,
    sources: &std::collections::BTreeMap<String, String>,
) -> Error {
    let message = match e.reason() {
        RenderErrorReason::MissingVariable(Some(path)) => {
            format!("`{path}` is not defined (strict mode: every value must exist in the context)")
        }
        RenderErrorReason::ParamNotFoundForName(helper, param) => {
            format!("helper `{helper}`: parameter `{param}` is missing or not defined")
        }
        RenderErrorReason::HelperNotFound(helper) => format!(
            "no helper `{helper}`; the helpers are json, upper, join, eq and Handlebars' own (if, unless, each, with, lookup)"
        ),
        other => other.to_string(),
    };
    let template = e.template_name.clone().unwrap_or_else(|| name.to_string());
    let source_line = e
        .line_no
        .zip(sources.get(&template))
        .and_then(|(line, text)| crate::diagnostics::line_text(text, line));
    Error::from(RenderFailure::Template {
        template,
        line: e.line_no,
        column: e.column_no,
        message,
        source_line,
    })
}

/// The strict `if` (`negate: false`) and `unless` (`negate: true`): a missing value is an error.
struct StrictBlock {
    negate: bool,
}

impl HelperDef for StrictBlock {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc HbContext,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let negate = self.negate;
        let param = h.param(0).ok_or_else(|| {
            RenderErrorReason::ParamNotFoundForIndex(if negate { "unless" } else { "if" }, 0)
        })?;
        if param.is_value_missing() {
            return Err(RenderErrorReason::MissingVariable(param.relative_path().cloned()).into());
        }
        let truthy = param.value().is_truthy(false) != negate;
        match if truthy { h.template() } else { h.inverse() } {
            Some(t) => t.render(r, ctx, rc, out),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn syntax_errors_point_where_the_tag_was_opened() {
        for (text, line, column, says) in [
            (
                "a\nb {{#if x}}\nc\n",
                2,
                3,
                "`{{#if}}` is never closed with `{{/if}}`",
            ),
            ("a\n  {{x\nb {{y}}\n", 2, 3, "`{{` is not closed with `}}`"),
            (
                "{{#each x}}{{#if y}}{{/each}}",
                1,
                12,
                "`{{#if}}` is closed by `{{/each}}`",
            ),
        ] {
            let Err(Error::Render(RenderFailure::Template {
                line: l,
                column: c,
                message,
                ..
            })) = Templates::new().add("t.hbs", text)
            else {
                panic!("{text:?} should not parse");
            };
            assert_eq!((l, c), (Some(line), Some(column)), "{text:?}: {message}");
            assert!(message.starts_with(says), "{text:?}: {message}");
        }
    }

    #[test]
    fn an_unknown_helper_lists_the_helpers() {
        let err = render("{{lower x}}", json!({"x": "A"})).unwrap_err();
        assert!(
            err.to_string().contains("the helpers are json, upper"),
            "{err}"
        );
    }

    fn render(text: &str, data: Value) -> Result<String> {
        let mut t = Templates::new();
        t.add("templates/t.hbs", text)?;
        Ok(t.render_all(&data)?.remove(0).1)
    }

    #[test]
    fn helpers() {
        let data = json!({"s": "a\"b", "l": ["x", 1], "n": null});
        assert_eq!(render("{{json s}}", data.clone()).unwrap(), r#""a\"b""#);
        assert_eq!(render("{{upper \"dev\"}}", data.clone()).unwrap(), "DEV");
        assert_eq!(render("{{join l \", \"}}", data.clone()).unwrap(), "x, 1");
        assert_eq!(
            render("{{#if (eq s \"a\\\"b\")}}y{{else}}n{{/if}}", data.clone()).unwrap(),
            "y"
        );
        assert_eq!(render("{{#if n}}y{{else}}n{{/if}}", data).unwrap(), "n");
    }

    #[test]
    fn no_html_escaping() {
        assert_eq!(render("{{s}}", json!({"s": "<&>"})).unwrap(), "<&>");
    }

    #[test]
    fn missing_variable_names_template_and_line() {
        let err = render("a\nb {{nope}}\n", json!({})).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("templates/t.hbs line 2") && msg.contains("`nope`"),
            "{msg}"
        );
    }

    #[test]
    fn missing_value_in_if_or_helper_fails() {
        assert!(
            render("\n{{#if nope}}x{{/if}}", json!({}))
                .unwrap_err()
                .to_string()
                .contains("line 2")
        );
        assert!(render("{{#unless nope}}x{{/unless}}", json!({})).is_err());
        assert!(render("{{json nope}}", json!({})).is_err());
    }

    #[test]
    fn syntax_error_names_template_and_line() {
        let err = render("ok\n{{#if x}}\n", json!({"x": 1})).unwrap_err();
        assert!(
            err.to_string().starts_with("template templates/t.hbs line"),
            "{err}"
        );
    }
}
