//! CodePipeline: the delivery pipeline's state, its executions, and the
//! manual approval `deployer promote` answers.
//!
//! `Pipelines` is what the deployer needs from CodePipeline, in its own
//! types; `CodePipeline` is the one implementation (aws-sdk-codepipeline).
//! moto lacks GetPipelineState, PutApprovalResult and ListActionExecutions,
//! so the tests replay recorded AWS answers at the HTTP boundary instead.

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::types::{ActionExecutionFilter, ApprovalResult, ApprovalStatus};

use super::call_error;
use crate::error::{AwsError, AwsKind, Error, Result};

/// The standard per-service endpoint variable; honoured even when
/// `--endpoint-url` sends every other service elsewhere (an emulator that lacks
/// CodePipeline, or a test replaying recorded answers).
pub const ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_CODEPIPELINE";

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
    ) -> Result<Option<std::collections::BTreeMap<String, String>>>;
    /// Approves a waiting manual approval (PutApprovalResult).
    async fn approve(
        &self,
        pipeline: &str,
        stage: &str,
        action: &str,
        token: &str,
        summary: &str,
    ) -> Result<()>;
}

/// The real CodePipeline client.
#[derive(Debug, Clone)]
pub struct CodePipeline {
    client: Client,
}

impl CodePipeline {
    /// A client for the configured target; `AWS_ENDPOINT_URL_CODEPIPELINE` wins over `--endpoint-url`.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        let mut conf = aws_sdk_codepipeline::config::Builder::from(config);
        if let Ok(url) = std::env::var(ENDPOINT_ENV)
            && !url.is_empty()
        {
            conf = conf.endpoint_url(url);
        }
        CodePipeline {
            client: Client::from_conf(conf.build()),
        }
    }
}

fn time(t: Option<&aws_sdk_codepipeline::primitives::DateTime>) -> Option<String> {
    t.and_then(|t| {
        t.fmt(aws_sdk_codepipeline::primitives::DateTimeFormat::DateTime)
            .ok()
    })
}

impl Pipelines for CodePipeline {
    async fn state(&self, pipeline: &str) -> Result<Vec<StageState>> {
        let out = self
            .client
            .get_pipeline_state()
            .name(pipeline)
            .send()
            .await
            .map_err(|e| call_error(format!("GetPipelineState {pipeline}"), &e))?;
        Ok(out
            .stage_states()
            .iter()
            .map(|s| StageState {
                name: s.stage_name().unwrap_or_default().to_string(),
                execution_id: s
                    .latest_execution()
                    .map(|e| e.pipeline_execution_id().to_string()),
                status: s
                    .latest_execution()
                    .map(|e| e.status().as_str().to_string()),
                actions: s
                    .action_states()
                    .iter()
                    .map(|a| {
                        let latest = a.latest_execution();
                        ActionState {
                            name: a.action_name().unwrap_or_default().to_string(),
                            status: latest
                                .and_then(|l| l.status())
                                .map(|st| st.as_str().to_string()),
                            token: latest.and_then(|l| l.token()).map(str::to_string),
                            summary: latest.and_then(|l| l.summary()).map(str::to_string),
                            last_change: time(latest.and_then(|l| l.last_status_change())),
                        }
                    })
                    .collect(),
            })
            .collect())
    }

    async fn executions(&self, pipeline: &str, max: i32) -> Result<Vec<Execution>> {
        let out = self
            .client
            .list_pipeline_executions()
            .pipeline_name(pipeline)
            .max_results(max)
            .send()
            .await
            .map_err(|e| call_error(format!("ListPipelineExecutions {pipeline}"), &e))?;
        Ok(out
            .pipeline_execution_summaries()
            .iter()
            .map(|e| Execution {
                id: e.pipeline_execution_id().unwrap_or_default().to_string(),
                status: e.status().map(|s| s.as_str().to_string()),
                commit: e
                    .source_revisions()
                    .iter()
                    .find_map(|r| r.revision_id())
                    .map(str::to_string),
                started_at: time(e.start_time()),
            })
            .collect())
    }

    async fn action_variables(
        &self,
        pipeline: &str,
        execution_id: &str,
        action: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>> {
        let out = self
            .client
            .list_action_executions()
            .pipeline_name(pipeline)
            .filter(
                ActionExecutionFilter::builder()
                    .pipeline_execution_id(execution_id)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                call_error(
                    format!("ListActionExecutions {pipeline} {execution_id}"),
                    &e,
                )
            })?;
        Ok(out
            .action_execution_details()
            .iter()
            .find(|d| d.action_name() == Some(action))
            .and_then(|d| d.output())
            .and_then(|o| o.output_variables())
            .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
    }

    async fn approve(
        &self,
        pipeline: &str,
        stage: &str,
        action: &str,
        token: &str,
        summary: &str,
    ) -> Result<()> {
        let result = ApprovalResult::builder()
            .status(ApprovalStatus::Approved)
            .summary(summary)
            .build()
            .map_err(|e| {
                // The request could not be built: no SDK error to classify.
                Error::from(AwsError::Call {
                    action: "PutApprovalResult".into(),
                    message: e.to_string(),
                    kind: AwsKind::Other,
                })
            })?;
        self.client
            .put_approval_result()
            .pipeline_name(pipeline)
            .stage_name(stage)
            .action_name(action)
            .token(token)
            .result(result)
            .send()
            .await
            .map_err(|e| {
                call_error(format!("PutApprovalResult {pipeline}/{stage}/{action}"), &e)
            })?;
        Ok(())
    }
}
