//! Rules that both the stage-file checks (`validate`) and the commands read,
//! each in one place: "prod needs a person's approval" (the confirmation `up`
//! and `promote` ask), and whether `up local` runs the offline upstream.

use crate::stage::load::Stage;
use crate::stage::schema::Provider;

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

/// Whether `up local` runs the offline upstream for `stage`: a local stage
/// whose upstream is v3 at `http://127.0.0.1:<local.upstream_port>` (or
/// `localhost`). Any other upstream (a self-hosted v3-compatible server, v5
/// with a key) is used as it is, and no server is started for it.
pub fn runs_offline_upstream(stage: &Stage) -> bool {
    let (Some(local), up) = (&stage.spec.local, &stage.spec.app.upstream) else {
        return false;
    };
    let port = local.upstream_port;
    up.provider == Provider::V3
        && [
            format!("http://127.0.0.1:{port}"),
            format!("http://localhost:{port}"),
        ]
        .contains(&up.base_url)
}
