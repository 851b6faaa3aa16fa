//! `deployer plan <stage>`: what `up` would do, as a table, Markdown or JSON;
//! the change set it creates is deleted again.

use std::path::Path;

use crate::aws::cloudformation::Stacks;
use crate::cli::{GlobalArgs, PlanArgs};
use crate::deploy::engine::{self, Remote};
use crate::deploy::policy::Policy;
use crate::deploy::{self, Deployment};
use crate::error::Result;
use crate::plan::ChangeSetType;
use crate::plan::render::{self, ConfigDiff, Format};
use crate::render::GENERATED_DIR;
use crate::session;

/// Builds the plan for a stage, prints it, and discards the change set.
pub fn run(root: &Path, global: &GlobalArgs, args: &PlanArgs) -> Result<()> {
    let stage = session::one_stage(root, &args.stage)?;
    let target = session::target_for(&stage, global);
    if stage.spec.local.is_some() {
        crate::local::emulator::running(&target, &stage.name)?;
    }
    let runtime = session::runtime()?;
    let clients = session::checked_clients(&runtime, &stage, global)?;
    let d = Deployment::gather(
        root,
        &stage,
        global.outputs_file.as_deref(),
        args.artifacts.as_deref(),
        &[],
        &session::say,
    )?;
    let format = if global.json {
        Format::Json
    } else {
        args.format
    };
    runtime.block_on(async {
        let remote = Remote::of(&clients);
        let dp = engine::plan(&remote, d, &Policy::display(&stage), &deploy::now_rfc3339()).await?;
        let (plan, d) = (&dp.plan, &dp.deployment);
        let discarded = engine::discard(&clients.cloudformation, plan).await;
        // The steps `up` takes before the change set (a local stage's missing bucket or
        // stuck stack); the JSON stays the plan value alone.
        match format {
            Format::Text => print!("{}", render::steps_text(&dp.prelude)),
            Format::Markdown => print!("{}", render::steps_markdown(&dp.prelude)),
            Format::Json => {}
        }
        if format == Format::Markdown && plan.changes {
            // A reviewer needs what the merge changes in the running stage: the
            // committed generated/<stage>/stack.yaml (checked equal to a fresh
            // render by `gather`) against the template the stack runs now.
            let deployed = match plan.change_set_type {
                ChangeSetType::Update => {
                    Some(clients.cloudformation.template(&d.stack_name).await?)
                }
                ChangeSetType::Create => None,
            };
            let path = format!("{GENERATED_DIR}/{}/stack.yaml", stage.name);
            let diff = ConfigDiff::new(&path, deployed.as_deref(), &d.template);
            print!("{}", render::markdown_with_diff(plan, Some(&diff)));
        } else {
            print!("{}", render::render(plan, format));
        }
        discarded
    })
}
