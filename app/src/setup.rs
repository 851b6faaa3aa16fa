//! Builds the edges once per process from configuration: SDK clients,
//! the upstream client and the key. Shared by the binaries and the tests.
//!
//! Nothing here reads the system's CA store: the SDK's HTTPS connector is
//! made when the first request to an `https://` endpoint needs it (see
//! [`TlsWhenNeeded`]), so the api listens, and the worker polls a local
//! emulator, without paying for certificates they do not use.

use crate::api::ApiState;
use crate::api::cache::ViewCache;
use crate::config::{ApiConfig, Provider, WorkerConfig};
use crate::error::Error;
use crate::guard::FetchGuards;
use crate::metrics::{Function, Metrics};
use crate::queue::SqsQueue;
use crate::store::attempts::DynamoAttempts;
use crate::store::breaker::DynamoBreaker;
use crate::store::budget::DynamoBudget;
use crate::store::countries::DynamoCountries;
use crate::store::pending::DynamoPending;
use crate::upstream::{HttpSource, key};
use crate::worker::Worker;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use std::sync::Arc;

/// The SDK configuration from the standard chain (`AWS_ENDPOINT_URL` included).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(TlsWhenNeeded::new()).load().await
}

/// The SDK's HTTP client: its default hyper + rustls client, except that the
/// system CA store is read on the first request to an `https://` endpoint
/// instead of when a client is built (the default client loads it in
/// `validate_base_client_config`, i.e. in `Client::new`, which this one does
/// not forward), and requests to `http://` endpoints (a local emulator) go
/// through a connector with an empty trust store, which never reads it.
#[derive(Debug, Clone)]
pub struct TlsWhenNeeded {
    https: SharedHttpClient,
    http: SharedHttpClient,
}

impl TlsWhenNeeded {
    /// Both clients; neither has made a connector yet.
    pub fn new() -> Self {
        let rustls = || tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc);
        let https = aws_smithy_http_client::Builder::new().tls_provider(rustls()).build_https();
        let http = match TlsContext::builder().with_trust_store(TrustStore::empty()).build() {
            Ok(context) => aws_smithy_http_client::Builder::new().tls_provider(rustls()).tls_context(context).build_https(),
            Err(_) => https.clone(),
        };
        Self { https, http }
    }
}

impl Default for TlsWhenNeeded {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpClient for TlsWhenNeeded {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(ByScheme { clients: self.clone(), settings: settings.clone(), components: components.clone() })
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.https.connector_metadata()
    }
}

/// One request's connector: the plain or the TLS client's, by the request's scheme
/// (each client caches its connectors per settings).
#[derive(Debug)]
struct ByScheme {
    clients: TlsWhenNeeded,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
}

impl HttpConnector for ByScheme {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = if request.uri().starts_with("http://") { &self.clients.http } else { &self.clients.https };
        client.http_connector(&self.settings, &self.components).call(request)
    }
}

/// The api's state.
pub fn api_state(config: &ApiConfig, sdk: &aws_config::SdkConfig) -> ApiState {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    ApiState {
        countries: Arc::new(DynamoCountries::new(dynamo.clone(), &config.common.countries_table)),
        attempts: Arc::new(DynamoAttempts::new(dynamo.clone(), &config.common.status_table)),
        queue: Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(sdk), &config.common.queue_url)),
        cache: Arc::new(ViewCache::new(config.view_cache_ttl)),
        http_max_age_seconds: config.http_max_age_seconds,
        metrics: Metrics::stdout(&config.common.stage, Function::Api),
        pending: Arc::new(DynamoPending::new(dynamo.clone(), &config.common.status_table)),
        budget: Arc::new(DynamoBudget::new(dynamo, &config.common.status_table)),
        guards: FetchGuards {
            budget: config.budget,
            force_cooldown_ms: config.force_cooldown.as_millis() as i64,
            pending_ttl_ms: config.pending_ttl.as_millis() as i64,
        },
    }
}

/// The name of the breaker row: one breaker per upstream provider.
pub fn breaker_service(provider: Provider) -> &'static str {
    match provider {
        Provider::V3 => "restcountries-v3",
        Provider::V5 => "restcountries-v5",
    }
}

/// The worker, with its key resolved (from SSM when configured so).
pub async fn worker(config: &WorkerConfig, sdk: &aws_config::SdkConfig) -> Result<Worker, Error> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let api_key = key::resolve(&config.api_key, sdk).await?;
    Ok(Worker {
        countries: Arc::new(DynamoCountries::new(dynamo.clone(), &config.common.countries_table)),
        attempts: Arc::new(DynamoAttempts::new(dynamo.clone(), &config.common.status_table)),
        breaker: Arc::new(DynamoBreaker::new(dynamo.clone(), &config.breaker_table, breaker_service(config.provider))),
        pending: Arc::new(DynamoPending::new(dynamo.clone(), &config.common.status_table)),
        budget: Arc::new(DynamoBudget::new(dynamo, &config.common.status_table)),
        upstream: Arc::new(HttpSource::new(config, api_key)?),
        breaker_settings: config.breaker,
        refresh_after_ms: config.refresh_after.as_millis() as i64,
        metrics: Metrics::stdout(&config.common.stage, Function::Worker),
        budget_limit: config.budget,
        max_receive_count: config.max_receive_count,
        stage: config.common.stage.clone(),
    })
}
