//! The one value templates see: stage settings + Terraform outputs + artifact
//! keys + the names derived from them.
//!
//! Everything a template may use is a field here, so strict-mode errors
//! ("`x` is not defined") always mean a typo or a missing field, and the
//! derivations (table names, queue URLs, each function's environment) live in
//! tested Rust rather than in template logic. `build` is pure.

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::env_contract::EnvVar;
use crate::env_contract::{self, Resources};
use crate::outputs::Outputs;
use crate::package::Digests;
use crate::stage::Stage;
use crate::stage::schema::{AlarmSettings, AppSettings};

pub use super::dashboard::DashboardContext;
pub use super::sqs::{
    BATCH_SIZE, DLQ_RETENTION_SECONDS, MAX_RECEIVE_COUNT, MAX_VISIBILITY_TIMEOUT_SECONDS,
    VISIBILITY_TIMEOUT_FACTOR, visibility_timeout,
};

/// Everything the templates render from. Serialized to JSON for Handlebars.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    /// One line for the top of each generated file: what generated it and from what.
    pub generated_notice: String,
    /// Who the stage is and where it runs.
    pub stage: StageContext,
    /// The stage file's `app:` section, as written (plus defaults).
    pub app: AppSettings,
    /// Alarm settings and the topic they notify.
    pub alarms: AlarmContext,
    /// The Terraform outputs for this stage (built-in values locally).
    pub outputs: Outputs,
    /// The three tables.
    pub tables: Tables,
    /// The fetch queue and its dead-letter queue.
    pub queue: QueueContext,
    /// The HTTP API.
    pub http_api: HttpApiContext,
    /// The two functions, with their full environments.
    pub functions: Functions,
    /// The monthly upstream budget and its alarm.
    pub budget: BudgetContext,
    /// Stack tags (sorted by key).
    pub tags: BTreeMap<String, String>,
    /// Local-stage settings; none for cloud stages.
    pub local: Option<LocalContext>,
    /// Versions, the `live` alias, the api's traffic shift and the release alarms.
    pub release: super::release::ReleaseContext,
    /// The stage's CloudWatch dashboard.
    pub dashboard: DashboardContext,
    /// The functions' metrics (app/metrics.json): alarms name them through this,
    /// so a name missing from the list fails the render (strict mode).
    pub metrics: MetricsContext,
}

/// The functions' metric namespace and names.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsContext {
    /// `Countries`.
    pub namespace: String,
    /// Each metric's name, keyed by itself: `{{metrics.names.BreakerOpened}}`.
    pub names: BTreeMap<String, String>,
}

/// The stage's identity.
#[derive(Debug, Clone, Serialize)]
pub struct StageContext {
    /// `dev`, `prod`, ...
    pub name: String,
    /// The stage file, e.g. `stages/dev.yaml`.
    pub file: String,
    /// 12-digit account id.
    pub account: String,
    /// AWS region.
    pub region: String,
    /// `countries-<stage>`.
    pub stack_name: String,
    /// True for the emulator stage.
    pub is_local: bool,
    /// Deletion protection and `Retain` policies on data: on everywhere but local.
    pub protect_data: bool,
    /// The stage promoted from, if any.
    pub promote_from: Option<String>,
    /// Whether deploys need a person's approval.
    pub approval: bool,
}

/// Alarm settings plus the topic from Terraform.
#[derive(Debug, Clone, Serialize)]
pub struct AlarmContext {
    /// The stage file's `alarms:` section.
    #[serde(flatten)]
    pub settings: AlarmSettings,
    /// Where alarms go; none locally (alarms are still created, without actions).
    pub topic_arn: Option<String>,
    /// `oldest_request_minutes` in seconds, the unit of the queue's age metric.
    pub oldest_request_seconds: u32,
}

/// DynamoDB table names (docs/contract.md, "Tables").
#[derive(Debug, Clone, Serialize)]
pub struct Tables {
    /// `countries-<stage>`.
    pub countries: String,
    /// `status-<stage>`.
    pub status: String,
    /// `circuit-breaker-state-<stage>`.
    pub breaker: String,
}

/// The fetch queue and DLQ.
#[derive(Debug, Clone, Serialize)]
pub struct QueueContext {
    /// `countries-fetch-<stage>`.
    pub name: String,
    /// `countries-fetch-dlq-<stage>`.
    pub dlq_name: String,
    /// The queue URL the functions will see (derived: SQS URLs are predictable).
    pub url: String,
    /// The DLQ URL.
    pub dlq_url: String,
    /// 6 x the worker timeout.
    pub visibility_timeout_seconds: u32,
    /// Receives before a message moves to the DLQ.
    pub max_receive_count: u32,
    /// DLQ retention.
    pub dlq_retention_seconds: u32,
    /// Messages per worker invocation.
    pub batch_size: u32,
    /// The most worker instances the trigger runs at once (the worker's
    /// `max_concurrency`, else its reserved concurrency); none for no cap.
    pub maximum_concurrency: Option<u32>,
}

/// The HTTP API.
#[derive(Debug, Clone, Serialize)]
pub struct HttpApiContext {
    /// `countries-<stage>`.
    pub name: String,
    /// Log group of the API's access log.
    pub access_log_group: String,
}

/// Both functions.
#[derive(Debug, Clone, Serialize)]
pub struct Functions {
    /// The HTTP API function.
    pub api: FunctionContext,
    /// The queue worker.
    pub worker: FunctionContext,
}

/// One Lambda function as the templates need it.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionContext {
    /// `countries-<binary>-<stage>`.
    pub name: String,
    /// The binary (`api` or `worker`).
    pub binary: String,
    /// `/aws/lambda/<name>`.
    pub log_group: String,
    /// Memory in MB.
    pub memory_mb: u32,
    /// Timeout in seconds.
    pub timeout_seconds: u32,
    /// Reserved concurrency, if capped.
    pub reserved_concurrency: Option<u32>,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// Where the code comes from.
    pub artifact: ArtifactRef,
    /// The Lambda environment, in docs/contract.md order.
    pub environment: Vec<EnvVar>,
    /// Extra variables the local process gets (local stage only).
    pub local_environment: Vec<EnvVar>,
}

/// A function's code in the artifact bucket.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactRef {
    /// The CloudFormation parameter carrying the key (`ApiArtifactKey`).
    pub parameter: String,
    /// `functions/<binary>/<sha256>.zip`, or that pattern while the digest is a placeholder.
    pub key: String,
    /// The key pattern the parameter accepts.
    pub allowed_pattern: String,
    /// True until packaging supplies the digest; generated/ is always rendered this way.
    pub placeholder: bool,
}

/// The monthly upstream budget (`app.upstream.monthly_budget` with its default applied).
#[derive(Debug, Clone, Serialize)]
pub struct BudgetContext {
    /// Upstream calls a month; 0 is unlimited (no metric filter, no alarm).
    pub monthly: u32,
    /// 80 % of it, rounded up: the alarm's threshold.
    pub alarm_at: u32,
}

/// The local stage's processes.
#[derive(Debug, Clone, Serialize)]
pub struct LocalContext {
    /// The emulator's port.
    pub emulator_port: u16,
    /// `http://127.0.0.1:<emulator_port>`.
    pub endpoint_url: String,
    /// The api process's port.
    pub api_port: u16,
    /// `http://127.0.0.1:<api_port>`.
    pub api_url: String,
    /// The offline upstream server's port.
    pub upstream_port: u16,
}

/// Builds the context for one stage. `digests` is `None` for generated/ (reviewed files carry no digests).
pub fn build(stage: &Stage, outputs: &Outputs, digests: Option<&Digests>) -> Context {
    let s = &stage.spec;
    let name = stage.name.as_str();
    let local = s.local.as_ref().map(|l| LocalContext {
        emulator_port: l.emulator_port,
        endpoint_url: format!("http://127.0.0.1:{}", l.emulator_port),
        api_port: l.api_port,
        api_url: format!("http://127.0.0.1:{}", l.api_port),
        upstream_port: l.upstream_port,
    });
    let tables = Tables {
        countries: format!("countries-{name}"),
        status: format!("status-{name}"),
        breaker: format!("circuit-breaker-state-{name}"),
    };
    // SQS queue URLs are predictable: the emulator serves them under its own endpoint.
    let queue_base = match &local {
        Some(l) => format!("{}/{}", l.endpoint_url, s.account),
        None => format!("https://sqs.{}.amazonaws.com/{}", s.region, s.account),
    };
    let queue = QueueContext {
        name: format!("countries-fetch-{name}"),
        dlq_name: format!("countries-fetch-dlq-{name}"),
        url: format!("{queue_base}/countries-fetch-{name}"),
        dlq_url: format!("{queue_base}/countries-fetch-dlq-{name}"),
        visibility_timeout_seconds: visibility_timeout(
            s.app.worker.timeout_seconds,
            s.app.breaker.window_seconds,
        ),
        max_receive_count: MAX_RECEIVE_COUNT,
        dlq_retention_seconds: DLQ_RETENTION_SECONDS,
        batch_size: BATCH_SIZE,
        maximum_concurrency: s
            .app
            .worker
            .max_concurrency
            .or(s.app.worker.reserved_concurrency),
    };

    let function = |binary: &str,
                    settings: &crate::stage::schema::FunctionSettings,
                    environment,
                    local_environment| {
        let fname = format!("countries-{binary}-{name}");
        let param = crate::package::zip::artifact_parameter(binary);
        FunctionContext {
            log_group: format!("/aws/lambda/{fname}"),
            name: fname,
            binary: binary.to_string(),
            memory_mb: settings.memory_mb,
            timeout_seconds: settings.timeout_seconds,
            reserved_concurrency: settings.reserved_concurrency,
            architecture: s.app.architecture.as_str().to_string(),
            artifact: ArtifactRef {
                key: match digests {
                    Some(d) => format!(
                        "functions/{binary}/{}.zip",
                        if binary == "api" { &d.api } else { &d.worker }
                    ),
                    None => format!("functions/{binary}/<sha256>.zip"),
                },
                allowed_pattern: format!("^functions/{binary}/[0-9a-f]{{64}}\\.zip$"),
                placeholder: digests.is_none(),
                parameter: param,
            },
            environment,
            local_environment,
        }
    };
    let (api_env, worker_env) = env_contract::lambda(
        stage,
        &Resources {
            countries_table: &tables.countries,
            status_table: &tables.status,
            breaker_table: &tables.breaker,
            queue_url: &queue.url,
            dlq_url: &queue.dlq_url,
            max_receive_count: queue.max_receive_count,
            visibility_timeout_seconds: queue.visibility_timeout_seconds,
        },
    );
    // generated/ shows the stage file's ports; `up local` calls the same function with the ports it runs on.
    let (api_local, worker_local) = match &local {
        Some(l) => env_contract::local_extras(&l.endpoint_url, l.api_port),
        None => (vec![], vec![]),
    };

    let functions = Functions {
        api: function("api", &s.app.api, api_env, api_local),
        worker: function("worker", &s.app.worker, worker_env, worker_local),
    };
    let stack_name = format!("countries-{name}");
    let oldest_request_seconds = s.alarms.oldest_request_minutes * 60;
    let dashboard = super::dashboard::context(&super::dashboard::Names {
        stage: name,
        stack: &stack_name,
        api_function: &functions.api.name,
        worker_function: &functions.worker.name,
        queue: &queue.name,
        dlq: &queue.dlq_name,
        oldest_request_seconds,
        budget_alarm: s.app.upstream.monthly_budget() > 0,
    });
    let list = crate::metrics::list::list();

    Context {
        // No outputs path here: the same values must render the same bytes wherever they were read from.
        generated_notice: format!(
            "Generated by `deployer render {name}` from {}, templates/ and the Terraform outputs. Do not edit: change those and re-render.",
            stage.file.display()
        ),
        stage: StageContext {
            name: name.to_string(),
            file: stage.file.display().to_string(),
            account: s.account.clone(),
            region: s.region.clone(),
            stack_name: stack_name.clone(),
            is_local: local.is_some(),
            protect_data: local.is_none(),
            promote_from: s.promote_from.clone(),
            approval: s.approval,
        },
        app: s.app.clone(),
        alarms: AlarmContext {
            settings: s.alarms.clone(),
            topic_arn: outputs.alarm_topic_arn.clone(),
            oldest_request_seconds,
        },
        outputs: outputs.clone(),
        http_api: HttpApiContext {
            name: format!("countries-{name}"),
            access_log_group: format!("/aws/http-api/countries-{name}/access"),
        },
        functions,
        tables,
        queue,
        budget: {
            let monthly = s.app.upstream.monthly_budget();
            BudgetContext {
                monthly,
                alarm_at: (u64::from(monthly) * 4).div_ceil(5) as u32,
            }
        },
        tags: s.tags.clone(),
        local,
        release: super::release::build(stage, outputs),
        dashboard,
        metrics: MetricsContext {
            namespace: list.namespace.clone(),
            names: list
                .metrics
                .iter()
                .map(|m| (m.name.clone(), m.name.clone()))
                .collect(),
        },
    }
}

#[cfg(test)]
mod tests;
