//! `deployer down <stage>`: deletes the stage's stack after saying what goes and
//! what stays (outside the local stage the tables are retained).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::aws::cloudformation::Stacks;
use crate::cli::{DownArgs, GlobalArgs};
use crate::deploy::{self, progress::Display};
use crate::error::Result;
use crate::outputs;
use crate::session;

/// Logical ids of a template's resources with `DeletionPolicy: Retain`. Pure.
pub fn retained_resources(template: &str) -> Vec<String> {
    let Ok(value) = yaml_serde::from_str::<yaml_serde::Value>(template) else {
        return vec![];
    };
    let Some(resources) = value.get("Resources").and_then(|r| r.as_mapping()) else {
        return vec![];
    };
    let mut out: Vec<String> = resources
        .iter()
        .filter(|(_, r)| r.get("DeletionPolicy").and_then(|p| p.as_str()) == Some("Retain"))
        .filter_map(|(k, _)| k.as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

/// Deletes the stack.
pub fn run(root: &Path, global: &GlobalArgs, args: &DownArgs) -> Result<()> {
    let stage = session::one_stage(root, &args.stage)?;
    let target = session::target_for(&stage, global);
    let local = stage.spec.local.is_some();
    if local {
        crate::local::emulator::running(&target, &stage.name)?;
    }
    let role = outputs::read(root, &stage, global.outputs_file.as_deref())?
        .cloudformation_execution_role_arn;
    let name = deploy::stack_name(&stage.name);
    let runtime = session::runtime()?;
    let clients = session::checked_clients(&runtime, &stage, global)?;
    runtime.block_on(async {
        let cfn = &clients.cloudformation;
        let Some(stack) = cfn.describe_stack(&name).await? else {
            if global.json {
                println!("{:#}", json!({"command": "down", "stage": stage.name, "deleted": false, "reason": "no such stack"}));
            } else {
                println!("stack {name} does not exist: nothing to delete");
            }
            return Ok(());
        };
        let kept_ids = retained_resources(&cfn.template(&name).await.unwrap_or_default());
        let physical: BTreeMap<String, String> = cfn
            .resources(&name)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| Some((r.logical_id, r.physical_id?)))
            .collect();
        let kept: Vec<String> = kept_ids
            .iter()
            .map(|id| physical.get(id).cloned().unwrap_or_else(|| id.clone()))
            .collect();
        let say = |m: &str| if global.json { eprintln!("{m}") } else { println!("{m}") };
        say(&format!("stack {name} ({}) in account {}, {}", stack.status, stage.spec.account, stage.spec.region));
        if kept.is_empty() {
            say(&format!(
                "deleting it deletes every resource in it{}",
                if local { ": tables, queues, functions (local data is lost)" } else { ", data included" }
            ));
        } else {
            say(&format!(
                "deleting it keeps, with their data (DeletionPolicy Retain): {}",
                kept.join(", ")
            ));
            say("a later `deployer up` cannot create the stack while they exist: delete or import them first");
        }
        session::confirm(&format!("delete stack {name}"), global.yes)?;
        let marker = cfn.events(&stack.id, None).await?.first().map(|e| e.id.clone());
        cfn.delete_stack(&stack.id, if local { None } else { role.as_deref() }).await?;
        let display = Display::new(global.json);
        let poll = deploy::policy::poll(local);
        let result = deploy::follow(cfn, &stack.id, &name, marker, poll, local, &display).await;
        display.finish();
        let info = result?;
        if global.json {
            println!("{:#}", json!({"command": "down", "stage": stage.name, "deleted": true, "status": info.status, "retained": kept}));
        } else {
            println!("deleted {name}{}", if kept.is_empty() { String::new() } else { format!("; kept {}", kept.join(", ")) });
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_retained_resources() {
        let t = "Resources:\n  A:\n    Type: X\n    DeletionPolicy: Retain\n  B:\n    Type: Y\n    Properties:\n      Arn: !GetAtt A.Arn\n";
        assert_eq!(retained_resources(t), vec!["A".to_string()]);
        assert!(retained_resources("not: [yaml").is_empty());
    }
}
