//! The deploy engine shared by `plan`, `up` and `up local`: gather the
//! inputs (outputs, render, package), build the plan (a change set, kept),
//! and execute it (upload, execute, follow the stack).
//!
//! `plan` and `up` call the same `prepare`; `plan` then discards the change
//! set, `up` executes it. The AWS calls go through the traits in `aws`.

pub mod progress;
pub mod promotion;
pub mod smoke;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::aws::cloudformation::{ChangeSetRequest, Created, StackInfo, Stacks, is_no_changes};
use crate::aws::s3::Artifacts;
use crate::error::{Error, Result};
use crate::outputs::{self, Outputs};
use crate::package::{self, Package, zip::digest_of_key};
use crate::plan::{self, ArtifactStep, ChangeSetRef, ChangeSetType, Plan, Upload};
use crate::render::{self, GENERATED_DIR, Templates};
use crate::stage::Stage;
use progress::Display;

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

/// Everything one deploy needs, gathered before any AWS call.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The stage.
    pub stage: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `countries-<stage>`.
    pub stack_name: String,
    /// The rendered stack template (equal to generated/<stage>/stack.yaml).
    pub template: String,
    /// The functions' zips.
    pub package: Package,
    /// The artifact bucket.
    pub bucket: String,
    /// The CloudFormation execution role (cloud stages).
    pub role_arn: Option<String>,
    /// The stage file's tags.
    pub stage_tags: BTreeMap<String, String>,
    /// The commit being deployed.
    pub git_commit: String,
    /// True for the emulator stage (its CloudFormation has known gaps, FIELD-NOTES).
    pub local: bool,
}

impl Deployment {
    /// Reads the outputs, renders in memory (it must equal the committed generated/),
    /// and packages (or reads `artifacts`, a package folder).
    pub fn gather(
        root: &Path,
        stage: &Stage,
        outputs_override: Option<&Path>,
        artifacts: Option<&Path>,
        extra_bins: &[&str],
        say: &dyn Fn(&str),
    ) -> Result<Deployment> {
        let (outputs, template) = inputs(root, stage, outputs_override)?;
        let arch = stage.spec.app.architecture;
        let package = match artifacts {
            Some(dir) => {
                let p = package::load(dir, arch)?;
                say(&format!(
                    "artifacts: {} (built from {})",
                    dir.display(),
                    p.manifest.git_commit
                ));
                p
            }
            None => package::build_and_package(root, arch, extra_bins, say)?,
        };
        Ok(Deployment::assemble(stage, &outputs, template, package))
    }

    /// Like `gather`, for zips already in the artifact bucket (promote,
    /// `--artifact-digest`): `package` names them and holds no bytes.
    pub fn with_package(
        root: &Path,
        stage: &Stage,
        outputs_override: Option<&Path>,
        package: Package,
    ) -> Result<Deployment> {
        let (outputs, template) = inputs(root, stage, outputs_override)?;
        Ok(Deployment::assemble(stage, &outputs, template, package))
    }

    fn assemble(stage: &Stage, outputs: &Outputs, template: String, package: Package) -> Self {
        Deployment {
            stage: stage.name.clone(),
            account: stage.spec.account.clone(),
            region: stage.spec.region.clone(),
            stack_name: stack_name(&stage.name),
            template,
            git_commit: package.manifest.git_commit.clone(),
            package,
            bucket: outputs.artifact_bucket.clone(),
            role_arn: outputs.cloudformation_execution_role_arn.clone(),
            stage_tags: stage.spec.tags.clone(),
            local: stage.spec.local.is_some(),
        }
    }

    /// The stack parameters: each function's artifact key.
    pub fn parameters(&self) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        for (name, f) in &self.package.manifest.functions {
            p.insert(package::zip::artifact_parameter(name), f.key.clone());
        }
        p
    }

    /// The tags the deploy sets: the stage's, plus stage, digests, commit and time.
    pub fn tags(&self, deployed_at: &str) -> BTreeMap<String, String> {
        let mut t = self.stage_tags.clone();
        let digests = self.package.digests();
        t.insert(tags::STAGE.into(), self.stage.clone());
        t.insert(tags::API_DIGEST.into(), digests.api);
        t.insert(tags::WORKER_DIGEST.into(), digests.worker);
        t.insert(tags::GIT_COMMIT.into(), self.git_commit.clone());
        t.insert(tags::DEPLOYED_AT.into(), deployed_at.into());
        t
    }

    /// How often to poll CloudFormation: the emulator answers at once.
    pub fn poll(&self) -> Duration {
        if self.local {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(3)
        }
    }
}

/// The outputs and the rendered stack (equal to the committed generated/<stage>/stack.yaml).
fn inputs(
    root: &Path,
    stage: &Stage,
    outputs_override: Option<&Path>,
) -> Result<(Outputs, String)> {
    let outputs = outputs::read(root, stage, outputs_override)?;
    let template = rendered_stack(root, stage, &outputs)?;
    Ok((outputs, template))
}

/// Renders the stage's stack in memory and checks it equals the committed file.
pub fn rendered_stack(root: &Path, stage: &Stage, outputs: &Outputs) -> Result<String> {
    let templates = Templates::load(root)?;
    let files = render::render_stage(&templates, stage, outputs)?;
    let shown = Path::new(GENERATED_DIR).join(&stage.name);
    let report = render::check(&root.join(&shown), &shown, &files)?;
    if !report.changed.is_empty() {
        return Err(Error::RenderStale {
            stage: stage.name.clone(),
            files: report
                .changed
                .iter()
                .map(|f| shown.join(f).display().to_string())
                .collect(),
        });
    }
    files
        .into_iter()
        .find(|f| f.name == "stack.yaml")
        .map(|f| f.text)
        .ok_or_else(|| Error::NotRendered {
            stage: stage.name.clone(),
            path: shown.join("stack.yaml"),
        })
}

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

/// Builds the plan: compares with the deployed stack and, when something differs,
/// creates the change set (kept, for `execute` or `discard`).
pub async fn prepare(
    cfn: &impl Stacks,
    s3: &impl Artifacts,
    d: &Deployment,
    deployed_at: &str,
) -> Result<Plan> {
    let stack = cfn.describe_stack(&d.stack_name).await?;
    let status = stack.as_ref().map(|s| s.status.clone());
    let kind = change_set_type_for(status.as_deref()).map_err(|problem| Error::StackNotReady {
        stack: d.stack_name.clone(),
        problem,
    })?;
    let parameters = d.parameters();
    let tags = d.tags(deployed_at);
    let mut plan = Plan {
        stage: d.stage.clone(),
        stack_name: d.stack_name.clone(),
        account: d.account.clone(),
        region: d.region.clone(),
        stack_status: status.clone(),
        change_set_type: kind,
        change_set: None,
        execution_role_arn: d.role_arn.clone(),
        bucket: d.bucket.clone(),
        artifacts: d
            .package
            .manifest
            .functions
            .iter()
            .map(|(name, f)| ArtifactStep {
                function: name.clone(),
                digest: f.digest.clone(),
                size: f.size,
                key: f.key.clone(),
                upload: Upload::Unneeded,
            })
            .collect(),
        parameters: plan::parameter_changes(
            stack
                .as_ref()
                .filter(|_| kind == ChangeSetType::Update)
                .map(|s| &s.parameters),
            &parameters,
        ),
        resources: vec![],
        tags: tags.clone(),
        git_commit: d.git_commit.clone(),
        changes: false,
    };

    // Nothing differs: no change set at all (the quick no-op).
    if let (Some(info), ChangeSetType::Update) = (&stack, kind) {
        let deployed = cfn.template(&d.stack_name).await?;
        // The emulator never updates a stack's tags after its create (FIELD-NOTES), so locally
        // tags cannot tell; in the cloud a change of the stage's own tags is a change.
        let compare_tags = (!d.local).then_some((&info.tags, &d.stage_tags));
        if plan::already_deployed(
            &deployed,
            &d.template,
            &info.parameters,
            &parameters,
            compare_tags,
        ) {
            return Ok(plan);
        }
    }

    // Milliseconds: two deploys in the same second (a rollback right after a deploy)
    // must not reuse a change set name.
    let name = format!("{}-{}", d.stack_name, unix_millis());
    let created = cfn
        .create_change_set(&ChangeSetRequest {
            stack_name: d.stack_name.clone(),
            change_set_name: name.clone(),
            create: kind == ChangeSetType::Create,
            template: d.template.clone(),
            parameters,
            tags,
            role_arn: d.role_arn.clone(),
        })
        .await?;
    let Created::ChangeSet(id) = created else {
        return Ok(plan);
    };
    let info = loop {
        let info = cfn.describe_change_set(&id).await?;
        if !matches!(
            info.status.as_str(),
            "CREATE_PENDING" | "CREATE_IN_PROGRESS"
        ) {
            break info;
        }
        tokio::time::sleep(d.poll()).await;
    };
    let reference = ChangeSetRef { name, id };
    if info.status != "CREATE_COMPLETE" {
        let reason = info.reason.unwrap_or_else(|| info.status.clone());
        plan.change_set = Some(reference);
        discard(cfn, &plan).await?;
        plan.change_set = None;
        if is_no_changes(&reason) {
            return Ok(plan);
        }
        return Err(Error::ChangeSetFailed {
            stack: d.stack_name.clone(),
            reason,
        });
    }
    plan.resources = plan::resource_changes(&info.changes);
    plan.change_set = Some(reference);
    plan.changes =
        kind == ChangeSetType::Create || !plan.resources.is_empty() || !plan.parameters.is_empty();
    if !plan.changes {
        // A change set with nothing in it (the emulator makes these): nothing to run.
        discard(cfn, &plan).await?;
        plan.change_set = None;
        return Ok(plan);
    }
    for step in &mut plan.artifacts {
        step.upload = if s3.exists(&d.bucket, &step.key).await? {
            Upload::Present
        } else {
            Upload::Upload
        };
    }
    Ok(plan)
}

/// Deletes the plan's change set, and the empty stack a CREATE change set leaves behind.
pub async fn discard(cfn: &impl Stacks, plan: &Plan) -> Result<()> {
    let Some(cs) = &plan.change_set else {
        return Ok(());
    };
    cfn.delete_change_set(&cs.id).await?;
    if plan.change_set_type == ChangeSetType::Create
        && let Some(stack) = cfn.describe_stack(&plan.stack_name).await?
        && stack.status == "REVIEW_IN_PROGRESS"
    {
        // Best effort: a role allowed to plan may not be allowed to delete stacks,
        // and an empty stack under review is harmless.
        if let Err(err) = cfn.delete_stack(&stack.id, None).await {
            eprintln!(
                "warning: the empty stack {} (REVIEW_IN_PROGRESS) that the plan's change set made remains: {err}",
                plan.stack_name
            );
        }
    }
    Ok(())
}

/// Runs a plan: uploads the missing zips, executes the change set and follows the
/// stack until it settles. Returns the stack as it ended.
pub async fn execute(
    cfn: &impl Stacks,
    s3: &impl Artifacts,
    d: &Deployment,
    plan: &Plan,
    display: &Display,
) -> Result<StackInfo> {
    let Some(cs) = &plan.change_set else {
        return cfn
            .describe_stack(&d.stack_name)
            .await?
            .ok_or_else(|| Error::StackMissing {
                stack: d.stack_name.clone(),
            });
    };
    for step in plan.uploads() {
        // A package read from the bucket (promote, --artifact-digest) has no bytes:
        // never upload an empty zip in place of a missing one.
        let bytes = d.package.zips.get(&step.function).cloned().ok_or_else(|| {
            Error::ArtifactNotInBucket {
                bucket: d.bucket.clone(),
                key: step.key.clone(),
            }
        })?;
        display.line(&format!(
            "uploading {} to s3://{}/{} ({})",
            step.function,
            d.bucket,
            step.key,
            crate::plan::render::human_size(step.size)
        ));
        s3.put(&d.bucket, &step.key, bytes).await?;
    }
    let stack = cfn
        .describe_stack(&d.stack_name)
        .await?
        .ok_or_else(|| Error::StackMissing {
            stack: d.stack_name.clone(),
        })?;
    let marker = cfn
        .events(&stack.id, None)
        .await?
        .first()
        .map(|e| e.id.clone());
    display.line(&format!(
        "executing change set {} on {} ({})",
        cs.name,
        d.stack_name,
        if plan.change_set_type == ChangeSetType::Create {
            "create"
        } else {
            "update"
        }
    ));
    if let Err(err) = cfn.execute_change_set(&cs.id).await {
        return Err(match (d.local, err) {
            (true, Error::Aws { message, .. }) => Error::EmulatorRejected {
                stack: d.stack_name.clone(),
                message,
            },
            (_, err) => err,
        });
    }
    follow(
        cfn,
        &stack.id,
        &d.stack_name,
        marker,
        d.poll(),
        d.local,
        display,
    )
    .await
}

/// Follows a stack's events until it stops changing; fails with the failing
/// events' reasons when it ends in a rollback or a failure.
pub async fn follow(
    cfn: &impl Stacks,
    stack_id: &str,
    stack_name: &str,
    mut marker: Option<String>,
    poll: Duration,
    local: bool,
    display: &Display,
) -> Result<StackInfo> {
    let started = Instant::now();
    let mut failures = Vec::new();
    loop {
        let mut events = cfn.events(stack_id, marker.as_deref()).await?;
        if let Some(newest) = events.first() {
            marker = Some(newest.id.clone());
        }
        events.reverse();
        for e in &events {
            display.line(&progress::event_line(e));
            if progress::is_failure(e) {
                failures.push(format!(
                    "{} {} {}: {}",
                    e.logical_id,
                    e.resource_type,
                    e.status,
                    e.reason.as_deref().unwrap_or("no reason given")
                ));
            }
        }
        let info = cfn.describe_stack(stack_id).await?;
        let Some(info) = info else {
            // Deleted (a stack that is gone by name and id).
            return Ok(StackInfo {
                id: stack_id.to_string(),
                name: stack_name.to_string(),
                status: "DELETE_COMPLETE".into(),
                ..StackInfo::default()
            });
        };
        display.status(&format!(
            "{stack_name}: {} ({} s)",
            info.status,
            started.elapsed().as_secs()
        ));
        // Right after ExecuteChangeSet a new stack may still say REVIEW_IN_PROGRESS.
        let waiting = progress::in_progress(&info.status) || info.status == "REVIEW_IN_PROGRESS";
        if !waiting {
            if progress::succeeded(&info.status) {
                return Ok(info);
            }
            return Err(Error::DeployFailed {
                stack: stack_name.to_string(),
                status: info.status.clone(),
                failures: if failures.is_empty() {
                    vec![
                        info.status_reason
                            .clone()
                            .unwrap_or_else(|| "no failing event reported".into()),
                    ]
                } else {
                    failures
                },
            });
        }
        // The emulator works synchronously: a stack still "in progress" after a moment is stuck.
        if local && started.elapsed() > Duration::from_secs(5) {
            return Err(Error::StackNotReady {
                stack: stack_name.to_string(),
                problem: format!(
                    "the emulator left it in {} (it never rolls back a failed create)",
                    info.status
                ),
            });
        }
        tokio::time::sleep(poll).await;
    }
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

/// Now, UTC, RFC 3339 to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn unix_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
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

    #[test]
    fn rfc3339_has_no_fraction() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && !t.contains('.'), "{t}");
    }
}
