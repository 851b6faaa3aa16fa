//! How a deploy behaves, decided in one place: how long it waits for what,
//! how often it polls, whether it asks first, and whether it smoke tests.

use std::time::Duration;

use crate::stage::Stage;
use crate::stage::rules;

/// How long the smoke test keeps asking a freshly deployed API.
pub const SMOKE_PATIENCE: Duration = Duration::from_secs(60);
/// The smoke test's patience in seconds, instead of [`SMOKE_PATIENCE`].
pub const SMOKE_PATIENCE_ENV: &str = "DEPLOYER_SMOKE_PATIENCE_SECONDS";
/// How long `up local` waits for its api process to pass the smoke test.
pub const LOCAL_API_PATIENCE: Duration = Duration::from_secs(20);
/// How long `up local` waits for a freshly started emulator to answer.
pub const EMULATOR_PATIENCE: Duration = Duration::from_secs(60);
/// How long `up local` waits for the offline upstream to answer.
pub const UPSTREAM_PATIENCE: Duration = Duration::from_secs(10);

/// How long a change set may take to be created before the deploy gives up.
///
/// The wait is the SDK's waiter (`Stacks::wait_change_set`): its first poll is
/// immediate, later ones at least 30 s apart (hard-coded in the SDK). A real
/// change set is usually ready after a few seconds, so a cloud plan can pay up
/// to that 30 s more than a 3 s poll loop would; in exchange the wait has a
/// deadline (the old loop had none). The emulator creates change sets
/// synchronously, so locally the first, immediate poll already sees the result.
pub fn change_set_deadline(local: bool) -> Duration {
    if local {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(600)
    }
}

/// How often to poll CloudFormation while following a stack: the emulator answers at once.
pub fn poll(local: bool) -> Duration {
    if local {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(3)
    }
}

/// Whether and how a deploy is smoke tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Smoke {
    /// `--no-smoke-test`.
    Skip,
    /// `GET /health` and two read routes of the stack's ApiUrl, within the patience.
    Health(Duration),
    /// Not by the engine: `up local` tests its own api process once it runs.
    NotApplicable,
}

/// What `engine::apply` does around the plan's execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The confirmation question, when the target stage needs one.
    pub confirm: Option<String>,
    /// `--yes`: the question is answered.
    pub yes: bool,
    /// The smoke test after the stack settles.
    pub smoke: Smoke,
    /// Create the artifact bucket when it is missing (the local stage; Terraform owns the cloud ones).
    pub ensure_bucket: bool,
    /// Delete a stack the emulator left half-made, and deploy afresh (the local stage).
    pub remove_stuck_stack: bool,
    /// Plain progress lines instead of the live display (`--json`).
    pub plain_progress: bool,
    /// A failed smoke test redeploys the digests the stage ran before (not `--no-rollback`).
    pub rollback_on_smoke_failure: bool,
    /// Check the stage's reserved concurrency against the account's Lambda
    /// quota before any change set (cloud stages; the emulator has no quota).
    pub check_concurrency: bool,
    /// Smoke test this URL instead of the stack's ApiUrl (`--smoke-base-url`, `SMOKE_BASE_URL`).
    pub smoke_base_url: Option<String>,
}

impl Policy {
    /// `deployer up <stage>`.
    pub fn up(
        stage: &Stage,
        yes: bool,
        json: bool,
        no_smoke_test: bool,
        no_rollback: bool,
    ) -> Self {
        Policy {
            confirm: rules::needs_confirmation(stage)
                .then(|| format!("deploy this to {}", stage.name)),
            yes,
            smoke: smoke(no_smoke_test),
            ensure_bucket: false,
            remove_stuck_stack: false,
            plain_progress: json,
            rollback_on_smoke_failure: !no_rollback,
            check_concurrency: true,
            smoke_base_url: None,
        }
    }

    /// `deployer promote <from> <to>`.
    pub fn promote(
        from: &Stage,
        to: &Stage,
        yes: bool,
        json: bool,
        no_smoke_test: bool,
        no_rollback: bool,
    ) -> Self {
        Policy {
            confirm: rules::needs_confirmation(to)
                .then(|| format!("promote {} to {}", from.name, to.name)),
            ..Policy::up(to, yes, json, no_smoke_test, no_rollback)
        }
    }

    /// `deployer up local`: no question, the engine does not smoke test (the
    /// processes are not started yet), and the emulator's gaps are handled.
    pub fn local(json: bool) -> Self {
        Policy {
            confirm: None,
            yes: false,
            smoke: Smoke::NotApplicable,
            ensure_bucket: true,
            remove_stuck_stack: true,
            plain_progress: json,
            rollback_on_smoke_failure: false,
            check_concurrency: false,
            smoke_base_url: None,
        }
    }

    /// `deployer plan <stage>`: never applied; shows the steps a local `up` would take first.
    pub fn display(stage: &Stage) -> Self {
        Policy {
            confirm: None,
            yes: false,
            smoke: Smoke::NotApplicable,
            ensure_bucket: stage.spec.local.is_some(),
            remove_stuck_stack: stage.spec.local.is_some(),
            plain_progress: true,
            rollback_on_smoke_failure: false,
            check_concurrency: stage.spec.local.is_none(),
            smoke_base_url: None,
        }
    }
}

fn smoke(no_smoke_test: bool) -> Smoke {
    if no_smoke_test {
        Smoke::Skip
    } else {
        let seconds = std::env::var(SMOKE_PATIENCE_ENV)
            .ok()
            .and_then(|s| s.parse().ok());
        Smoke::Health(seconds.map_or(SMOKE_PATIENCE, Duration::from_secs))
    }
}
