//! The Markdown plan (the pull-request pipeline's `plan.md`), with the diff of
//! the generated stack against what the stage runs now. Pure: plan in, text out.

use super::Plan;
use super::format::{human_size, no_changes_line, short, summary, upload_text};

/// The generated-config diff shown under a Markdown plan: what the stack runs now
/// against what this change deploys (`generated/<stage>/stack.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDiff {
    /// The file shown, e.g. `generated/dev/stack.yaml`.
    pub path: String,
    /// A unified diff (empty when the template is the same); none for a stack not created yet.
    pub diff: Option<String>,
}

impl ConfigDiff {
    /// Compares the deployed template (none: no stack yet) with the rendered one. Pure.
    pub fn new(path: &str, deployed: Option<&str>, rendered: &str) -> ConfigDiff {
        let diff = deployed.map(|old| {
            let old = format!("{}\n", old.trim_end());
            let new = format!("{}\n", rendered.trim_end());
            similar::TextDiff::from_lines(&old, &new)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("a/{path} (deployed)"),
                    &format!("b/{path} (this change)"),
                )
                .to_string()
        });
        ConfigDiff {
            path: path.to_string(),
            diff,
        }
    }
}

/// The digest an artifact key names: `functions/api/<digest>.zip` -> `<digest>`.
fn digest_of_key(key: &str) -> &str {
    let file = key.rsplit('/').next().unwrap_or(key);
    file.strip_suffix(".zip").unwrap_or(file)
}

/// The deployed digest of a function: from its artifact-key parameter change, or
/// the new digest when that parameter does not change.
fn deployed_digest<'a>(plan: &'a Plan, function: &str, new: &'a str) -> Option<&'a str> {
    let name = crate::package::zip::artifact_parameter(function);
    match plan.parameters.iter().find(|p| p.name == name) {
        Some(p) => p.old.as_deref().map(digest_of_key),
        None => Some(new),
    }
}

fn replacement_cell(r: &super::ResourceChange) -> String {
    match r.replacement.as_deref() {
        Some("True") => "**yes** :warning:".into(),
        Some("Conditional") => "**maybe** :warning:".into(),
        Some("False") => "no".into(),
        Some(other) => other.to_string(),
        None => "-".into(),
    }
}

/// The Markdown plan for a pull-request comment, with the template diff collapsed under it.
pub fn markdown_with_diff(plan: &Plan, diff: Option<&ConfigDiff>) -> String {
    let mut out = format!(
        "### Stage `{}`: stack `{}`\n\n",
        plan.stage, plan.stack_name
    );
    out.push_str(&format!(
        "Account `{}`, region `{}`, commit `{}`.\n\n",
        plan.account, plan.region, plan.git_commit
    ));
    if !plan.changes {
        out.push_str(&format!("{}.\n", capitalize(&no_changes_line(plan))));
        return out;
    }
    out.push_str(&format!(
        "Stack {}. **{}.**\n\n",
        match &plan.stack_status {
            None => "does not exist yet: it will be **created**".to_string(),
            Some(s) => format!("is `{s}`: it will be **updated**"),
        },
        capitalize(&summary(plan))
    ));
    let replaced: Vec<String> = plan
        .resources
        .iter()
        .filter(|r| matches!(r.replacement.as_deref(), Some("True" | "Conditional")))
        .map(|r| format!("`{}` ({})", r.logical_id, r.resource_type))
        .collect();
    if !replaced.is_empty() {
        out.push_str(&format!(
            "> :warning: **Replaced** (a new physical resource: a replaced table starts empty, the old one is retained): {}\n\n",
            replaced.join(", ")
        ));
    }
    out.push_str(&super::release::markdown(&plan.release));
    out.push_str(
        "| function | deployed digest | new digest | size | upload |\n|---|---|---|---|---|\n",
    );
    for a in &plan.artifacts {
        let old = match deployed_digest(plan, &a.function, &a.digest) {
            Some(d) if d == a.digest => "(unchanged)".to_string(),
            Some(d) => format!("`{}`", short(d)),
            None => "(none)".to_string(),
        };
        out.push_str(&format!(
            "| {} | {} | `{}` | {} | {} |\n",
            a.function,
            old,
            short(&a.digest),
            human_size(a.size),
            upload_text(a.upload)
        ));
    }
    out.push_str(
        "\n| action | logical id | type | replacement | changes |\n|---|---|---|---|---|\n",
    );
    if plan.resources.is_empty() {
        out.push_str("| - | (none reported; the digests above update the functions) | | | |\n");
    }
    for r in &plan.resources {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.action,
            r.logical_id,
            r.resource_type,
            replacement_cell(r),
            if r.scope.is_empty() {
                "-".to_string()
            } else {
                r.scope.join(", ")
            }
        ));
    }
    if let Some(d) = diff {
        out.push('\n');
        match &d.diff {
            None => out.push_str(&format!(
                "<details><summary><code>{}</code>: new stack, the whole file is new</summary>\n\nSee <code>{}</code> in this change.\n\n</details>\n",
                d.path, d.path
            )),
            Some(text) if text.is_empty() => out.push_str(&format!(
                "<code>{}</code>: the same as what the stack runs.\n",
                d.path
            )),
            Some(text) => {
                let changed = text
                    .lines()
                    .filter(|l| {
                        (l.starts_with('+') && !l.starts_with("+++"))
                            || (l.starts_with('-') && !l.starts_with("---"))
                    })
                    .count();
                out.push_str(&format!(
                    "<details><summary><code>{}</code>: deployed vs this change ({changed} lines changed)</summary>\n\n```diff\n{}{}```\n\n</details>\n",
                    d.path,
                    text,
                    if text.ends_with('\n') { "" } else { "\n" }
                ));
            }
        }
    }
    out
}

pub(super) fn markdown(plan: &Plan) -> String {
    markdown_with_diff(plan, None)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
