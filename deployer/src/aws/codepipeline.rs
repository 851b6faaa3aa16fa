//! CodePipeline: the delivery pipeline's state, its executions, and the
//! manual approval `deployer promote` answers.
//!
//! `Pipelines` is what the deployer needs from CodePipeline, in its own
//! types; `CodePipeline` is the one implementation: four awsJson1.1 calls,
//! signed by hand (see `json`; the SDK crate took 13 CPU s of a fresh build).
//! moto lacks GetPipelineState, PutApprovalResult and ListActionExecutions,
//! so the tests replay recorded AWS answers at the HTTP boundary instead.

use std::collections::BTreeMap;

use serde_json::json;

use super::json::{CODEPIPELINE, JsonClient, Request};
use super::json_call_error;
use crate::error::Result;

/// One pipeline stage as GetPipelineState reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct StageState {
    /// The pipeline stage's name (`Build`, `dev`, `staging`, `prod`, ...).
    pub name: String,
    /// The execution the stage ran (or runs) last.
    pub execution_id: Option<String>,
    /// `InProgress`, `Succeeded`, `Failed`, `Stopped`, ...
    pub status: Option<String>,
    /// The stage's actions.
    pub actions: Vec<ActionState>,
}

/// One action's latest execution.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ActionState {
    /// `Deploy`, `Promote`, `Approve`, ...
    pub name: String,
    /// `InProgress`, `Succeeded`, `Failed`, ...
    pub status: Option<String>,
    /// The approval token, while an approval waits.
    #[serde(skip)]
    pub token: Option<String>,
    /// The action's summary (an approval's comment).
    pub summary: Option<String>,
    /// When its status last changed, RFC 3339.
    pub last_change: Option<String>,
}

/// One pipeline execution (ListPipelineExecutions).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Execution {
    /// The execution id.
    pub id: String,
    /// `InProgress`, `Succeeded`, `Superseded`, ...
    pub status: Option<String>,
    /// The commit its source action fetched.
    pub commit: Option<String>,
    /// When it started, RFC 3339.
    pub started_at: Option<String>,
}

/// The CodePipeline operations the deployer uses.
#[allow(async_fn_in_trait)]
pub trait Pipelines {
    /// Every stage's latest execution and actions (GetPipelineState).
    async fn state(&self, pipeline: &str) -> Result<Vec<StageState>>;
    /// The newest executions, newest first (ListPipelineExecutions).
    async fn executions(&self, pipeline: &str, max: i32) -> Result<Vec<Execution>>;
    /// The output variables of one action of one execution (ListActionExecutions);
    /// none when that action has not run in it.
    async fn action_variables(
        &self,
        pipeline: &str,
        execution_id: &str,
        action: &str,
    ) -> Result<Option<BTreeMap<String, String>>>;
    /// Approves a waiting manual approval (PutApprovalResult).
    async fn approve(&self, pipeline: &str, stage: &str, action: &str, token: &str, summary: &str) -> Result<()>;
}

/// The real CodePipeline client.
#[derive(Debug, Clone)]
pub struct CodePipeline {
    client: JsonClient,
}

impl CodePipeline {
    /// A client for the configured target; `AWS_ENDPOINT_URL_CODEPIPELINE` wins
    /// over `--endpoint-url` (an emulator that lacks CodePipeline, or a test
    /// replaying recorded answers).
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        CodePipeline { client: JsonClient::new(&CODEPIPELINE, config) }
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        about: &str,
        body: serde_json::Value,
    ) -> Result<T> {
        self.client
            .call(Request::Operation { name, body })
            .await
            .map_err(|e| json_call_error(format!("{name} {about}"), &e))
    }
}

/// An awsJson timestamp (seconds since the epoch) in RFC 3339.
fn time(seconds: Option<f64>) -> Option<String> {
    let nanos = (seconds? * 1e9).round() as i128;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    t.format(&time::format_description::well_known::Rfc3339).ok()
}

/// The parts of CodePipeline's answers read here (awsJson1.1 member names).
mod wire {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct State {
        pub stage_states: Vec<Stage>,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct Stage {
        pub stage_name: Option<String>,
        pub latest_execution: Option<StageExecution>,
        pub action_states: Vec<Action>,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct StageExecution {
        pub pipeline_execution_id: Option<String>,
        pub status: Option<String>,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct Action {
        pub action_name: Option<String>,
        pub latest_execution: Option<ActionExecution>,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct ActionExecution {
        pub status: Option<String>,
        pub token: Option<String>,
        pub summary: Option<String>,
        pub last_status_change: Option<f64>,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct Executions {
        pub pipeline_execution_summaries: Vec<ExecutionSummary>,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct ExecutionSummary {
        pub pipeline_execution_id: Option<String>,
        pub status: Option<String>,
        pub source_revisions: Vec<SourceRevision>,
        pub start_time: Option<f64>,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct SourceRevision {
        pub revision_id: Option<String>,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct ActionExecutions {
        pub action_execution_details: Vec<ActionExecutionDetail>,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct ActionExecutionDetail {
        pub action_name: Option<String>,
        pub output: Option<ActionOutput>,
    }

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub struct ActionOutput {
        pub output_variables: Option<BTreeMap<String, String>>,
    }
}

impl Pipelines for CodePipeline {
    async fn state(&self, pipeline: &str) -> Result<Vec<StageState>> {
        let out: wire::State = self.call("GetPipelineState", pipeline, json!({ "name": pipeline })).await?;
        Ok(out
            .stage_states
            .into_iter()
            .map(|s| StageState {
                name: s.stage_name.unwrap_or_default(),
                execution_id: s.latest_execution.as_ref().and_then(|e| e.pipeline_execution_id.clone()),
                status: s.latest_execution.and_then(|e| e.status),
                actions: s
                    .action_states
                    .into_iter()
                    .map(|a| {
                        let latest = a.latest_execution.unwrap_or_default();
                        ActionState {
                            name: a.action_name.unwrap_or_default(),
                            status: latest.status,
                            token: latest.token,
                            summary: latest.summary,
                            last_change: time(latest.last_status_change),
                        }
                    })
                    .collect(),
            })
            .collect())
    }

    async fn executions(&self, pipeline: &str, max: i32) -> Result<Vec<Execution>> {
        let body = json!({ "pipelineName": pipeline, "maxResults": max });
        let out: wire::Executions = self.call("ListPipelineExecutions", pipeline, body).await?;
        Ok(out
            .pipeline_execution_summaries
            .into_iter()
            .map(|e| Execution {
                id: e.pipeline_execution_id.unwrap_or_default(),
                status: e.status,
                commit: e.source_revisions.into_iter().find_map(|r| r.revision_id),
                started_at: time(e.start_time),
            })
            .collect())
    }

    async fn action_variables(
        &self,
        pipeline: &str,
        execution_id: &str,
        action: &str,
    ) -> Result<Option<BTreeMap<String, String>>> {
        let body = json!({ "pipelineName": pipeline, "filter": { "pipelineExecutionId": execution_id } });
        let out: wire::ActionExecutions =
            self.call("ListActionExecutions", &format!("{pipeline} {execution_id}"), body).await?;
        Ok(out
            .action_execution_details
            .into_iter()
            .find(|d| d.action_name.as_deref() == Some(action))
            .and_then(|d| d.output)
            .and_then(|o| o.output_variables))
    }

    async fn approve(&self, pipeline: &str, stage: &str, action: &str, token: &str, summary: &str) -> Result<()> {
        let body = json!({
            "pipelineName": pipeline,
            "stageName": stage,
            "actionName": action,
            "token": token,
            "result": { "status": "Approved", "summary": summary },
        });
        let _: serde_json::Value =
            self.call("PutApprovalResult", &format!("{pipeline}/{stage}/{action}"), body).await?;
        Ok(())
    }
}
