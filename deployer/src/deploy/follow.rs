//! Following a stack's events until it settles.

use std::time::{Duration, Instant};

use crate::aws::cloudformation::{StackInfo, Stacks};
use crate::error::{DeployError, Result};

use super::progress::{self, Display};

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
            // A failure, or CloudFormation's reason for starting a rollback (a
            // rollback trigger's alarm, a CodeDeploy deployment that failed).
            let rollback_reason = e.status.ends_with("ROLLBACK_IN_PROGRESS")
                && e.reason.as_deref().is_some_and(|r| !r.is_empty());
            if progress::is_failure(e) || rollback_reason {
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
            return Err(DeployError::DeployFailed {
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
            }
            .into());
        }
        // The emulator works synchronously: a stack still "in progress" after a moment is stuck.
        if local && started.elapsed() > Duration::from_secs(5) {
            return Err(DeployError::StackNotReady {
                stack: stack_name.to_string(),
                problem: format!(
                    "the emulator left it in {} (it never rolls back a failed create)",
                    info.status
                ),
            }
            .into());
        }
        tokio::time::sleep(poll).await;
    }
}
