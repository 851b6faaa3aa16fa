//! Checks of the `release:` section: the monitoring window's range, and that
//! the local stage asks for nothing its emulator cannot do (CodeDeploy and
//! CloudFormation's rollback triggers are not emulated).

use crate::stage::schema::{StageFile, TrafficShift};

/// CloudFormation's longest rollback-trigger monitoring window, in minutes.
pub const MONITORING_MINUTES_MAX: u32 = 180;

/// Reports each problem of `s.release` through `err(field, message)`. Pure.
pub fn check(s: &StageFile, err: &mut impl FnMut(&str, String)) {
    let r = &s.release;
    if r.monitoring_minutes > MONITORING_MINUTES_MAX {
        err(
            "release.monitoring_minutes",
            format!(
                "{} is more than CloudFormation allows; allowed: 0-{MONITORING_MINUTES_MAX} minutes",
                r.monitoring_minutes
            ),
        );
    }
    if s.local.is_some() {
        if r.api_traffic != TrafficShift::AllAtOnce {
            err(
                "release.api_traffic",
                "the local stage's emulator has no CodeDeploy; allowed here: all_at_once".into(),
            );
        }
        if r.monitoring_minutes != 0 {
            err(
                "release.monitoring_minutes",
                "the local stage's emulator never raises alarms or rolls back; allowed here: 0"
                    .into(),
            );
        }
    }
}
