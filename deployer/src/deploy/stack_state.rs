//! Reading a stack's state, pure: which change set it takes (or why none), and
//! what it runs (digests, commit, time) for `status` and promotion.

use crate::aws::cloudformation::StackInfo;
use crate::package::zip::digest_of_key;
use crate::plan::ChangeSetType;

use super::names::tags;

/// Which change set a stack in `status` takes, or why it cannot take one. Pure.
pub fn change_set_type_for(status: Option<&str>) -> std::result::Result<ChangeSetType, String> {
    match status {
        None | Some("REVIEW_IN_PROGRESS") => Ok(ChangeSetType::Create),
        Some(
            "CREATE_COMPLETE"
            | "UPDATE_COMPLETE"
            | "UPDATE_ROLLBACK_COMPLETE"
            | "IMPORT_COMPLETE"
            | "IMPORT_ROLLBACK_COMPLETE",
        ) => Ok(ChangeSetType::Update),
        Some(s) if s.ends_with("_IN_PROGRESS") => Err(format!(
            "CloudFormation is still working on it ({s}); wait until it finishes"
        )),
        Some(s @ ("ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED")) => Err(format!(
            "its first create failed ({s}) and CloudFormation cannot update it; delete it with `deployer down` and deploy again"
        )),
        Some(s) => Err(format!(
            "it is in {s}; resolve that in the CloudFormation console (e.g. continue the rollback) first"
        )),
    }
}

/// A stack the emulator left half-made: no change set can take it (its create
/// failed, or is "in progress" for good: the emulator never rolls back), or a
/// change set's create that was never executed. Pure.
pub fn is_stuck(status: &str) -> bool {
    change_set_type_for(Some(status)).is_err() || status == "REVIEW_IN_PROGRESS"
}

/// What `status` shows for a stack: digests from the parameters (the emulator keeps
/// those current), commit and time from the tags.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Deployed {
    /// SHA-256 of the api zip the stack runs.
    pub api_digest: Option<String>,
    /// SHA-256 of the worker zip.
    pub worker_digest: Option<String>,
    /// The commit deployed.
    pub git_commit: Option<String>,
    /// When.
    pub deployed_at: Option<String>,
}

/// Reads what a stack runs from its parameters and tags. Pure.
pub fn deployed(info: &StackInfo) -> Deployed {
    let digest = |param: &str, tag: &str| {
        info.parameters
            .get(param)
            .and_then(|k| digest_of_key(k))
            .map(str::to_string)
            .or_else(|| info.tags.get(tag).cloned())
    };
    Deployed {
        api_digest: digest("ApiArtifactKey", tags::API_DIGEST),
        worker_digest: digest("WorkerArtifactKey", tags::WORKER_DIGEST),
        git_commit: info.tags.get(tags::GIT_COMMIT).cloned(),
        deployed_at: info
            .tags
            .get(tags::DEPLOYED_AT)
            .cloned()
            .or_else(|| info.updated_at.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_set_types() {
        assert_eq!(change_set_type_for(None), Ok(ChangeSetType::Create));
        assert_eq!(
            change_set_type_for(Some("UPDATE_ROLLBACK_COMPLETE")),
            Ok(ChangeSetType::Update)
        );
        assert!(
            change_set_type_for(Some("ROLLBACK_COMPLETE"))
                .unwrap_err()
                .contains("deployer down")
        );
        assert!(
            change_set_type_for(Some("UPDATE_IN_PROGRESS"))
                .unwrap_err()
                .contains("wait")
        );
    }

    #[test]
    fn deployed_reads_parameters_then_tags() {
        let d = "c".repeat(64);
        let mut info = StackInfo::default();
        info.parameters
            .insert("ApiArtifactKey".into(), format!("functions/api/{d}.zip"));
        info.tags.insert(tags::WORKER_DIGEST.into(), "w".into());
        info.updated_at = Some("t".into());
        let got = deployed(&info);
        assert_eq!(got.api_digest.as_deref(), Some(d.as_str()));
        assert_eq!(got.worker_digest.as_deref(), Some("w"));
        assert_eq!(got.deployed_at.as_deref(), Some("t"));
    }
}
