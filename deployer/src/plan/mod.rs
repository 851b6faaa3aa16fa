//! The plan: one value that says everything a deploy of a stage will do.
//! `deployer plan` prints it (`render`); `deployer up` prints it and then
//! executes exactly it, so a dry run shows what a real run does.
//!
//! Building the value from what CloudFormation and S3 answered is pure
//! (`Plan::new` and its helpers); the calls are in `deploy`.

pub mod format;
mod markdown;
pub mod release;
pub mod render;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::aws::cloudformation::RawChange;

/// Whether the deploy creates the stack or updates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChangeSetType {
    /// The stack does not exist yet.
    Create,
    /// The stack exists.
    Update,
}

/// What happens to one function's zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Upload {
    /// Not in the bucket yet: the deploy uploads it.
    Upload,
    /// Already in the bucket under its digest: skipped.
    Present,
    /// Nothing changes, so nothing is uploaded.
    Unneeded,
}

/// One function's artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactStep {
    /// `api` or `worker`.
    pub function: String,
    /// SHA-256 of the zip.
    pub digest: String,
    /// Zip size in bytes.
    pub size: u64,
    /// `functions/<name>/<digest>.zip`.
    pub key: String,
    /// Upload, skip, or nothing to do.
    pub upload: Upload,
}

/// A stack parameter whose value changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParameterChange {
    /// e.g. `ApiArtifactKey`.
    pub name: String,
    /// The deployed value; none for a new stack.
    pub old: Option<String>,
    /// The value this deploy sets.
    pub new: String,
}

/// One resource change, as the change set reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove` (or `Import`, `Dynamic`).
    pub action: String,
    /// The template's logical id.
    pub logical_id: String,
    /// e.g. `AWS::DynamoDB::Table`.
    pub resource_type: String,
    /// For Modify: `True`, `False` or `Conditional`; none when CloudFormation does not say.
    pub replacement: Option<String>,
    /// What changes (`Properties`, `Tags`, ...).
    pub scope: Vec<String>,
}

/// The change set the deploy executes (kept by `up`, deleted by `plan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeSetRef {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub id: String,
}

/// A step a deploy takes before its change set, outside CloudFormation: `plan`
/// prints it, `engine::apply` runs it. Never part of the `Plan` value (its JSON
/// stays what it was); only the local stage has such steps today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Step {
    /// Create the missing artifact bucket (the emulator starts empty).
    EnsureBucket {
        /// The bucket.
        bucket: String,
        /// Its region.
        region: String,
    },
    /// Delete the stack the emulator left half-made, then deploy afresh.
    RemoveStuckStack {
        /// The stack.
        stack: String,
        /// The status it is stuck in.
        status: String,
    },
}

/// Everything one deploy of a stage does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The stage.
    pub stage: String,
    /// `countries-<stage>`.
    pub stack_name: String,
    /// The account the stage runs in.
    pub account: String,
    /// The region.
    pub region: String,
    /// The stack's status now; none when it does not exist.
    pub stack_status: Option<String>,
    /// CREATE or UPDATE.
    pub change_set_type: ChangeSetType,
    /// The change set; none when nothing changes.
    pub change_set: Option<ChangeSetRef>,
    /// The role CloudFormation assumes; none locally.
    pub execution_role_arn: Option<String>,
    /// The artifact bucket.
    pub bucket: String,
    /// The two functions' zips.
    pub artifacts: Vec<ArtifactStep>,
    /// Parameters whose values change.
    pub parameters: Vec<ParameterChange>,
    /// Resource changes.
    pub resources: Vec<ResourceChange>,
    /// The tags the stack gets.
    pub tags: BTreeMap<String, String>,
    /// The commit being deployed.
    pub git_commit: String,
    /// False when the stack already runs exactly this: `up` then does nothing.
    pub changes: bool,
    /// How each function's `live` alias moves, and what rolls the release back.
    pub release: release::Release,
}

/// Counts of resource changes by action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Resources added.
    pub add: usize,
    /// Resources modified.
    pub modify: usize,
    /// Resources removed.
    pub remove: usize,
    /// Modified resources CloudFormation replaces (or may replace).
    pub replace: usize,
}

impl Plan {
    /// How many resources each action touches.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.resources {
            match r.action.as_str() {
                "Add" => c.add += 1,
                "Modify" => c.modify += 1,
                "Remove" => c.remove += 1,
                _ => {}
            }
            if matches!(r.replacement.as_deref(), Some("True" | "Conditional")) {
                c.replace += 1;
            }
        }
        c
    }

    /// The zips the deploy uploads.
    pub fn uploads(&self) -> impl Iterator<Item = &ArtifactStep> {
        self.artifacts.iter().filter(|a| a.upload == Upload::Upload)
    }
}

/// Parameters whose new value differs from the deployed one (all of them for a new stack). Pure.
pub fn parameter_changes(
    deployed: Option<&BTreeMap<String, String>>,
    wanted: &BTreeMap<String, String>,
) -> Vec<ParameterChange> {
    wanted
        .iter()
        .filter_map(|(name, new)| {
            let old = deployed.and_then(|d| d.get(name)).cloned();
            (old.as_deref() != Some(new.as_str())).then(|| ParameterChange {
                name: name.clone(),
                old,
                new: new.clone(),
            })
        })
        .collect()
}

/// The change set's resource changes in a stable order (Add, Modify, Remove, then by logical id). Pure.
pub fn resource_changes(raw: &[RawChange]) -> Vec<ResourceChange> {
    let rank = |a: &str| match a {
        "Add" => 0,
        "Modify" => 1,
        "Remove" => 2,
        _ => 3,
    };
    let mut out: Vec<ResourceChange> = raw
        .iter()
        .map(|c| ResourceChange {
            action: c.action.clone(),
            logical_id: c.logical_id.clone(),
            resource_type: c.resource_type.clone(),
            replacement: c.replacement.clone().filter(|r| !r.is_empty()),
            scope: c.scope.clone(),
        })
        .collect();
    out.sort_by(|a, b| (rank(&a.action), &a.logical_id).cmp(&(rank(&b.action), &b.logical_id)));
    out
}

/// Deployed tags and wanted tags, compared key by key (the wanted keys only).
pub type TagPair<'a> = (&'a BTreeMap<String, String>, &'a BTreeMap<String, String>);

/// True when a deployed stack already runs `template` with `parameters`
/// (and, when given, carries `tags`): nothing to deploy. Pure.
pub fn already_deployed(
    deployed_template: &str,
    template: &str,
    deployed_parameters: &BTreeMap<String, String>,
    parameters: &BTreeMap<String, String>,
    tags: Option<TagPair<'_>>,
) -> bool {
    let same_tags = tags
        .is_none_or(|(deployed, wanted)| wanted.iter().all(|(k, v)| deployed.get(k) == Some(v)));
    deployed_template.trim_end() == template.trim_end()
        && parameters
            .iter()
            .all(|(k, v)| deployed_parameters.get(k) == Some(v))
        && same_tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameter_changes_list_only_differences() {
        let deployed = map(&[("ApiArtifactKey", "a"), ("WorkerArtifactKey", "w")]);
        let wanted = map(&[("ApiArtifactKey", "b"), ("WorkerArtifactKey", "w")]);
        let changes = parameter_changes(Some(&deployed), &wanted);
        assert_eq!(
            changes,
            vec![ParameterChange {
                name: "ApiArtifactKey".into(),
                old: Some("a".into()),
                new: "b".into()
            }]
        );
        assert_eq!(parameter_changes(None, &wanted).len(), 2);
    }

    #[test]
    fn resource_changes_are_ordered() {
        let raw = |action: &str, id: &str| RawChange {
            action: action.into(),
            logical_id: id.into(),
            resource_type: "T".into(),
            replacement: Some(String::new()),
            scope: vec![],
        };
        let out = resource_changes(&[
            raw("Remove", "A"),
            raw("Add", "Z"),
            raw("Modify", "B"),
            raw("Add", "C"),
        ]);
        let ids: Vec<_> = out
            .iter()
            .map(|r| (r.action.as_str(), r.logical_id.as_str()))
            .collect();
        assert_eq!(
            ids,
            [("Add", "C"), ("Add", "Z"), ("Modify", "B"), ("Remove", "A")]
        );
        assert_eq!(out[0].replacement, None);
    }

    #[test]
    fn already_deployed_compares_template_parameters_and_tags() {
        let p = map(&[("K", "v")]);
        assert!(already_deployed("t\n", "t", &p, &p, None));
        assert!(!already_deployed("t", "u", &p, &p, None));
        assert!(!already_deployed("t", "t", &map(&[("K", "w")]), &p, None));
        let tags = map(&[("stage", "dev")]);
        assert!(already_deployed("t", "t", &p, &p, Some((&tags, &tags))));
        assert!(!already_deployed(
            "t",
            "t",
            &p,
            &p,
            Some((&map(&[]), &tags))
        ));
    }
}
