//! `deployer plan <stage>`: what `up` would do, as a table, Markdown or JSON;
//! the change set it creates is deleted again.

use std::path::Path;

use crate::aws::Clients;
use crate::cli::{GlobalArgs, PlanArgs};
use crate::deploy::{self, Deployment};
use crate::error::Result;
use crate::plan::render::{self, Format};

/// Builds the plan for a stage, prints it, and discards the change set.
pub fn run(root: &Path, global: &GlobalArgs, args: &PlanArgs) -> Result<()> {
    let stage = super::one_stage(root, &args.stage)?;
    let target = super::target_for(&stage, global);
    if stage.spec.local.is_some() {
        super::emulator_running(&target, &stage.name)?;
    }
    let d = Deployment::gather(
        root,
        &stage,
        global.outputs_file.as_deref(),
        args.artifacts.as_deref(),
        &[],
        &super::say,
    )?;
    let format = if global.json {
        Format::Json
    } else {
        args.format
    };
    super::runtime()?.block_on(async {
        let clients = Clients::new(target).await;
        deploy::account_guard(&clients.sts, &stage.name, &stage.spec.account).await?;
        let plan = deploy::prepare(
            &clients.cloudformation,
            &clients.s3,
            &d,
            &deploy::now_rfc3339(),
        )
        .await?;
        let discarded = deploy::discard(&clients.cloudformation, &plan).await;
        print!("{}", render::render(&plan, format));
        discarded
    })
}
