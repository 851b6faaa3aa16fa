//! The rule "prod needs a person's approval", in one place: the stage-file
//! check (`validate`) and the confirmation `up` and `promote` ask both read it.

use crate::stage::load::Stage;

/// The stage whose deploys always need a person's approval.
pub const APPROVAL_STAGE: &str = "prod";

/// Whether a deploy to `stage` asks for confirmation (`--yes` answers it):
/// its stage file sets `approval: true`, or it is the approval stage.
pub fn needs_confirmation(stage: &Stage) -> bool {
    stage.spec.approval || stage.name == APPROVAL_STAGE
}

/// Why the stage file breaks the rule, if it does: the approval stage, promoted
/// from another, must say `approval: true`.
pub fn approval_missing(stage: &Stage) -> Option<String> {
    let from = stage.spec.promote_from.as_ref()?;
    (stage.name == APPROVAL_STAGE && !stage.spec.approval).then(|| {
        format!(
            "{APPROVAL_STAGE} is promoted from `{from}` and must set `approval: true`: a person approves every {APPROVAL_STAGE} deploy"
        )
    })
}
