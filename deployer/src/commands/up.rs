//! `deployer up <stage>`: account guard, render, package, plan, upload, execute,
//! follow, smoke test. A local stage goes to `local::up`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::aws::Clients;
use crate::cli::{GlobalArgs, UpArgs};
use crate::deploy::{self, Deployment, progress::Display};
use crate::error::{Error, Result};
use crate::plan::render::{self, Format};

/// How long the smoke test keeps asking a freshly deployed API.
const SMOKE_PATIENCE: Duration = Duration::from_secs(60);

/// Deploys the stage.
pub fn run(root: &Path, global: &GlobalArgs, args: &UpArgs) -> Result<()> {
    let stage = super::one_stage(root, &args.stage)?;
    if stage.spec.local.is_some() {
        return crate::local::up(root, global, args, &stage);
    }
    for (given, flag) in [
        (args.api_port, "--api-port"),
        (args.emulator_port, "--emulator-port"),
        (args.upstream_port, "--upstream-port"),
    ] {
        if given.is_some() {
            return Err(Error::LocalOnly {
                flag: flag.into(),
                stage: stage.name.clone(),
            });
        }
    }
    let started = Instant::now();
    let d = Deployment::gather(
        root,
        &stage,
        global.outputs_file.as_deref(),
        args.artifacts.as_deref(),
        &[],
        &super::say,
    )?;
    let target = super::target_for(&stage, global);
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
        if !plan.changes {
            if global.json {
                println!(
                    "{:#}",
                    json!({"command": "up", "stage": stage.name, "changes": false, "plan": plan})
                );
            } else {
                print!("{}", render::render(&plan, Format::Text));
                println!(
                    "nothing to deploy ({:.1}s)",
                    started.elapsed().as_secs_f64()
                );
            }
            return Ok(());
        }
        if global.json {
            eprint!("{}", render::render(&plan, Format::Text));
        } else {
            print!("{}", render::render(&plan, Format::Text));
        }
        if (stage.spec.approval || stage.name == "prod")
            && let Err(err) = super::confirm(&format!("deploy this to {}", stage.name), global.yes)
        {
            deploy::discard(&clients.cloudformation, &plan).await?;
            return Err(err);
        }
        let display = Display::new(global.json);
        let result =
            deploy::execute(&clients.cloudformation, &clients.s3, &d, &plan, &display).await;
        display.finish();
        let info = result?;
        let api_url = info.outputs.get("ApiUrl").cloned();
        let smoke = if args.no_smoke_test {
            "skipped"
        } else {
            let url = api_url.clone().ok_or_else(|| Error::NoApiUrl {
                stack: d.stack_name.clone(),
            })?;
            deploy::smoke::health(&url, SMOKE_PATIENCE).await?;
            "passed"
        };
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
