//! The one deploy pipeline `up`, `promote` and `up local` share.
//!
//! `plan` reads the remote state first (the bucket, a stuck stack) and builds
//! the plan (a change set, kept) with the steps to take before it; `apply`
//! owns everything after: those steps, showing the plan, the confirmation,
//! execution, following the stack and the smoke test. The callers differ only
//! in their `Policy` and in how their `Ui` shows the plan.

use crate::aws::Clients;
use crate::aws::cloudformation::{StackInfo, Stacks};
use crate::aws::lambda::{AccountLimits, Lambda};
use crate::aws::s3::Artifacts;
use crate::error::{DeployError, Error, Result};
use crate::plan::{ChangeSetType, Plan, Step};
use crate::session;

use super::change_set::{base_plan, mark_uploads};
pub use super::change_set::{discard, prepare};
use super::concurrency;
use super::execute::execute;
use super::gather::Deployment;
use super::policy::{Policy, Smoke};
use super::progress::Display;
use super::smoke;
use super::stack_state::is_stuck;

/// The AWS side a deploy talks to: the stage's stacks, its artifact bucket
/// and the account's Lambda quota.
pub struct Remote<'a, C: Stacks, S: Artifacts, L: AccountLimits = Lambda> {
    /// CloudFormation.
    pub cfn: &'a C,
    /// S3.
    pub s3: &'a S,
    /// Lambda (the account's concurrency).
    pub lambda: &'a L,
}

impl<'a> Remote<'a, crate::aws::cloudformation::CloudFormation, crate::aws::s3::S3> {
    /// The real clients of a command.
    pub fn of(clients: &'a Clients) -> Self {
        Remote {
            cfn: &clients.cloudformation,
            s3: &clients.s3,
            lambda: &clients.lambda,
        }
    }
}

/// A plan and what executing it needs.
#[derive(Debug, Clone)]
pub struct DeployPlan {
    /// Steps before the change set (the local stage only, today).
    pub prelude: Vec<Step>,
    /// The reviewed value: `plan --json` and `up --json` print exactly this.
    pub plan: Plan,
    /// What execution needs: the bucket, the template, the zips, polling and deadlines.
    pub deployment: Deployment,
    /// The deploy's time (the `countries:deployed-at` tag).
    pub deployed_at: String,
    /// No change set yet: a stuck stack is removed first, then the plan is made again.
    pub deferred: bool,
}

/// How a caller shows what `apply` does.
pub trait Ui {
    /// Shows the plan about to be applied (or that there is nothing to do).
    fn plan(&self, plan: &Plan);
    /// One progress line.
    fn line(&self, text: &str) {
        session::say(text);
    }
}

/// What the smoke test did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmokeResult {
    /// It ran and passed.
    Passed,
    /// `--no-smoke-test`.
    Skipped,
    /// Nothing was deployed, or the caller tests on its own (`up local`).
    NotNeeded,
}

impl SmokeResult {
    /// As the summaries print it.
    pub fn as_str(self) -> &'static str {
        match self {
            SmokeResult::Passed => "passed",
            SmokeResult::Skipped => "skipped",
            SmokeResult::NotNeeded => "not needed",
        }
    }
}

/// What `apply` did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The plan applied (made again after a deferred step).
    pub plan: Plan,
    /// The stack as it ended; none when nothing changed.
    pub stack: Option<StackInfo>,
    /// The smoke test.
    pub smoke: SmokeResult,
}

/// Reads the remote state and builds the plan: the steps the policy asks for
/// that would do something, then the change set (unless a stuck stack must go first).
pub async fn plan<C: Stacks, S: Artifacts>(
    r: &Remote<'_, C, S>,
    deployment: Deployment,
    p: &Policy,
    deployed_at: &str,
) -> Result<DeployPlan> {
    let d = &deployment;
    if p.check_concurrency
        && let Some(fit) = concurrency::check(r.lambda, r.cfn, d).await?
    {
        session::say(&fit.summary());
    }
    let mut prelude = Vec::new();
    if p.ensure_bucket && !r.s3.bucket_exists(&d.bucket).await? {
        prelude.push(Step::EnsureBucket {
            bucket: d.bucket.clone(),
            region: d.region.clone(),
        });
    }
    let mut deferred = false;
    if p.remove_stuck_stack
        && let Some(stack) = r.cfn.describe_stack(&d.stack_name).await?
        && is_stuck(&stack.status)
    {
        prelude.push(Step::RemoveStuckStack {
            stack: d.stack_name.clone(),
            status: stack.status,
        });
        deferred = true;
    }
    let plan = if deferred {
        // What the deploy will do once the stack is gone: create it afresh.
        let mut plan = base_plan(d, deployed_at, None, ChangeSetType::Create);
        plan.changes = true;
        mark_uploads(r.s3, d, &mut plan).await?;
        plan
    } else {
        prepare(r.cfn, r.s3, d, deployed_at).await?
    };
    Ok(DeployPlan {
        prelude,
        plan,
        deployment,
        deployed_at: deployed_at.to_string(),
        deferred,
    })
}

/// Applies a plan: the steps before the change set, the plan shown, the
/// confirmation (a refusal discards the change set), execution, following the
/// stack, and the smoke test; a failed smoke test redeploys the digests the
/// stage ran before (unless the policy says `--no-rollback`) and fails.
pub async fn apply<C: Stacks, S: Artifacts>(
    r: &Remote<'_, C, S>,
    dp: &DeployPlan,
    p: &Policy,
    ui: &dyn Ui,
) -> Result<Outcome> {
    match apply_once(r, dp, p, ui).await {
        Err(Failed::Smoke(plan, err)) if p.rollback_on_smoke_failure && !dp.deployment.local => {
            Err(super::rollback::after_smoke_failure(r, dp, &plan, err, p, ui).await)
        }
        Err(Failed::Smoke(_, err) | Failed::Other(err)) => Err(err),
        Ok(out) => Ok(out),
    }
}

/// Why `apply_once` failed: the smoke test (after the plan was applied), or anything else.
pub(super) enum Failed {
    /// The release is deployed and failed its smoke test.
    Smoke(Box<Plan>, Error),
    /// Anything before.
    Other(Error),
}

impl From<Error> for Failed {
    fn from(err: Error) -> Self {
        Failed::Other(err)
    }
}

/// `apply` without the rollback: what a rollback deploy runs.
pub(super) async fn apply_once<C: Stacks, S: Artifacts>(
    r: &Remote<'_, C, S>,
    dp: &DeployPlan,
    p: &Policy,
    ui: &dyn Ui,
) -> std::result::Result<Outcome, Failed> {
    let d = &dp.deployment;
    for step in &dp.prelude {
        match step {
            Step::EnsureBucket { bucket, region } => r.s3.create_bucket(bucket, region).await?,
            Step::RemoveStuckStack { .. } => remove_stuck_stack(r.cfn, d, ui).await?,
        }
    }
    let plan = if dp.deferred {
        prepare(r.cfn, r.s3, d, &dp.deployed_at).await?
    } else {
        dp.plan.clone()
    };
    ui.plan(&plan);
    if !plan.changes {
        return Ok(Outcome {
            plan,
            stack: None,
            smoke: SmokeResult::NotNeeded,
        });
    }
    if let Some(question) = &p.confirm
        && let Err(err) = session::confirm(question, p.yes)
    {
        discard(r.cfn, &plan).await?;
        return Err(err.into());
    }
    let display = Display::new(p.plain_progress);
    let result = execute(r.cfn, r.s3, d, &plan, &display).await;
    display.finish();
    let info = result?;
    let smoke = match p.smoke {
        Smoke::Skip => SmokeResult::Skipped,
        Smoke::NotApplicable => SmokeResult::NotNeeded,
        Smoke::Health(patience) => {
            let url = match &p.smoke_base_url {
                Some(url) => {
                    ui.line(&format!(
                        "smoke test against {url} (instead of the stack's ApiUrl)"
                    ));
                    url.clone()
                }
                None => info.outputs.get("ApiUrl").cloned().ok_or_else(|| {
                    Error::from(DeployError::NoApiUrl {
                        stack: d.stack_name.clone(),
                    })
                })?,
            };
            if let Err(err) = smoke::check(&url, patience).await {
                return Err(Failed::Smoke(Box::new(plan), err));
            }
            SmokeResult::Passed
        }
    };
    Ok(Outcome {
        plan,
        stack: Some(info),
        smoke,
    })
}

/// A stack created in the emulator by a change set that then failed stays
/// half-made (it never rolls back): delete it so the deploy starts afresh.
async fn remove_stuck_stack(cfn: &impl Stacks, d: &Deployment, ui: &dyn Ui) -> Result<()> {
    for _ in 0..5 {
        let Some(stack) = cfn.describe_stack(&d.stack_name).await? else {
            return Ok(());
        };
        if !is_stuck(&stack.status) {
            return Ok(());
        }
        ui.line(&format!(
            "the emulator's stack {} is {} after an earlier failed deploy; deleting it (local data only) and deploying afresh",
            d.stack_name, stack.status
        ));
        cfn.delete_stack(&stack.id, None).await?;
    }
    Err(DeployError::StackNotReady {
        stack: d.stack_name.clone(),
        problem: "the emulator keeps a stuck copy of it; restart the emulator".into(),
    }
    .into())
}
