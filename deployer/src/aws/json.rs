//! Signed calls to AWS's JSON protocols (awsJson1.0, awsJson1.1 and
//! restJson1), made with aws-sigv4 and reqwest, for the services the deployer
//! makes one to four calls of: Lambda (GetAccountSettings), CloudWatch Logs
//! (FilterLogEvents), Secrets Manager (GetSecretValue), CodePipeline (state,
//! executions, approval) and CloudWatch (GetMetricData). Their SDK crates cost
//! 23, 24, 5, 13 and 8 CPU seconds of every fresh build for those eight calls,
//! a third of what `cargo run --release -p deployer -- up local` spent compiling.
//!
//! Region, credentials (the same provider chain and assumed roles), endpoint
//! overrides, FIPS and dual-stack come from the `SdkConfig` every SDK client
//! is built from; a throttled or failed attempt is retried like the SDK's
//! standard mode (3 attempts, jittered exponential backoff).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_types::service_config::ServiceConfigKey;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use crate::error::AwsKind;

/// One AWS service as the SDK names it (endpoint variables, profile sections) and signs for it.
#[derive(Debug)]
pub struct Service {
    /// The SDK's service id: the profile's `services` sections use it.
    pub id: &'static str,
    /// `AWS_ENDPOINT_URL_<ID>`, the SDK's per-service endpoint variable.
    pub endpoint_env: &'static str,
    /// The endpoint's host prefix and SigV4 signing name.
    pub prefix: &'static str,
    /// The awsJson target prefix (`X-Amz-Target: <prefix>.<Operation>`); none for restJson1.
    pub target: Option<&'static str>,
    /// The awsJson version, `1.0` or `1.1` (the request's content type).
    pub json: &'static str,
}

/// CloudWatch's endpoint override (`status --metrics`).
pub const CLOUDWATCH_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_CLOUDWATCH";
/// CodePipeline's (`status`, `promote`).
pub const CODEPIPELINE_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_CODEPIPELINE";
/// Lambda's (GetAccountSettings before a deploy).
pub const LAMBDA_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_LAMBDA";
/// CloudWatch Logs' (`logs`).
pub const LOGS_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS";
/// Secrets Manager's (`plan --post-to-pr`'s token).
pub const SECRETS_MANAGER_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_SECRETS_MANAGER";

/// CloudWatch (awsJson1.0, which it serves beside awsQuery and CBOR).
pub const CLOUDWATCH: Service = Service {
    id: "CloudWatch",
    endpoint_env: CLOUDWATCH_ENDPOINT_ENV,
    prefix: "monitoring",
    target: Some("GraniteServiceVersion20100801"),
    json: "1.0",
};
/// CodePipeline (awsJson1.1).
pub const CODEPIPELINE: Service = Service {
    id: "CodePipeline",
    endpoint_env: CODEPIPELINE_ENDPOINT_ENV,
    prefix: "codepipeline",
    target: Some("CodePipeline_20150709"),
    json: "1.1",
};
/// Lambda (restJson1).
pub const LAMBDA: Service =
    Service { id: "Lambda", endpoint_env: LAMBDA_ENDPOINT_ENV, prefix: "lambda", target: None, json: "1.1" };
/// CloudWatch Logs (awsJson1.1).
pub const LOGS: Service = Service {
    id: "CloudWatch Logs",
    endpoint_env: LOGS_ENDPOINT_ENV,
    prefix: "logs",
    target: Some("Logs_20140328"),
    json: "1.1",
};
/// Secrets Manager (awsJson1.1).
pub const SECRETS_MANAGER: Service = Service {
    id: "Secrets Manager",
    endpoint_env: SECRETS_MANAGER_ENDPOINT_ENV,
    prefix: "secretsmanager",
    target: Some("secretsmanager"),
    json: "1.1",
};

/// Why a call failed; [`CallError::kind`] says what the user should do about it.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The credential chain gave no usable credentials.
    #[error("no usable AWS credentials ({0})")]
    Credentials(#[source] CredentialsError),
    /// The service answered with an error.
    #[error("{code}: {message}")]
    Service { status: u16, code: String, message: String },
    /// No answer: connection refused, reset, timed out.
    #[error("{0}")]
    Network(String),
    /// The request could not be made (no region, an endpoint AWS has no rule for, signing).
    #[error("{0}")]
    Request(String),
    /// An answer of the wrong shape.
    #[error("unreadable answer: {0}")]
    Response(String),
}

impl CallError {
    /// The service's error code, for callers that treat one as an outcome (a missing log group).
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The kind the deployer's exit classes and hints follow from (as `classify` for SDK errors).
    pub fn kind(&self) -> AwsKind {
        match self {
            CallError::Credentials(CredentialsError::ProviderError(_)) => AwsKind::NoCredentials,
            CallError::Credentials(_) => AwsKind::Credentials,
            CallError::Service { code, .. } => super::kind_of_code(code),
            CallError::Network(_) => AwsKind::Network,
            CallError::Request(_) | CallError::Response(_) => AwsKind::Other,
        }
    }

    /// Whether the SDK's standard retry mode would try again.
    fn retryable(&self) -> bool {
        match self {
            CallError::Network(_) => true,
            CallError::Service { status, code, .. } => {
                THROTTLING.contains(&code.as_str()) || matches!(status, 429 | 500 | 502 | 503 | 504)
            }
            _ => false,
        }
    }
}

/// The error codes the SDK's standard retry mode treats as throttling.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// The SDK's standard retry mode: attempts per call.
const ATTEMPTS: u32 = 3;

/// What to call: an awsJson operation (POST / with a JSON body) or a restJson1 GET.
#[derive(Debug)]
pub enum Request<'a> {
    /// `X-Amz-Target: <service target>.<operation>`, the body the operation's input.
    Operation { name: &'a str, body: serde_json::Value },
    /// A restJson1 operation without input: GET of its path.
    Get { path: &'a str },
}

/// A client of one service, for one configuration (one account, region and role).
#[derive(Debug, Clone)]
pub struct JsonClient {
    service: &'static Service,
    config: SdkConfig,
    /// The HTTP client, or why none could be made (reported by the first call).
    http: Result<reqwest::Client, String>,
    /// The credentials last provided, reused until five minutes before they
    /// expire, as the SDK's identity cache does: the provider chain itself
    /// caches nothing (an assumed role would call STS on every request).
    credentials: Arc<Mutex<Option<Credentials>>>,
    backoff: Duration,
}

impl JsonClient {
    /// A client of `service` for the target `config` describes.
    pub fn new(service: &'static Service, config: &SdkConfig) -> Self {
        // The SDK's connect timeout is 3.1 s; a whole attempt gets a minute.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(3100))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("countries-deployer/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {}", super::error_chain(&e)));
        JsonClient {
            service,
            config: config.clone(),
            http,
            credentials: Arc::default(),
            backoff: Duration::from_secs(1),
        }
    }

    /// The cached credentials while they last, else the provider chain's.
    async fn credentials(&self) -> Result<Credentials, CallError> {
        let mut cached = self.credentials.lock().await;
        let fresh_until = SystemTime::now() + Duration::from_secs(300);
        if let Some(c) = cached.as_ref()
            && c.expiry().is_none_or(|expiry| expiry > fresh_until)
        {
            return Ok(c.clone());
        }
        let provider = self.config.credentials_provider().ok_or_else(|| {
            CallError::Credentials(CredentialsError::not_loaded("no credentials provider is configured"))
        })?;
        let credentials = provider.provide_credentials().await.map_err(CallError::Credentials)?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }

    /// The longest wait before the first retry (1 s, the SDK's; each retry doubles it). Tests shorten it.
    pub fn with_backoff(mut self, first: Duration) -> Self {
        self.backoff = first;
        self
    }

    /// Calls the operation and reads its output, retrying throttling, 5xx and network failures.
    pub async fn call<T: DeserializeOwned>(&self, request: Request<'_>) -> Result<T, CallError> {
        let mut attempt = 0;
        loop {
            match self.attempt(&request).await {
                Err(e) if e.retryable() && attempt + 1 < ATTEMPTS => {
                    let longest = self.backoff.saturating_mul(1 << attempt).min(Duration::from_secs(20));
                    tokio::time::sleep(longest.mul_f64(fastrand::f64())).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
                Ok(body) => {
                    // Operations without output may answer with no body at all.
                    let body: &[u8] = if body.is_empty() { b"{}" } else { &body };
                    return serde_json::from_slice(body).map_err(|e| CallError::Response(e.to_string()));
                }
            }
        }
    }

    async fn attempt(&self, request: &Request<'_>) -> Result<Vec<u8>, CallError> {
        let region = self
            .config
            .region()
            .map(|r| r.as_ref().to_string())
            .ok_or_else(|| CallError::Request("no region: pass --region or set AWS_REGION".into()))?;
        let base = self.endpoint(&region)?;
        let (method, url, body, mut headers) = match request {
            Request::Operation { name, body } => {
                let target = self
                    .service
                    .target
                    .ok_or_else(|| CallError::Request(format!("{} is not an awsJson service", self.service.id)))?;
                let headers = vec![
                    ("content-type", format!("application/x-amz-json-{}", self.service.json)),
                    ("x-amz-target", format!("{target}.{name}")),
                ];
                ("POST", format!("{}/", base.trim_end_matches('/')), body.to_string().into_bytes(), headers)
            }
            Request::Get { path } => ("GET", format!("{}{path}", base.trim_end_matches('/')), Vec::new(), Vec::new()),
        };
        let http = self.http.as_ref().map_err(|e| CallError::Request(e.clone()))?;
        let identity: Identity = self.credentials().await?.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&region)
            .name(self.service.prefix)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| CallError::Request(format!("signing: {e}")))?
            .into();
        let signable = SignableRequest::new(
            method,
            url.as_str(),
            headers.iter().map(|(k, v)| (*k, v.as_str())),
            SignableBody::Bytes(&body),
        )
        .map_err(|e| CallError::Request(format!("signing {url}: {e}")))?;
        let (instructions, _) =
            sign(signable, &params).map_err(|e| CallError::Request(format!("signing: {e}")))?.into_parts();
        headers.extend(instructions.headers().map(|(k, v)| (k, v.to_string())));
        let mut builder = if method == "POST" { http.post(&url).body(body) } else { http.get(&url) };
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let response = builder.send().await.map_err(|e| CallError::Network(super::error_chain(&e)))?;
        let status = response.status().as_u16();
        let error_type = response.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = response.bytes().await.map_err(|e| CallError::Network(super::error_chain(&e)))?;
        if (200..300).contains(&status) {
            Ok(bytes.to_vec())
        } else {
            Err(service_error(status, error_type.as_deref(), &bytes))
        }
    }

    /// The per-service override (`AWS_ENDPOINT_URL_<ID>`, which wins even over
    /// `--endpoint-url`: an emulator that lacks one service), then the SDK's
    /// order (a client-set endpoint, the profile's `services` section,
    /// `AWS_ENDPOINT_URL`), then AWS's regional endpoint.
    fn endpoint(&self, region: &str) -> Result<String, CallError> {
        let variable = self.service.endpoint_env;
        if let Ok(url) = std::env::var(variable)
            && !url.is_empty()
        {
            return Ok(url);
        }
        let from_environment = (!self.config.get_origin("endpoint_url").is_client_config())
            .then(|| self.config.service_config())
            .flatten()
            .and_then(|c| {
                let key = ServiceConfigKey::builder()
                    .service_id(self.service.id)
                    .env("AWS_ENDPOINT_URL")
                    .profile("endpoint_url")
                    .build()
                    .ok()?;
                c.load_config(key)
            });
        if let Some(url) = from_environment.or_else(|| self.config.endpoint_url().map(str::to_string)) {
            return Ok(url);
        }
        regional_endpoint(
            self.service.prefix,
            region,
            self.config.use_fips().unwrap_or(false),
            self.config.use_dual_stack().unwrap_or(false),
        )
        .ok_or_else(|| {
            CallError::Request(format!(
                "no endpoint known for {} in {region}: set {variable} or --endpoint-url",
                self.service.id
            ))
        })
    }
}

/// AWS's endpoint of a service in a region of the commercial, China or GovCloud
/// partition (the ISO partitions need an endpoint given).
pub fn regional_endpoint(prefix: &str, region: &str, fips: bool, dual_stack: bool) -> Option<String> {
    if region.is_empty() || region.starts_with("us-iso") || region.starts_with("eu-isoe") {
        return None;
    }
    let china = region.starts_with("cn-");
    let suffix = match (china, dual_stack) {
        (false, false) => "amazonaws.com",
        (false, true) => "api.aws",
        (true, false) => "amazonaws.com.cn",
        (true, true) => "api.amazonwebservices.com.cn",
    };
    let fips = if fips { "-fips" } else { "" };
    Some(format!("https://{prefix}{fips}.{region}.{suffix}"))
}

/// An error answer's code and message: the code from `x-amzn-ErrorType` or the
/// body's `__type` (either may carry a namespace or a URL), the message from
/// the body's `message` or `Message`.
pub fn service_error(status: u16, error_type: Option<&str>, body: &[u8]) -> CallError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |names: &[&str]| names.iter().find_map(|n| json.get(n).and_then(|v| v.as_str()));
    let code = error_type
        .or_else(|| field(&["__type", "code", "Code"]))
        .map(|c| c.split(':').next().unwrap_or(c))
        .map(|c| c.rsplit('#').next().unwrap_or(c))
        .filter(|c| !c.is_empty())
        .map_or_else(|| format!("HTTP {status}"), str::to_string);
    let message = field(&["message", "Message", "errorMessage"])
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    CallError::Service { status, code, message }
}
