//! `deployer drift <stage>`: CloudFormation drift detection on the stage's
//! stack; lists each resource that no longer matches the template, with its
//! property differences, and exits 1 when one does (so a pipeline step or a
//! cron job can run it). Drift detection reads each resource with the
//! caller's credentials: run it with read access to the stack's resources.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::aws::cloudformation::drift::ResourceDrift;
use crate::cli::{DriftArgs, GlobalArgs};
use crate::deploy;
use crate::error::{DeployError, Result};
use crate::plan::render::table;
use crate::session;

/// How long detection may take before the command gives up (CloudFormation: "up to several minutes").
const DETECTION_DEADLINE: Duration = Duration::from_secs(600);

/// Detects drift on the stage's stack and prints it.
pub fn run(root: &Path, global: &GlobalArgs, args: &DriftArgs) -> Result<()> {
    let stage = session::one_stage(root, &args.stage)?;
    let runtime = session::runtime()?;
    let clients = session::checked_clients(&runtime, &stage, global)?;
    let stack = deploy::stack_name(&stage.name);
    let cfn = &clients.cloudformation;
    runtime.block_on(async {
        let id = cfn.detect_drift(&stack).await?;
        let started = Instant::now();
        let detection = loop {
            let d = cfn.drift_detection(&id).await?;
            if d.status != "DETECTION_IN_PROGRESS" {
                break d;
            }
            if started.elapsed() > DETECTION_DEADLINE {
                return Err(DeployError::DriftDetectionFailed {
                    stack: stack.clone(),
                    reason: format!("still in progress after {} s", DETECTION_DEADLINE.as_secs()),
                }
                .into());
            }
            tokio::time::sleep(deploy::policy::poll(false)).await;
        };
        if detection.status == "DETECTION_FAILED" && detection.drift.is_none() {
            return Err(DeployError::DriftDetectionFailed {
                stack: stack.clone(),
                reason: detection.reason.unwrap_or_else(|| "no reason given".into()),
            }
            .into());
        }
        let drifted = cfn.drifted_resources(&stack).await?;
        let status = detection.drift.clone().unwrap_or_else(|| "UNKNOWN".into());
        if global.json {
            println!(
                "{:#}",
                json!({"command": "drift", "stage": stage.name, "stack": stack,
                       "drift_status": status, "detection": detection.status,
                       "note": detection.reason, "drifted": drifted})
            );
        } else {
            print!(
                "{}",
                text(&stack, &status, detection.reason.as_deref(), &drifted)
            );
        }
        if drifted.is_empty() {
            Ok(())
        } else {
            Err(DeployError::Drifted {
                stack,
                count: drifted.len(),
            }
            .into())
        }
    })
}

/// The drift report as text. Pure.
pub fn text(stack: &str, status: &str, note: Option<&str>, drifted: &[ResourceDrift]) -> String {
    let mut out = format!("stack {stack}: {status}\n");
    if let Some(note) = note {
        out.push_str(&format!("note: {note}\n"));
    }
    if drifted.is_empty() {
        out.push_str("every resource matches the template\n");
        return out;
    }
    let mut rows = vec![
        [
            "RESOURCE", "TYPE", "DRIFT", "PROPERTY", "EXPECTED", "ACTUAL",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in drifted {
        let head = |first: bool| {
            if first {
                vec![
                    r.logical_id.clone(),
                    r.resource_type.clone(),
                    r.status.clone(),
                ]
            } else {
                vec![String::new(), String::new(), String::new()]
            }
        };
        if r.differences.is_empty() {
            let mut row = head(true);
            row.extend(["-".to_string(), "-".into(), "-".into()]);
            rows.push(row);
        }
        for (i, d) in r.differences.iter().enumerate() {
            let mut row = head(i == 0);
            row.extend([
                format!("{} ({})", d.path, d.difference),
                d.expected.clone(),
                d.actual.clone(),
            ]);
            rows.push(row);
        }
    }
    out.push_str(&table(&rows));
    out
}
