//! `deployer up <stage>`: account guard, render, package, plan, upload, execute,
//! follow, smoke test. A local stage goes to `local::up`.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use crate::aws::cloudformation::Stacks;
use crate::aws::s3::Artifacts;
use crate::cli::{GlobalArgs, UpArgs};
use crate::deploy::engine::{self, Remote, Ui};
use crate::deploy::policy::Policy;
use crate::deploy::{self, Deployment, promotion};
use crate::error::{DeployError, Error, LocalError, Result};
use crate::plan::Plan;
use crate::plan::render::{self, Format};
use crate::session;

/// Deploys the stage.
pub fn run(root: &Path, global: &GlobalArgs, args: &UpArgs) -> Result<()> {
    let stage = session::one_stage(root, &args.stage)?;
    if stage.spec.local.is_some() {
        for (given, flag) in [
            (args.artifact_digest.is_some(), "--artifact-digest"),
            (args.force, "--force"),
        ] {
            if given {
                return Err(LocalError::NotForLocal { flag: flag.into() }.into());
            }
        }
        return crate::local::up(root, global, args, &stage);
    }
    for (given, flag) in [
        (args.api_port.is_some(), "--api-port"),
        (args.emulator_port.is_some(), "--emulator-port"),
        (args.upstream_port.is_some(), "--upstream-port"),
        (args.watch, "--watch"),
    ] {
        if given {
            return Err(LocalError::LocalOnly {
                flag: flag.into(),
                stage: stage.name.clone(),
            }
            .into());
        }
    }
    let started = Instant::now();
    let runtime = session::runtime()?;
    let clients = session::checked_clients(&runtime, &stage, global)?;
    let mut d = match &args.artifact_digest {
        // A rollback: zips already in the bucket, named by digest.
        Some(digests) => Deployment::with_package(
            root,
            &stage,
            global.outputs_file.as_deref(),
            promotion::package_of(
                &digests.0,
                "unknown",
                stage.spec.app.architecture,
                "--artifact-digest",
            ),
        )?,
        None => Deployment::gather(
            root,
            &stage,
            global.outputs_file.as_deref(),
            args.artifacts.as_deref(),
            &[],
            &session::say,
        )?,
    };
    // A rollback to zips the stage ran before: no rollback triggers (deploy::triggers).
    d.rollback_deploy = args.artifact_digest.is_some();
    runtime.block_on(async {
        if let Some(from) = &stage.spec.promote_from {
            promotion_guard(root, global, &stage.name, from, &d, args.force).await?;
        }
        if args.artifact_digest.is_some() {
            // The zips must be in the bucket already (never rebuilt); the plan shows their sizes.
            for f in d.package.manifest.functions.values_mut() {
                f.size = clients.s3.size(&d.bucket, &f.key).await?.ok_or_else(|| {
                    Error::from(DeployError::ArtifactNotInBucket {
                        bucket: d.bucket.clone(),
                        key: f.key.clone(),
                    })
                })?;
            }
        }
        let remote = Remote::of(&clients);
        let policy = Policy {
            smoke_base_url: args.smoke_base_url.clone(),
            ..Policy::up(
                &stage,
                global.yes,
                global.json,
                args.no_smoke_test,
                args.no_rollback,
            )
        };
        let dp = engine::plan(&remote, d, &policy, &deploy::now_rfc3339()).await?;
        let out = engine::apply(&remote, &dp, &policy, &UpUi { json: global.json }).await?;
        let plan = out.plan;
        let Some(info) = out.stack else {
            if global.json {
                println!(
                    "{:#}",
                    json!({"command": "up", "stage": stage.name, "changes": false, "plan": plan})
                );
            } else {
                println!(
                    "nothing to deploy ({:.1}s)",
                    started.elapsed().as_secs_f64()
                );
            }
            return Ok(());
        };
        let d = &dp.deployment;
        let api_url = info.outputs.get("ApiUrl").cloned();
        let smoke = out.smoke.as_str();
        let took = started.elapsed().as_secs_f64();
        if global.json {
            println!(
                "{:#}",
                json!({
                    "command": "up", "stage": stage.name, "changes": true, "plan": plan,
                    "stack_status": info.status, "outputs": info.outputs, "api_url": api_url,
                    "smoke_test": smoke, "seconds": took,
                })
            );
        } else {
            println!(
                "deployed {} ({}) in {took:.1}s; smoke test {smoke}",
                d.stack_name, info.status
            );
            match &api_url {
                Some(url) => println!("api: {url}"),
                None => println!("api: (the stack has no ApiUrl output)"),
            }
        }
        Ok(())
    })
}

/// A stage with `promote_from` takes only the artifact its predecessor runs;
/// `--force` lets another through, loudly (an emergency rollback).
async fn promotion_guard(
    root: &Path,
    global: &GlobalArgs,
    stage: &str,
    from: &str,
    d: &Deployment,
    force: bool,
) -> Result<()> {
    let from_stage = session::one_stage(root, from)?;
    let target = session::target_for(&from_stage, global);
    let clients = session::clients(&from_stage, target, session::Access::Read).await?;
    let info = clients
        .cloudformation
        .describe_stack(&deploy::stack_name(from))
        .await?;
    let predecessor = promotion::Running::from_stack(from, info.as_ref());
    let wanted = d
        .package
        .manifest
        .functions
        .iter()
        .map(|(name, f)| (name.clone(), f.digest.clone()))
        .collect();
    if let Some(warning) = promotion::check_up(stage, from, predecessor.as_ref(), &wanted, force)? {
        let bar = "!".repeat(72);
        eprintln!("{bar}\n{warning}\n{bar}");
    }
    Ok(())
}

/// How `up` shows the plan: on stdout, or on stderr when `--json` keeps stdout
/// for the result; a plan without changes only in text mode.
struct UpUi {
    json: bool,
}

impl Ui for UpUi {
    fn plan(&self, plan: &Plan) {
        let text = render::render(plan, Format::Text);
        match (plan.changes, self.json) {
            (true, true) => eprint!("{text}"),
            (_, false) => print!("{text}"),
            (false, true) => {}
        }
    }
}
