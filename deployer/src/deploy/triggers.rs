//! The change set's rollback configuration: which of the stage's release
//! alarms CloudFormation watches (rollback triggers) and for how long after
//! the update. Pure.
//!
//! A trigger must exist when the update starts ("if a specified trigger is
//! missing, the entire stack operation fails"), and the alarms live in the
//! stack itself, so only alarms the deployed template already declares are
//! triggers: none on the first deploy, and an alarm a change adds watches from
//! the deploy after. A rollback deploy sets none, so the alarm the bad release
//! raised cannot stop the way back.

use crate::plan::ChangeSetType;
use crate::render::release::RELEASE_ALARMS;

use super::gather::Deployment;

/// The rollback configuration a change set carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollback {
    /// Alarm ARNs.
    pub triggers: Vec<String>,
    /// Minutes CloudFormation keeps watching after the update.
    pub monitoring_minutes: u32,
    /// Why there are fewer triggers than release alarms, when there are.
    pub note: Option<String>,
}

/// The rollback configuration of a deploy of `d`: `stack_id` is the deployed
/// stack's ARN (its partition), `deployed` the template it runs (none for a new stack).
pub fn rollback(
    d: &Deployment,
    kind: ChangeSetType,
    stack_id: &str,
    deployed: Option<&str>,
) -> Rollback {
    let none = |note: &str| Rollback {
        note: Some(note.into()),
        ..Rollback::default()
    };
    if d.local {
        return none("the local stage: the emulator raises no alarms");
    }
    if d.rollback_deploy {
        return none("a rollback: an alarm the failed release raised must not stop it");
    }
    let (ChangeSetType::Update, Some(deployed)) = (kind, deployed) else {
        return none("the first deploy creates the alarms; they watch from the next one");
    };
    let partition = stack_id
        .split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws");
    let mut triggers = Vec::new();
    let mut missing = Vec::new();
    for a in RELEASE_ALARMS {
        if deployed.contains(&format!("\n  {}:\n", a.logical_id)) {
            triggers.push(format!(
                "arn:{partition}:cloudwatch:{}:{}:alarm:{}",
                d.region,
                d.account,
                a.name(&d.stack_name)
            ));
        } else {
            missing.push(a.label);
        }
    }
    Rollback {
        triggers,
        monitoring_minutes: d.release.monitoring_minutes,
        note: (!missing.is_empty()).then(|| {
            format!(
                "{} not deployed yet: watched from the next deploy on",
                missing.join(", ")
            )
        }),
    }
}
