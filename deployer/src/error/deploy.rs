//! Deploying and promoting: the stack, the change set, the smoke test, the promotion rules.

use super::help::{ExitClass, Help};

/// Deploying and promoting: the stack, the change set, the smoke test, the promotion rules. Each variant carries its message (`#[error]`); [`DeployError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The stack is in a state that takes no change set.
    #[error("stack {stack} cannot be deployed now: {problem}")]
    StackNotReady { stack: String, problem: String },

    /// CloudFormation could not build the change set.
    #[error("the change set for {stack} failed: {reason}")]
    ChangeSetFailed { stack: String, reason: String },

    /// The change set was not created within the deadline.
    #[error("the change set for {stack} was not ready after {waited} s")]
    ChangeSetTimeout { stack: String, waited: u64 },

    /// The stack vanished between two calls.
    #[error("stack {stack} does not exist")]
    StackMissing { stack: String },

    /// The local emulator refused to create or update the stack.
    #[error("the local emulator could not deploy {stack}: {message}")]
    EmulatorRejected { stack: String, message: String },

    /// The stack ended in a failure or a rollback.
    #[error("deploying {stack} failed; it is now {status}:\n{}", failures.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n"))]
    DeployFailed {
        stack: String,
        status: String,
        failures: Vec<String>,
    },

    /// CloudFormation rolled the update back because a rollback trigger's alarm fired.
    #[error("CloudFormation rolled {stack} back ({status}): {} went to ALARM during the release; the stage runs what it ran before:\n{}", alarms.join(", "), events.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n"))]
    RolledBackByAlarm {
        stack: String,
        status: String,
        alarms: Vec<String>,
        events: Vec<String>,
    },

    /// The smoke test failed and the deployer redeployed the digests the stage ran before.
    #[error("smoke test failed: GET {url}: {detail}\n{rollback}")]
    SmokeTestRolledBack {
        url: String,
        detail: String,
        /// What the rollback deploy did (or why there was none).
        rollback: String,
    },

    /// The deployed API did not answer its smoke test (health, then two read routes) as it should.
    #[error("smoke test failed: GET {url}: {detail}")]
    SmokeTestFailed { url: String, detail: String },

    /// Drift detection found resources that differ from the template.
    #[error(
        "stack {stack} has drifted: {count} resource(s) differ from its template (listed above)"
    )]
    Drifted { stack: String, count: usize },

    /// Drift detection could not finish.
    #[error("drift detection on {stack} failed: {reason}")]
    DriftDetectionFailed { stack: String, reason: String },

    /// The stack has no ApiUrl output to smoke test.
    #[error("stack {stack} has no ApiUrl output, so the deploy cannot be smoke tested")]
    NoApiUrl { stack: String },

    /// A zip that must already be in the artifact bucket is not there.
    #[error("s3://{bucket}/{key} does not exist; the deployer never rebuilds a digest")]
    ArtifactNotInBucket { bucket: String, key: String },

    /// `promote <from> <to>` against the order the stage files set.
    #[error("cannot promote {from} to {to}: {}; nothing was changed", match promote_from {
        Some(p) => format!("{to} is promoted from {p} (its stage file's promote_from), not from {from}"),
        None => format!("{to}'s stage file has no promote_from, so nothing is promoted to it"),
    })]
    PromoteOrder {
        from: String,
        to: String,
        promote_from: Option<String>,
    },

    /// The stage to promote from runs no usable artifact.
    #[error("cannot promote from {stage}: {problem}; nothing was changed")]
    NothingToPromote { stage: String, problem: String },

    /// `up` of an artifact the stage's predecessor does not run.
    #[error(
        "refusing to deploy to {stage} an artifact that {from} does not run: {problem}; nothing was changed"
    )]
    NotPromoted {
        stage: String,
        from: String,
        problem: String,
    },

    /// The pipeline execution waiting at the approval carries another artifact.
    #[error(
        "{waiting} with commit {carries}, but {from} runs {runs}; refusing to deploy or approve (nothing was changed)"
    )]
    ApprovalMismatch {
        /// e.g. `pipeline countries: execution <id> waits at prod/Approve`.
        waiting: String,
        /// Where a person answers it: `countries > prod > Approve`.
        console: String,
        carries: String,
        from: String,
        runs: String,
    },

    /// The stage's reserved concurrency does not fit the account's Lambda quota.
    #[error(
        "stage {stage} reserves {wanted} concurrent Lambda executions (now {stage_now}), but the account's quota in {region} is {limit} and other functions reserve {others}: {unreserved_after} would stay unreserved, and Lambda keeps at least {minimum}; nothing was changed"
    )]
    ConcurrencyDoesNotFit {
        stage: String,
        region: String,
        limit: u32,
        others: u32,
        stage_now: u32,
        wanted: u32,
        unreserved_after: u32,
        minimum: u32,
        quota_needed: u32,
    },

    /// A template's reserved concurrency cannot be read.
    #[error("cannot tell what {stack} reserves of the account's Lambda concurrency: {problem}")]
    ConcurrencyUnknown { stack: String, problem: String },
}

impl DeployError {
    /// The exit class and the hint: one arm per variant and no catch-all, so a
    /// new variant does not compile until it has both.
    pub fn help(&self) -> Help {
        match self {
            DeployError::StackNotReady { .. } => Help::new(ExitClass::Failed, "`deployer status <stage>` shows the stack's state; the message above says what it needs".into()),
            DeployError::ChangeSetFailed { .. } => Help::new(ExitClass::Failed, "fix the template or the stage file the reason points at, re-render, and retry".into()),
            DeployError::ChangeSetTimeout { .. } => Help::new(
                ExitClass::Failed,
                "`deployer status <stage>` shows the stack; CloudFormation may be throttled: retry".into(),
            ),
            DeployError::StackMissing { .. } => Help::new(ExitClass::Failed, "run `deployer up <stage>` to create it".into()),
            DeployError::EmulatorRejected { .. } => Help::new(ExitClass::Failed, "the emulator (moto) lacks or rejects something in the template (docs/deploying.md lists the emulator's gaps); the next `deployer up local` removes the half-made stack and tries again".into()),
            DeployError::DeployFailed { .. } => Help::new(ExitClass::Failed, "fix what the failing events above say and run `deployer up` again; CloudFormation has rolled the stack back".into()),
            DeployError::SmokeTestFailed { .. } => Help::new(ExitClass::Failed, "the stack is deployed but the API failed its smoke test (GET /health, /status/PY?limit=1, /view-data/PY): check the api function's logs and its role's DynamoDB permissions".into()),
            DeployError::RolledBackByAlarm { .. } => Help::new(ExitClass::Failed, "read what the alarm saw (`deployer logs <stage> --since 30m`, the alarm in the CloudWatch console), fix it and deploy again; docs/delivery.md, \"What happens when a release goes bad\"".into()),
            DeployError::SmokeTestRolledBack { .. } => Help::new(ExitClass::Failed, "the failed release's logs: `deployer logs <stage> --since 30m`; fix it and deploy again (`--no-rollback` keeps a failed release for debugging); docs/delivery.md, \"What happens when a release goes bad\"".into()),
            DeployError::Drifted { .. } => Help::new(ExitClass::Failed, "undo the change by hand, or deploy again (`deployer up <stage>` or a promote) so CloudFormation sets what the template says; docs/delivery.md, \"What happens when a release goes bad\"".into()),
            DeployError::DriftDetectionFailed { .. } => Help::new(ExitClass::Failed, "drift detection reads every resource with your credentials: use a role that can read them, and retry".into()),
            DeployError::NoApiUrl { .. } => Help::new(ExitClass::Failed, "the template must output ApiUrl; pass --no-smoke-test to deploy without the check".into()),
            DeployError::PromoteOrder { to, promote_from, .. } => Help::new(ExitClass::Usage, { match promote_from {
                Some(p) => format!("run `deployer promote {p} {to}`; the order is dev -> staging -> prod (docs/delivery.md)"),
                None => format!("deploy {to} with `deployer up {to}`, or set promote_from in stages/{to}.yaml"),
            } }),
            DeployError::NothingToPromote { stage, .. } => Help::new(ExitClass::Usage, { format!(
                "deploy {stage} first (`deployer up {stage}` or its own promote); `deployer status {stage}` shows what it runs"
            ) }),
            DeployError::NotPromoted { stage, from, .. } => Help::new(ExitClass::Usage, { format!(
                "deploy it to {from} first and then `deployer promote {from} {stage}`; or pass --force to bypass the order (an emergency rollback)"
            ) }),
            DeployError::ApprovalMismatch { console, .. } => Help::new(ExitClass::Usage, { format!(
                "check `deployer status`; reject that approval (console: CodePipeline > {console}) or wait until the run that carries this artifact reaches it, then promote again"
            ) }),
            DeployError::ConcurrencyDoesNotFit { stage, region, quota_needed, .. } => Help::new(ExitClass::Usage, format!(
                "request a quota increase to at least {quota_needed} (Service Quotas > AWS Lambda > Concurrent executions, code {}, in {region}), or lower or remove `reserved_concurrency` in stages/{stage}.yaml (the worker keeps its upstream cap with `max_concurrency`), re-render, and deploy again",
                crate::deploy::concurrency::QUOTA_CODE
            )),
            DeployError::ConcurrencyUnknown { .. } => Help::new(ExitClass::Usage, "ReservedConcurrentExecutions must be a number in the template (templates/stack.yaml.hbs) and in the deployed stack".into()),
            DeployError::ArtifactNotInBucket { .. } => Help::new(ExitClass::Usage, "deploy a digest that was uploaded before (`aws s3 ls s3://<bucket>/functions/api/` lists them), or deploy a package with --artifacts DIR".into()),
        }
    }
}
