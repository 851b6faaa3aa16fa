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
    fn rfc3339_has_no_fraction() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && !t.contains('.'), "{t}");
    }
}
