//! The plan as people and machines read it: a text table, Markdown (the
//! pull-request pipeline's `plan.md`) and JSON. Pure: plan in, text out.

use super::{Plan, Upload};

/// Output formats of `deployer plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text tables.
    Text,
    /// A Markdown section with tables.
    Markdown,
    /// The plan value as JSON.
    Json,
}

/// Renders the plan in `format`.
pub fn render(plan: &Plan, format: Format) -> String {
    match format {
        Format::Text => text(plan),
        Format::Markdown => markdown(plan),
        Format::Json => json(plan),
    }
}

/// The plan value as pretty JSON (with a trailing newline).
pub fn json(plan: &Plan) -> String {
    let mut value = serde_json::to_value(plan).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "counts".into(),
            serde_json::to_value(plan.counts()).unwrap_or_default(),
        );
    }
    format!("{value:#}\n")
}

/// `1.2 MiB`, `830 KiB`, `12 B`.
pub fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.0} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// The first 12 hex digits of a digest, enough to tell artifacts apart.
pub fn short(digest: &str) -> &str {
    &digest[..digest.len().min(12)]
}

fn upload_text(u: Upload) -> &'static str {
    match u {
        Upload::Upload => "upload",
        Upload::Present => "already in the bucket",
        Upload::Unneeded => "no upload (unchanged)",
    }
}

fn header(plan: &Plan) -> String {
    format!(
        "plan for stage {}: stack {} in account {}, {}",
        plan.stage, plan.stack_name, plan.account, plan.region
    )
}

fn no_changes_line(plan: &Plan) -> String {
    let digests: Vec<String> = plan
        .artifacts
        .iter()
        .map(|a| format!("{} {}", a.function, short(&a.digest)))
        .collect();
    format!(
        "no changes: the stack ({}) already runs {} with this template and settings",
        plan.stack_status.as_deref().unwrap_or("?"),
        digests.join(" and ")
    )
}

/// One line: counts of resource changes, parameter changes and uploads.
pub fn summary(plan: &Plan) -> String {
    let c = plan.counts();
    let mut s = format!(
        "{} to add, {} to modify, {} to remove",
        c.add, c.modify, c.remove
    );
    if c.replace > 0 {
        s.push_str(&format!(" ({} replaced)", c.replace));
    }
    let uploads = plan.uploads().count();
    s.push_str(&format!(
        "; {} parameter change(s); {uploads} zip(s) to upload",
        plan.parameters.len()
    ));
    s
}

/// Aligned columns, two spaces apart.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str("  ");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn text(plan: &Plan) -> String {
    let mut out = header(plan);
    out.push('\n');
    if !plan.changes {
        out.push_str(&no_changes_line(plan));
        out.push('\n');
        return out;
    }
    let how = match (&plan.stack_status, &plan.change_set) {
        (None, _) => "does not exist: it will be created".to_string(),
        (Some(status), _) => format!("{status}: it will be updated"),
    };
    out.push_str(&format!("stack: {how}"));
    if let Some(cs) = &plan.change_set {
        out.push_str(&format!(" (change set {})", cs.name));
    }
    out.push('\n');
    if let Some(role) = &plan.execution_role_arn {
        out.push_str(&format!("as role: {role}\n"));
    }
    out.push_str(&format!("artifacts (bucket {}):\n", plan.bucket));
    let rows: Vec<Vec<String>> = plan
        .artifacts
        .iter()
        .map(|a| {
            vec![
                a.function.clone(),
                short(&a.digest).to_string(),
                human_size(a.size),
                upload_text(a.upload).to_string(),
            ]
        })
        .collect();
    out.push_str(&table(&rows));
    if !plan.parameters.is_empty() {
        out.push_str("parameters:\n");
        let rows: Vec<Vec<String>> = plan
            .parameters
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.old.clone().unwrap_or_else(|| "(new)".into()),
                    "->".into(),
                    p.new.clone(),
                ]
            })
            .collect();
        out.push_str(&table(&rows));
    }
    out.push_str("resources:\n");
    if plan.resources.is_empty() {
        out.push_str(
            "  (no resource changes reported; the parameter changes above update the functions)\n",
        );
    } else {
        let mut rows = vec![vec![
            "ACTION".to_string(),
            "LOGICAL ID".into(),
            "TYPE".into(),
            "REPLACEMENT".into(),
        ]];
        rows.extend(plan.resources.iter().map(|r| {
            vec![
                r.action.clone(),
                r.logical_id.clone(),
                r.resource_type.clone(),
                r.replacement.clone().unwrap_or_else(|| "-".into()),
            ]
        }));
        out.push_str(&table(&rows));
    }
    out.push_str(&format!("summary: {}\n", summary(plan)));
    out
}

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

fn markdown(plan: &Plan) -> String {
    markdown_with_diff(plan, None)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ArtifactStep, ChangeSetType, ParameterChange, ResourceChange};

    fn plan(changes: bool) -> Plan {
        Plan {
            stage: "dev".into(),
            stack_name: "countries-dev".into(),
            account: "111111111111".into(),
            region: "us-east-1".into(),
            stack_status: Some("UPDATE_COMPLETE".into()),
            change_set_type: ChangeSetType::Update,
            change_set: None,
            execution_role_arn: None,
            bucket: "b".into(),
            artifacts: vec![ArtifactStep {
                function: "api".into(),
                digest: "0123456789abcdef".repeat(4),
                size: 2_831_155,
                key: "functions/api/x.zip".into(),
                upload: if changes {
                    Upload::Upload
                } else {
                    Upload::Unneeded
                },
            }],
            parameters: if changes {
                vec![ParameterChange {
                    name: "ApiArtifactKey".into(),
                    old: Some("o".into()),
                    new: "n".into(),
                }]
            } else {
                vec![]
            },
            resources: if changes {
                vec![ResourceChange {
                    action: "Modify".into(),
                    logical_id: "ApiFunction".into(),
                    resource_type: "AWS::Lambda::Function".into(),
                    replacement: Some("False".into()),
                    scope: vec!["Properties".into()],
                }]
            } else {
                vec![]
            },
            tags: Default::default(),
            git_commit: "abc".into(),
            changes,
        }
    }

    #[test]
    fn text_lists_changes_in_a_table() {
        let t = render(&plan(true), Format::Text);
        assert!(
            t.contains("ACTION  LOGICAL ID   TYPE                   REPLACEMENT"),
            "{t}"
        );
        assert!(
            t.contains("Modify  ApiFunction  AWS::Lambda::Function  False"),
            "{t}"
        );
        assert!(t.contains("ApiArtifactKey  o  ->  n"), "{t}");
        assert!(t.contains("api  0123456789ab  2.7 MiB  upload"), "{t}");
        assert!(
            t.contains("summary: 0 to add, 1 to modify, 0 to remove"),
            "{t}"
        );
    }

    #[test]
    fn no_changes_says_so() {
        let t = render(&plan(false), Format::Text);
        assert!(
            t.contains("no changes: the stack (UPDATE_COMPLETE) already runs api 0123456789ab"),
            "{t}"
        );
        let md = render(&plan(false), Format::Markdown);
        assert!(md.contains("No changes"), "{md}");
    }

    #[test]
    fn json_is_the_plan_value() {
        let v: serde_json::Value =
            serde_json::from_str(&render(&plan(true), Format::Json)).unwrap();
        assert_eq!(v["resources"][0]["logical_id"], "ApiFunction");
        assert_eq!(v["counts"]["modify"], 1);
        assert_eq!(v["change_set_type"], "UPDATE");
        assert_eq!(v["artifacts"][0]["upload"], "upload");
    }
}
