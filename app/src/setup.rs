//! Builds the edges once per process from configuration: the stores on
//! the SDK's clients (see [`crate::sdk`] for when those are made), the
//! upstream client and the key. Shared by the binaries and the tests.

use crate::api::ApiState;
use crate::api::cache::ViewCache;
use crate::config::{ApiConfig, Provider, WorkerConfig};
use crate::error::Error;
use crate::guard::FetchGuards;
use crate::metrics::{Function, Metrics};
use crate::queue::SqsQueue;
use crate::sdk::{LazyClient, Sdk};
use crate::store::attempts::DynamoAttempts;
use crate::store::breaker::DynamoBreaker;
use crate::store::budget::DynamoBudget;
use crate::store::countries::DynamoCountries;
use crate::store::pending::DynamoPending;
use crate::upstream::{HttpSource, key};
use crate::worker::Worker;
use std::sync::Arc;

/// The api's state; its clients are made at once if `sdk` is loaded, else on first use.
pub fn api_state(config: &ApiConfig, sdk: &Sdk) -> ApiState {
    let dynamo = LazyClient::<aws_sdk_dynamodb::Client>::new(sdk);
    ApiState {
        countries: Arc::new(DynamoCountries::new(dynamo.clone(), &config.common.countries_table)),
        attempts: Arc::new(DynamoAttempts::new(dynamo.clone(), &config.common.status_table)),
        queue: Arc::new(SqsQueue::new(LazyClient::new(sdk), &config.common.queue_url)),
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
    let dynamo = LazyClient::from(aws_sdk_dynamodb::Client::new(sdk));
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
