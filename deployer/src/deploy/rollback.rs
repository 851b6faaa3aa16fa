//! After a failed smoke test: redeploy the digests the stage ran before,
//! through the same path as `deployer up <stage> --artifact-digest`
//! (zips already in the bucket, one plan, one change set, no rollback
//! triggers), smoke test that, and fail with what both deploys did.

use std::collections::BTreeMap;

use crate::aws::cloudformation::Stacks;
use crate::aws::s3::Artifacts;
use crate::error::{DeployError, Error, Result};
use crate::plan::Plan;
use crate::plan::render::short;

use super::engine::{self, DeployPlan, Failed, Remote, Ui};
use super::policy::Policy;
use super::promotion;

/// Rolls back after `err` (the smoke test's failure) and returns the error that
/// reports both deploys. `plan` is the failed release's plan.
pub async fn after_smoke_failure<C: Stacks, S: Artifacts>(
    r: &Remote<'_, C, S>,
    dp: &DeployPlan,
    plan: &Plan,
    err: Error,
    p: &Policy,
    ui: &dyn Ui,
) -> Error {
    let Error::Deploy(DeployError::SmokeTestFailed { url, detail }) = err else {
        return err;
    };
    ui.line(&format!("smoke test failed: GET {url}: {detail}"));
    let rollback = match redeploy_previous(r, dp, plan, p, ui).await {
        Ok(report) => report,
        Err(e) => format!("rolling back failed, so the failed release is still deployed: {e}"),
    };
    DeployError::SmokeTestRolledBack {
        url,
        detail,
        rollback,
    }
    .into()
}

/// The rollback deploy; its report, or why there was none.
async fn redeploy_previous<C: Stacks, S: Artifacts>(
    r: &Remote<'_, C, S>,
    dp: &DeployPlan,
    plan: &Plan,
    p: &Policy,
    ui: &dyn Ui,
) -> Result<String> {
    let functions = &plan.release.functions;
    let previous: BTreeMap<String, String> = functions
        .iter()
        .filter_map(|f| Some((f.function.clone(), f.before.clone()?)))
        .collect();
    if previous.len() != functions.len() {
        return Ok(format!(
            "no rollback: {} ran no release before this deploy created it; it keeps the failed one",
            plan.stack_name
        ));
    }
    if functions
        .iter()
        .all(|f| f.before.as_deref() == Some(f.after.as_str()))
    {
        return Ok("no rollback: this deploy changed the template, not the code, so redeploying the digests it ran before would change nothing; revert the change and deploy again".into());
    }
    let digests = previous
        .iter()
        .map(|(f, d)| format!("{f} {}", short(d)))
        .collect::<Vec<_>>()
        .join(", ");
    ui.line(&format!(
        "rolling back {}: redeploying {digests} (what it ran before), as `deployer up {} --artifact-digest` does",
        plan.stack_name, plan.stage
    ));
    let mut d = dp.deployment.clone();
    d.package = promotion::package_of(
        &previous,
        "unknown",
        d.architecture,
        "rollback after a failed smoke test",
    );
    d.git_commit = d.package.manifest.git_commit.clone();
    d.rollback_deploy = true;
    for f in d.package.manifest.functions.values_mut() {
        f.size = r.s3.size(&d.bucket, &f.key).await?.ok_or_else(|| {
            Error::from(DeployError::ArtifactNotInBucket {
                bucket: d.bucket.clone(),
                key: f.key.clone(),
            })
        })?;
    }
    let back = Policy {
        confirm: None,
        rollback_on_smoke_failure: false,
        ..p.clone()
    };
    let at = super::names::now_rfc3339();
    let dp = engine::plan(r, d, &back, &at).await?;
    let report = match engine::apply_once(r, &dp, &back, ui).await {
        Ok(out) => format!(
            "rolled back: redeployed {digests}; {} is {}; its smoke test {}",
            plan.stack_name,
            out.stack
                .as_ref()
                .map_or("unchanged", |s| s.status.as_str()),
            out.smoke.as_str()
        ),
        Err(Failed::Smoke(_, e)) => format!(
            "rolled back: redeployed {digests}, but its smoke test failed too ({e}): the fault is not in the release"
        ),
        Err(Failed::Other(e)) => return Err(e),
    };
    Ok(report)
}
