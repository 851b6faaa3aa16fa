//! Names and times every deploy uses: the stack's name, the tags the deployer
//! sets, and the timestamps in tags and change-set names.

/// Tag keys the deployer sets on every stack (beside the stage file's tags).
pub mod tags {
    /// The stage's name.
    pub const STAGE: &str = "countries:stage";
    /// SHA-256 of the api zip.
    pub const API_DIGEST: &str = "countries:api-digest";
    /// SHA-256 of the worker zip.
    pub const WORKER_DIGEST: &str = "countries:worker-digest";
    /// The commit the artifact was built from.
    pub const GIT_COMMIT: &str = "countries:git-commit";
    /// When the deploy ran (UTC, RFC 3339).
    pub const DEPLOYED_AT: &str = "countries:deployed-at";
    /// The pipeline whose action deployed it (`PIPELINE_NAME`).
    pub const PIPELINE: &str = "countries:pipeline";
    /// The pipeline execution that deployed it (`PIPELINE_EXECUTION_ID`).
    pub const PIPELINE_EXECUTION: &str = "countries:pipeline-execution";
}

/// The pipeline's name, set on every CodeBuild project (infrastructure/codebuild.tf).
pub const PIPELINE_NAME_ENV: &str = "PIPELINE_NAME";
/// The pipeline execution, set on every CodeBuild action (infrastructure/pipeline.tf).
pub const PIPELINE_EXECUTION_ENV: &str = "PIPELINE_EXECUTION_ID";

/// The tags naming the pipeline run that deploys, from the variables CodeBuild
/// sets (`PIPELINE_NAME` on the project, `PIPELINE_EXECUTION_ID` per action):
/// which execution put a stack where it is, for a rollback's search. None
/// when a person deploys. Pure: `lookup` reads the environment.
pub fn pipeline_tags(
    lookup: impl Fn(&str) -> Option<String>,
) -> std::collections::BTreeMap<String, String> {
    [
        (PIPELINE_NAME_ENV, tags::PIPELINE),
        (PIPELINE_EXECUTION_ENV, tags::PIPELINE_EXECUTION),
    ]
    .into_iter()
    .filter_map(|(var, tag)| {
        let value = lookup(var)?.trim().to_string();
        (!value.is_empty()).then(|| (tag.to_string(), value))
    })
    .collect()
}

/// The stack's name for a stage.
pub fn stack_name(stage: &str) -> String {
    format!("countries-{stage}")
}

/// Now, UTC, RFC 3339 to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(super) fn unix_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_tags_only_for_a_pipeline_run() {
        assert!(pipeline_tags(|_| None).is_empty());
        let t = pipeline_tags(|k| match k {
            "PIPELINE_NAME" => Some("countries".into()),
            "PIPELINE_EXECUTION_ID" => Some(" 5f1e-77 ".into()),
            _ => None,
        });
        assert_eq!(t[tags::PIPELINE], "countries");
        assert_eq!(t[tags::PIPELINE_EXECUTION], "5f1e-77");
        assert!(pipeline_tags(|_| Some(String::new())).is_empty());
    }

    #[test]
    fn rfc3339_has_no_fraction() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && !t.contains('.'), "{t}");
    }
}
