//! The pipeline side of a promotion, pure: which manual approval waits for a
//! stage, whether promote may answer it, and the rows `status` shows.

use serde::Serialize;

use std::collections::BTreeMap;

use super::{APPROVAL_ACTION, Running};
use crate::aws::codepipeline::{Execution, StageState};
use crate::error::{DeployError, Result};

/// A manual approval that waits in the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingApproval {
    /// The pipeline.
    pub pipeline: String,
    /// The pipeline stage (named after the deployment stage).
    pub stage: String,
    /// The approval action.
    pub action: String,
    /// The execution waiting there.
    pub execution_id: String,
    /// The commit that execution built (none when the pipeline does not say).
    pub commit: Option<String>,
    /// Its token, needed to answer it.
    #[serde(skip)]
    pub token: String,
}

/// The approval waiting at pipeline stage `stage`, if one does.
pub fn waiting_approval(
    pipeline: &str,
    stage: &str,
    state: &[StageState],
    executions: &[Execution],
) -> Option<WaitingApproval> {
    let s = state.iter().find(|s| s.name == stage)?;
    let action = s.actions.iter().find(|a| {
        a.name == APPROVAL_ACTION && a.status.as_deref() == Some("InProgress") && a.token.is_some()
    })?;
    let execution_id = s.execution_id.clone()?;
    let commit = executions
        .iter()
        .find(|e| e.id == execution_id)
        .and_then(|e| e.commit.clone());
    Some(WaitingApproval {
        pipeline: pipeline.to_string(),
        stage: stage.to_string(),
        action: action.name.clone(),
        execution_id,
        commit,
        token: action.token.clone().unwrap_or_default(),
    })
}

/// What promote does about the pipeline's approval at the target stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ApprovalStep {
    /// No approval waits (or the stage has none, or there is no pipeline).
    Nothing,
    /// Approve this one after the deploy (it carries the promoted artifact).
    Answer(WaitingApproval),
}

/// Decides about a waiting approval: answer it when its execution built the commit
/// `from` runs; refuse (nothing is changed) when it carries another artifact or
/// when that cannot be told.
pub fn approval_step(from: &Running, waiting: Option<WaitingApproval>) -> Result<ApprovalStep> {
    let Some(w) = waiting else {
        return Ok(ApprovalStep::Nothing);
    };
    match (&w.commit, &from.commit) {
        (Some(carried), Some(runs)) if carried == runs => Ok(ApprovalStep::Answer(w)),
        (carried, runs) => Err(DeployError::ApprovalMismatch {
            waiting: format!(
                "pipeline {}: execution {} waits at {}/{}",
                w.pipeline, w.execution_id, w.stage, w.action
            ),
            console: format!("{} > {} > {}", w.pipeline, w.stage, w.action),
            carries: carried
                .clone()
                .unwrap_or_else(|| "an unknown commit".into()),
            from: from.stage.clone(),
            runs: runs.clone().unwrap_or_else(|| "an untagged commit".into()),
        }
        .into()),
    }
}

/// One pipeline stage's row in `deployer status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineRow {
    /// The pipeline stage.
    pub stage: String,
    /// Its latest execution.
    pub execution_id: Option<String>,
    /// That execution's status in the stage.
    pub status: Option<String>,
    /// The commit that execution built.
    pub commit: Option<String>,
    /// sha256 of the package manifest that execution built (`PACKAGE_DIGEST`).
    pub package_digest: Option<String>,
    /// The action running or last run, with its status (e.g. `Approve: InProgress`).
    pub action: Option<String>,
}

/// The status rows of the pipeline: one per pipeline stage, with the commit and the
/// package digest of its latest execution (`package_digests` by execution id).
pub fn pipeline_rows(
    state: &[StageState],
    executions: &[Execution],
    package_digests: &BTreeMap<String, String>,
) -> Vec<PipelineRow> {
    state
        .iter()
        .map(|s| {
            let exec = s
                .execution_id
                .as_ref()
                .and_then(|id| executions.iter().find(|e| &e.id == id));
            let action = s
                .actions
                .iter()
                .rev()
                .find(|a| a.status.is_some())
                .map(|a| format!("{}: {}", a.name, a.status.as_deref().unwrap_or("-")));
            PipelineRow {
                stage: s.name.clone(),
                execution_id: s.execution_id.clone(),
                status: s.status.clone(),
                commit: exec.and_then(|e| e.commit.clone()),
                package_digest: s
                    .execution_id
                    .as_ref()
                    .and_then(|id| package_digests.get(id).cloned()),
                action,
            }
        })
        .collect()
}
