//! `deployer promote <from> <to>`: deploys to `<to>` exactly the zips `<from>`'s
//! stack runs (never a rebuild), with the same plan/execute engine as `up`, and
//! answers the pipeline approval waiting at `<to>` when it carries that artifact.
//!
//! Every refusal (wrong order, nothing to promote, an approval for another
//! commit) happens before anything is changed. The decisions are in
//! `deploy::promotion`; this module makes the calls around them.

use std::path::Path;

use serde_json::json;

use crate::aws::cloudformation::Stacks;
use crate::aws::codepipeline::Pipelines;
use crate::aws::s3::Artifacts;
use crate::cli::{GlobalArgs, PromoteArgs};
use crate::deploy::engine::{self, Remote, Ui};
use crate::deploy::policy::Policy;
use crate::deploy::promotion::{self, ApprovalStep, Running};
use crate::deploy::{self, Deployment};
use crate::error::{DeployError, Error, Result};
use crate::plan::Plan;
use crate::plan::render::{self, Format, short};
use crate::session::{self, Access};

/// How many recent executions are searched for the one waiting at the approval.
const EXECUTIONS_SEARCHED: i32 = 50;

/// Promotes `<from>`'s running artifact to `<to>`.
pub fn run(root: &Path, global: &GlobalArgs, args: &PromoteArgs) -> Result<()> {
    let from = session::one_stage(root, &args.from)?;
    let to = session::one_stage(root, &args.to)?;
    promotion::check_order(&from, &to)?;
    let override_file = global.outputs_file.as_deref();
    let to_outputs = crate::outputs::read(root, &to, override_file)?;
    let from_outputs = crate::outputs::read(root, &from, override_file)?;
    let from_target = session::target_for(&from, global);
    let to_target = session::target_for(&to, global);
    let runtime = session::runtime()?;
    let to_clients = session::checked_clients(&runtime, &to, global)?;
    runtime.block_on(async {
        // <from> is only read: its stack (through its reader role when it runs in
        // an account of its own) and its bucket's zips.
        let from_clients = if from_target == to_target
            && session::stage_role(&from, Access::Read) == session::stage_role(&to, Access::Deploy)
        {
            to_clients.clone()
        } else {
            session::clients(&from, from_target, Access::Read).await?
        };
        let from_stack = from_clients
            .cloudformation
            .describe_stack(&deploy::stack_name(&from.name))
            .await?;
        let running = Running::from_stack(&from.name, from_stack.as_ref())?;
        session::say(&format!(
            "{} runs api {} and worker {} (commit {})",
            from.name,
            short(&running.digests["api"]),
            short(&running.digests["worker"]),
            running.commit.as_deref().unwrap_or("unknown")
        ));

        // The approval is checked before anything changes: a mismatch refuses the promote.
        let step = match (&to_outputs.pipeline_name, to.spec.approval) {
            (Some(pipeline), true) => {
                let pipelines = &to_clients.codepipeline;
                let state = pipelines.state(pipeline).await?;
                let executions = pipelines.executions(pipeline, EXECUTIONS_SEARCHED).await?;
                let waiting = promotion::waiting_approval(pipeline, &to.name, &state, &executions);
                promotion::approval_step(&running, waiting)?
            }
            _ => ApprovalStep::Nothing,
        };

        let mut package = running.package(
            to.spec.app.architecture,
            &format!("promoted from {}", from.name),
        );
        // The plan shows each zip's size: read it from <from>'s bucket.
        for f in package.manifest.functions.values_mut() {
            if let Some(size) = from_clients
                .s3
                .size(&from_outputs.artifact_bucket, &f.key)
                .await?
            {
                f.size = size;
            }
        }
        let d = Deployment::with_package(root, &to, override_file, package)?;
        let remote = Remote::of(&to_clients);
        let policy = Policy {
            smoke_base_url: args.smoke_base_url.clone(),
            ..Policy::promote(
                &from,
                &to,
                global.yes,
                global.json,
                args.no_smoke_test,
                args.no_rollback,
            )
        };
        let mut dp = engine::plan(&remote, d, &policy, &deploy::now_rfc3339()).await?;
        let plan = dp.plan.clone();
        // A zip missing from <to>'s bucket is copied from <from>'s (never rebuilt).
        for step in plan.uploads() {
            let missing = || {
                Error::from(DeployError::ArtifactNotInBucket {
                    bucket: from_outputs.artifact_bucket.clone(),
                    key: step.key.clone(),
                })
            };
            if from_outputs.artifact_bucket == dp.deployment.bucket
                || !from_clients
                    .s3
                    .exists(&from_outputs.artifact_bucket, &step.key)
                    .await?
            {
                deploy::discard(&to_clients.cloudformation, &plan).await?;
                return Err(missing());
            }
            if !args.dry_run {
                let bytes = from_clients
                    .s3
                    .get(&from_outputs.artifact_bucket, &step.key)
                    .await?;
                if crate::package::zip::sha256_hex(&bytes) != step.digest {
                    deploy::discard(&to_clients.cloudformation, &plan).await?;
                    return Err(missing());
                }
                dp.deployment
                    .package
                    .zips
                    .insert(step.function.clone(), bytes);
            }
        }

        if args.dry_run {
            let discarded = deploy::discard(&to_clients.cloudformation, &plan).await;
            if global.json {
                println!(
                    "{:#}",
                    json!({"command": "promote", "from": from.name, "to": to.name, "dry_run": true,
                           "running": running, "plan": plan, "approval": step})
                );
            } else {
                print!("{}", render::render(&plan, Format::Text));
                println!("{}", approval_line(&step, false));
            }
            return discarded;
        }

        let out = engine::apply(&remote, &dp, &policy, &PromoteUi { json: global.json }).await?;
        let plan = out.plan;
        let stack_status = match &out.stack {
            Some(info) => Some(info.status.clone()),
            None => plan.stack_status.clone(),
        };
        let smoke = out.smoke.as_str();

        // Answer the approval only after the deploy, so the pipeline's own action finds nothing to do.
        let mut approved = false;
        if let ApprovalStep::Answer(w) = &step
            && global.yes
        {
            let summary = format!(
                "deployer promote {} {}: {} runs commit {} (api {}, worker {})",
                from.name,
                to.name,
                to.name,
                running.commit.as_deref().unwrap_or("unknown"),
                short(&running.digests["api"]),
                short(&running.digests["worker"])
            );
            to_clients
                .codepipeline
                .approve(&w.pipeline, &w.stage, &w.action, &w.token, &summary)
                .await?;
            approved = true;
        }

        if global.json {
            println!(
                "{:#}",
                json!({"command": "promote", "from": from.name, "to": to.name, "dry_run": false,
                       "running": running, "plan": plan, "changes": plan.changes,
                       "stack_status": stack_status, "smoke_test": smoke,
                       "approval": step, "approved": approved})
            );
        } else {
            if plan.changes {
                println!(
                    "promoted {} to {} ({}); smoke test {smoke}",
                    from.name,
                    to.name,
                    stack_status.as_deref().unwrap_or("-")
                );
            } else {
                println!(
                    "{} already runs what {} runs: nothing to deploy",
                    to.name, from.name
                );
            }
            println!("{}", approval_line(&step, approved));
        }
        Ok(())
    })
}

/// One line about the approval: none, answered, or what would be answered (and how).
fn approval_line(step: &ApprovalStep, approved: bool) -> String {
    match step {
        ApprovalStep::Nothing => "approval: none waiting".to_string(),
        ApprovalStep::Answer(w) if approved => format!(
            "approval: approved {}/{} for execution {} (commit {})",
            w.stage,
            w.action,
            w.execution_id,
            w.commit.as_deref().unwrap_or("-")
        ),
        ApprovalStep::Answer(w) => format!(
            "approval: would approve {}/{} of pipeline {} for execution {} (commit {}); run again with --yes to answer it, or:\n  aws codepipeline put-approval-result --pipeline-name {} --stage-name {} --action-name {} --result summary=\"promoted by hand\",status=Approved --token {}",
            w.stage,
            w.action,
            w.pipeline,
            w.execution_id,
            w.commit.as_deref().unwrap_or("-"),
            w.pipeline,
            w.stage,
            w.action,
            w.token
        ),
    }
}

/// How `promote` shows the plan: always as text, on stderr when `--json` keeps
/// stdout for the result.
struct PromoteUi {
    json: bool,
}

impl Ui for PromoteUi {
    fn plan(&self, plan: &Plan) {
        let text = render::render(plan, Format::Text);
        if self.json {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    }
}
