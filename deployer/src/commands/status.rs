//! `deployer status [<stage>]`: what each stage runs.

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::aws::Clients;
use crate::aws::cloudformation::Stacks;
use crate::aws::codepipeline::Pipelines;
use crate::aws::dynamodb::{BudgetCounters, budget_month};
use crate::cli::{GlobalArgs, StatusArgs};
use crate::deploy::promotion::{self, PipelineRow, WaitingApproval};
use crate::deploy::{self, Deployed};
use crate::error::{AwsError, AwsKind, Error, Result};
use crate::plan::render::{short, table};
use crate::session;
use crate::stage::{self, Stage};

/// One stage's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The stage.
    pub stage: String,
    /// `countries-<stage>`.
    pub stack: String,
    /// Its region.
    pub region: String,
    /// The stack's status, `NOT_DEPLOYED`, or `UNKNOWN` when it could not be read.
    pub status: String,
    /// Digests, commit, time.
    #[serde(flatten)]
    pub deployed: Deployed,
    /// The API's base URL.
    pub api_url: Option<String>,
    /// This month's upstream calls against the budget (a deployed stack only).
    pub upstream_budget: Option<BudgetUse>,
    /// Why the stage could not be read.
    pub error: Option<String>,
    /// What kind of AWS failure that was (not printed; decides the hint).
    #[serde(skip)]
    pub error_kind: Option<AwsKind>,
}

/// A stage's monthly upstream budget this month: the worker's counter item.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetUse {
    /// The UTC calendar month, `2026-11`.
    pub month: String,
    /// Upstream calls counted so far; none when the counter could not be read.
    pub used: Option<u64>,
    /// The stage's monthly budget; 0 is unlimited.
    pub limit: u32,
    /// Why the counter could not be read (it does not fail `status`).
    pub error: Option<String>,
}

impl BudgetUse {
    /// `12/500`, `12 (no limit)`, or `?` when unreadable.
    fn cell(&self) -> String {
        match (self.used, self.limit) {
            (None, _) => "?".into(),
            (Some(used), 0) => format!("{used} (no limit)"),
            (Some(used), limit) => format!("{used}/{limit}"),
        }
    }
}

/// Reads the month's counter from the stage's status table.
async fn budget_use(clients: &Clients, s: &Stage) -> BudgetUse {
    let month = budget_month(time::OffsetDateTime::now_utc());
    let read = clients
        .dynamodb
        .budget_used(&format!("status-{}", s.name), &month)
        .await;
    BudgetUse {
        limit: s.spec.app.upstream.monthly_budget(),
        used: read.as_ref().ok().copied(),
        error: read.err().map(|e| e.to_string()),
        month,
    }
}

/// Prints every selected stage's row; exits 1 if one could not be read.
pub fn run(root: &Path, global: &GlobalArgs, args: &StatusArgs) -> Result<()> {
    if args.metrics {
        return super::metrics::run(root, global, args);
    }
    let stages = stage::load_all(root)?;
    let selected = stage::select(&stages, args.stage.as_deref())?;
    let rows = session::runtime()?.block_on(async {
        let mut rows = Vec::new();
        for s in &selected {
            rows.push(row(root, global, s).await);
        }
        rows
    });
    let pipeline = session::runtime()?.block_on(pipeline_status(root, global, &selected));
    if global.json {
        println!(
            "{:#}",
            json!({"command": "status", "stages": rows, "pipeline": pipeline})
        );
    } else {
        let mut table_rows = vec![
            [
                "STAGE",
                "STATUS",
                "API",
                "WORKER",
                "COMMIT",
                "DEPLOYED AT",
                "API URL",
                "UPSTREAM CALLS",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for r in &rows {
            let d = |v: &Option<String>| v.as_deref().map(short).unwrap_or("-").to_string();
            table_rows.push(vec![
                r.stage.clone(),
                r.status.clone(),
                d(&r.deployed.api_digest),
                d(&r.deployed.worker_digest),
                d(&r.deployed.git_commit),
                r.deployed.deployed_at.clone().unwrap_or_else(|| "-".into()),
                r.api_url.clone().unwrap_or_else(|| "-".into()),
                r.upstream_budget
                    .as_ref()
                    .map(|b| format!("{} in {}", b.cell(), b.month))
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        print!("{}", table(&table_rows));
        for r in &rows {
            if let Some(e) = &r.error {
                println!("{}: {e}", r.stage);
            }
            if let Some(e) = r.upstream_budget.as_ref().and_then(|b| b.error.as_ref()) {
                println!(
                    "{}: the upstream budget's counter could not be read: {e}",
                    r.stage
                );
            }
        }
        print!("{}", pipeline_text(&pipeline));
    }
    let failed: Vec<&Row> = rows.iter().filter(|r| r.error.is_some()).collect();
    match failed.first() {
        None => Ok(()),
        Some(first) => Err(AwsError::Call {
            action: format!(
                "reading the stack of {}",
                failed
                    .iter()
                    .map(|r| r.stage.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            message: first.error.clone().unwrap_or_default(),
            kind: first.error_kind.unwrap_or(AwsKind::Other).as_failed_read(),
        }
        .into()),
    }
}

async fn row(root: &Path, global: &GlobalArgs, s: &Stage) -> Row {
    let mut row = Row {
        stage: s.name.clone(),
        stack: deploy::stack_name(&s.name),
        region: global
            .region
            .clone()
            .unwrap_or_else(|| s.spec.region.clone()),
        status: "UNKNOWN".into(),
        deployed: Deployed::default(),
        api_url: None,
        upstream_budget: None,
        error: None,
        error_kind: None,
    };
    let target = session::target_for(s, global);
    if s.spec.local.is_some() {
        if crate::local::emulator::running(&target, &s.name).is_err() {
            row.status = "EMULATOR_NOT_RUNNING".into();
            return row;
        }
        row.api_url = crate::local::running_state(root).map(|st| st.api);
    }
    let read = async {
        let clients = session::clients(s, target, session::Access::Deploy).await?;
        let info = clients.cloudformation.describe_stack(&row.stack).await?;
        Ok::<_, Error>((clients, info))
    };
    match read.await {
        Ok((_, None)) => row.status = "NOT_DEPLOYED".into(),
        Ok((clients, Some(info))) => {
            row.status = info.status.clone();
            row.deployed = deploy::deployed(&info);
            if row.api_url.is_none() && s.spec.local.is_none() {
                row.api_url = info.outputs.get("ApiUrl").cloned();
            }
            row.upstream_budget = Some(budget_use(&clients, s).await);
        }
        Err(e) => {
            row.error = Some(e.to_string());
            // A row that failed for a reason other than an AWS call reads as "other".
            row.error_kind = Some(match &e {
                Error::Aws(AwsError::Call { kind, .. } | AwsError::AssumeRole { kind, .. }) => {
                    *kind
                }
                _ => AwsKind::Other,
            });
        }
    }
    row
}

/// The delivery pipeline as `status` shows it; `note` says why there is none.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PipelineStatus {
    /// The pipeline's name (Terraform output `pipeline_name`).
    pub name: Option<String>,
    /// Each pipeline stage's latest execution.
    pub stages: Vec<PipelineRow>,
    /// Approvals waiting for an answer.
    pub waiting_approvals: Vec<WaitingApproval>,
    /// Why the pipeline is not shown (no pipeline, or it could not be read).
    pub note: Option<String>,
}

/// Reads the pipeline of the selected cloud stages; never fails `status`.
async fn pipeline_status(root: &Path, global: &GlobalArgs, selected: &[&Stage]) -> PipelineStatus {
    let mut p = PipelineStatus::default();
    let mut reasons = Vec::new();
    let mut found = None;
    for s in selected.iter().filter(|s| s.spec.local.is_none()) {
        match crate::outputs::read(root, s, global.outputs_file.as_deref()) {
            Ok(o) => match o.pipeline_name {
                Some(name) => {
                    found = Some((name, *s));
                    break;
                }
                None => reasons.push(format!("{}: no pipeline_name output", s.name)),
            },
            Err(e) => reasons.push(e.to_string()),
        }
    }
    let Some((name, stage)) = found else {
        p.note = Some(if reasons.is_empty() {
            "no pipeline: the selected stages are local".into()
        } else {
            format!(
                "no pipeline: no Terraform outputs name one ({})",
                reasons.join("; ")
            )
        });
        return p;
    };
    p.name = Some(name.clone());
    let clients = session::tooling_clients(session::target_for(stage, global)).await;
    let cp = &clients.codepipeline;
    let state = match cp.state(&name).await {
        Ok(state) => state,
        Err(e) => {
            p.note = Some(format!("cannot read pipeline {name}: {e}"));
            return p;
        }
    };
    let executions = cp.executions(&name, 50).await.unwrap_or_default();
    let mut digests = std::collections::BTreeMap::new();
    for id in state.iter().filter_map(|s| s.execution_id.clone()) {
        if digests.contains_key(&id) || digests.len() >= 6 {
            continue;
        }
        if let Ok(Some(vars)) = cp
            .action_variables(&name, &id, promotion::BUILD_ACTION)
            .await
            && let Some(d) = vars.get("PACKAGE_DIGEST")
        {
            digests.insert(id, d.clone());
        }
    }
    p.stages = promotion::pipeline_rows(&state, &executions, &digests);
    p.waiting_approvals = state
        .iter()
        .filter_map(|s| promotion::waiting_approval(&name, &s.name, &state, &executions))
        .collect();
    p
}

/// The pipeline part of the text output.
fn pipeline_text(p: &PipelineStatus) -> String {
    let mut out = String::new();
    let Some(name) = &p.name else {
        out.push_str(&format!(
            "pipeline: {}\n",
            p.note.as_deref().unwrap_or("none")
        ));
        return out;
    };
    if let Some(note) = &p.note {
        out.push_str(&format!("pipeline {name}: {note}\n"));
        return out;
    }
    out.push_str(&format!("\npipeline {name}:\n"));
    let mut rows = vec![
        [
            "STAGE",
            "EXECUTION",
            "STATUS",
            "COMMIT",
            "PACKAGE",
            "ACTION",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let d = |v: &Option<String>| v.as_deref().map(short).unwrap_or("-").to_string();
    for r in &p.stages {
        rows.push(vec![
            r.stage.clone(),
            r.execution_id.clone().unwrap_or_else(|| "-".into()),
            r.status.clone().unwrap_or_else(|| "-".into()),
            d(&r.commit),
            d(&r.package_digest),
            r.action.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    out.push_str(&table(&rows));
    for w in &p.waiting_approvals {
        out.push_str(&format!(
            "waiting for approval: {}/{} of execution {} (commit {}); `deployer promote <from> {}` deploys and answers it\n",
            w.stage,
            w.action,
            w.execution_id,
            w.commit.as_deref().unwrap_or("-"),
            w.stage
        ));
    }
    out
}
