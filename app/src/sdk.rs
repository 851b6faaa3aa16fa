//! The AWS SDK's configuration and clients, made when first needed.
//!
//! Loading the configuration (the environment, `~/.aws`, the credential
//! chain) takes about 0.8 ms and building a service client (its endpoint
//! rules) about 0.35 ms: together most of the api's start before it could
//! listen. The api builds its clients on first use, so `/health` answers
//! without them; the worker and Lambda's init phase load them up front.
//!
//! Nothing here reads the system's CA store either: the SDK's HTTPS
//! connector is made when the first request to an `https://` endpoint needs
//! it (see [`TlsWhenNeeded`]), so the worker polls a local emulator without
//! paying for certificates it does not use.

use aws_config::SdkConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The process's SDK configuration: loaded now ([`Sdk::loaded`]) or on the
/// first client call ([`Sdk::deferred`]). Clones share it.
#[derive(Clone, Default)]
pub struct Sdk(Arc<OnceCell<SdkConfig>>);

impl Sdk {
    /// Loaded by the first client that needs it.
    pub fn deferred() -> Self {
        Self::default()
    }

    /// Already loaded (the tests pass one that points at the emulator).
    pub fn loaded(config: SdkConfig) -> Self {
        Self(Arc::new(OnceCell::new_with(Some(config))))
    }

    /// The configuration, loading it on the first call.
    pub async fn config(&self) -> &SdkConfig {
        self.0.get_or_init(load).await
    }
}

/// A service client the SDK configuration makes (its `Client::new`).
pub trait FromSdk {
    /// The client for `config`.
    fn from_sdk(config: &SdkConfig) -> Self;
}

impl FromSdk for aws_sdk_dynamodb::Client {
    fn from_sdk(config: &SdkConfig) -> Self {
        Self::new(config)
    }
}

impl FromSdk for aws_sdk_sqs::Client {
    fn from_sdk(config: &SdkConfig) -> Self {
        Self::new(config)
    }
}

/// One service's client, shared by the stores that use it: made at once if
/// the configuration is loaded, otherwise on its first call.
#[derive(Clone)]
pub struct LazyClient<C> {
    sdk: Sdk,
    client: Arc<OnceCell<C>>,
}

impl<C: FromSdk> LazyClient<C> {
    /// A client of `sdk`.
    pub fn new(sdk: &Sdk) -> Self {
        let client = OnceCell::new_with(sdk.0.get().map(C::from_sdk));
        Self { sdk: sdk.clone(), client: Arc::new(client) }
    }

    /// The client, made on the first call if it was not yet.
    pub async fn get(&self) -> &C {
        self.client.get_or_init(|| async { C::from_sdk(self.sdk.config().await) }).await
    }
}

impl<C> From<C> for LazyClient<C> {
    /// A client made already.
    fn from(client: C) -> Self {
        Self { sdk: Sdk::default(), client: Arc::new(OnceCell::new_with(Some(client))) }
    }
}

/// The SDK configuration from the standard chain (`AWS_ENDPOINT_URL` included).
pub async fn load() -> SdkConfig {
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
            Ok(context) => {
                aws_smithy_http_client::Builder::new().tls_provider(rustls()).tls_context(context).build_https()
            }
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
        SharedHttpConnector::new(ByScheme {
            clients: self.clone(),
            settings: settings.clone(),
            components: components.clone(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn emulator_config() -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-3"))
            .endpoint_url("http://127.0.0.1:1")
            .build()
    }

    #[tokio::test]
    async fn a_deferred_configuration_is_loaded_by_the_first_client_call_and_shared() {
        let sdk = Sdk::deferred();
        let dynamo = LazyClient::<aws_sdk_dynamodb::Client>::new(&sdk);
        let sqs = LazyClient::<aws_sdk_sqs::Client>::new(&sdk);
        assert!(sdk.0.get().is_none() && dynamo.client.get().is_none(), "nothing is loaded before a call");
        dynamo.get().await;
        assert!(sdk.0.get().is_some(), "the first call loads the configuration");
        assert!(sqs.client.get().is_none(), "the other client is still made on its own first call");
        sqs.get().await;
        assert!(Arc::ptr_eq(&sdk.0, &sqs.sdk.0), "both clients share one configuration");
    }

    #[test]
    fn a_loaded_configuration_makes_its_clients_at_once() {
        let sdk = Sdk::loaded(emulator_config());
        let dynamo = LazyClient::<aws_sdk_dynamodb::Client>::new(&sdk);
        let region = dynamo.client.get().and_then(|c| c.config().region().map(|r| r.to_string()));
        assert_eq!(region.as_deref(), Some("eu-west-3"), "made at once, from the loaded configuration");
    }
}
