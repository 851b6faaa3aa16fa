//! The plan as people and machines read it: a text table, Markdown (the
//! pull-request pipeline's `plan.md`) and JSON. Pure: plan in, text out.

use super::Plan;
use super::format::{header, no_changes_line, upload_text};
pub use super::format::{human_size, short, steps_markdown, steps_text, summary, table};
use super::markdown::markdown;
pub use super::markdown::{ConfigDiff, markdown_with_diff};

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
    out.push_str(&super::release::text(&plan.release));
    out.push_str(&format!("summary: {}\n", summary(plan)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Upload;
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
            release: Default::default(),
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
