//! The change set behind a plan: `prepare` compares the gathered inputs with
//! the deployed stack and, when something differs, creates the change set
//! (kept, for `execute` or `discard`); `discard` deletes it again.

use crate::aws::cloudformation::{ChangeSetRequest, Created, StackInfo, Stacks, is_no_changes};
use crate::aws::s3::Artifacts;
use crate::error::{DeployError, Error, Result};
use crate::plan::{self, ArtifactStep, ChangeSetRef, ChangeSetType, Plan, Upload};

use super::gather::Deployment;
use super::names::unix_millis;
use super::stack_state::change_set_type_for;
use super::triggers;

/// The plan before any change set: what is deployed against what would be,
/// no resource changes yet, nothing to upload yet.
pub fn base_plan(
    d: &Deployment,
    deployed_at: &str,
    stack: Option<&StackInfo>,
    kind: ChangeSetType,
) -> Plan {
    let parameters = d.parameters();
    Plan {
        stage: d.stage.clone(),
        stack_name: d.stack_name.clone(),
        account: d.account.clone(),
        region: d.region.clone(),
        stack_status: stack.map(|s| s.status.clone()),
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
                .filter(|_| kind == ChangeSetType::Update)
                .map(|s| &s.parameters),
            &parameters,
        ),
        resources: vec![],
        tags: d.tags(deployed_at),
        git_commit: d.git_commit.clone(),
        changes: false,
        release: release_of(d, stack.filter(|_| kind == ChangeSetType::Update)),
    }
}

/// How each function's alias moves (from the deployed digests to the new ones);
/// no rollback triggers yet (`prepare` adds them).
fn release_of(d: &Deployment, deployed: Option<&StackInfo>) -> plan::release::Release {
    use crate::render::release::{ALIAS, RELEASE_ALARMS};
    let before = deployed
        .map(super::stack_state::deployed)
        .unwrap_or_default();
    let functions = d
        .package
        .manifest
        .functions
        .iter()
        .map(|(name, f)| {
            let api = name == "api";
            let traffic = if api {
                d.release.api_traffic
            } else {
                crate::stage::schema::TrafficShift::AllAtOnce
            };
            let codedeploy_config = traffic.codedeploy_config().map(str::to_string);
            plan::release::FunctionRelease {
                function: name.clone(),
                alias: ALIAS.into(),
                strategy: traffic.describe().into(),
                stops_on: match codedeploy_config {
                    Some(_) => RELEASE_ALARMS
                        .iter()
                        .filter(|a| a.api)
                        .map(|a| a.label.to_string())
                        .collect(),
                    None => vec![],
                },
                codedeploy_config,
                before: if api {
                    before.api_digest.clone()
                } else {
                    before.worker_digest.clone()
                },
                after: f.digest.clone(),
            }
        })
        .collect();
    plan::release::Release {
        functions,
        rollback_triggers: vec![],
        monitoring_minutes: 0,
        note: None,
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
    let kind = change_set_type_for(status.as_deref()).map_err(|problem| {
        Error::from(DeployError::StackNotReady {
            stack: d.stack_name.clone(),
            problem,
        })
    })?;
    let parameters = d.parameters();
    let tags = d.tags(deployed_at);
    let mut plan = base_plan(d, deployed_at, stack.as_ref(), kind);
    let deployed = match (&stack, kind) {
        (Some(_), ChangeSetType::Update) => Some(cfn.template(&d.stack_name).await?),
        _ => None,
    };
    let rollback = triggers::rollback(
        d,
        kind,
        stack.as_ref().map_or("", |s| s.id.as_str()),
        deployed.as_deref(),
    );
    plan.release.rollback_triggers = rollback.triggers.clone();
    plan.release.monitoring_minutes = rollback.monitoring_minutes;
    plan.release.note = rollback.note.clone();

    // Nothing differs: no change set at all (the quick no-op).
    if let (Some(info), Some(deployed)) = (&stack, &deployed) {
        // The emulator never updates a stack's tags after its create (docs/deploying.md), so locally
        // tags cannot tell; in the cloud a change of the stage's own tags is a change.
        let compare_tags = (!d.local).then_some((&info.tags, &d.stage_tags));
        if plan::already_deployed(
            deployed,
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
            rollback: (!d.local).then_some((rollback.triggers, rollback.monitoring_minutes)),
        })
        .await?;
    let Created::ChangeSet(id) = created else {
        return Ok(plan);
    };
    let info = cfn
        .wait_change_set(&d.stack_name, &id, d.change_set_deadline())
        .await?;
    let reference = ChangeSetRef { name, id };
    if info.status != "CREATE_COMPLETE" {
        let reason = info.reason.unwrap_or_else(|| info.status.clone());
        plan.change_set = Some(reference);
        discard(cfn, &plan).await?;
        plan.change_set = None;
        if is_no_changes(&reason) {
            return Ok(plan);
        }
        return Err(DeployError::ChangeSetFailed {
            stack: d.stack_name.clone(),
            reason,
        }
        .into());
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
    mark_uploads(s3, d, &mut plan).await?;
    Ok(plan)
}

/// Marks each zip the bucket lacks for upload.
pub async fn mark_uploads(s3: &impl Artifacts, d: &Deployment, plan: &mut Plan) -> Result<()> {
    for step in &mut plan.artifacts {
        step.upload = if s3.exists(&d.bucket, &step.key).await? {
            Upload::Present
        } else {
            Upload::Upload
        };
    }
    Ok(())
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
