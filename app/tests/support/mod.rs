//! Shared set-up for the integration tests: real moto (DynamoDB, SQS) on a
//! free port, the offline upstream on another, the api on a third. Every
//! test gets its own tables and queues, named uniquely, so tests run in
//! parallel against one emulator.
#![allow(dead_code)]

pub mod contract;
pub mod sqs_batch;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use countries::api::ApiState;
use countries::config::{ApiConfig, WorkerConfig};
use countries::offline_upstream::{Dataset, Faults, router};
use countries::sdk::Sdk;
use countries::worker::Worker;
use countries::worker::poll::Poller;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The bundled dataset, as the tests' source of truth.
pub fn dataset_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/restcountries-v3.1.json"
    ))
    .expect("fixture")
}

/// The dataset's records.
pub fn dataset() -> Vec<Value> {
    serde_json::from_str(&dataset_text()).expect("fixture is JSON")
}

/// SDK configuration pointed at the test binary's moto.
pub async fn sdk() -> aws_config::SdkConfig {
    let moto = testkit::moto();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "testkit",
        ))
        .load()
        .await
}

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-t{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .unwrap()
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap()
}

/// Tables and queues of one test, as docs/contract.md defines them.
pub struct Stack {
    pub sdk: aws_config::SdkConfig,
    pub countries_table: String,
    pub status_table: String,
    pub breaker_table: String,
    pub queue_url: String,
    pub dlq_url: String,
}

impl Stack {
    /// Creates the three tables, the queue and its DLQ (`max_receive` deliveries, then dead-lettered).
    pub async fn create(visibility_seconds: u32, max_receive: u32) -> Self {
        let sdk = sdk().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let stage = unique("it");
        let (countries_table, status_table, breaker_table) = (
            format!("countries-{stage}"),
            format!("status-{stage}"),
            format!("circuit-breaker-state-{stage}"),
        );
        for (table, hash) in [(&countries_table, "cca2"), (&breaker_table, "service_name")] {
            dynamo
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(attr(hash))
                .key_schema(key(hash, KeyType::Hash))
                .send()
                .await
                .expect("create table");
        }
        dynamo
            .create_table()
            .table_name(&status_table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("fetched_country"))
            .attribute_definitions(attr("attempt_id"))
            .key_schema(key("fetched_country", KeyType::Hash))
            .key_schema(key("attempt_id", KeyType::Range))
            .send()
            .await
            .expect("create status table");
        let dlq_url = sqs
            .create_queue()
            .queue_name(format!("countries-fetch-dlq-{stage}"))
            .send()
            .await
            .expect("create dlq")
            .queue_url
            .unwrap();
        let dlq_arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&QueueAttributeName::QueueArn]
            .clone();
        let redrive =
            serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive})
                .to_string();
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("countries-fetch-{stage}"))
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                visibility_seconds.to_string(),
            )
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .send()
            .await
            .expect("create queue")
            .queue_url
            .unwrap();
        Self {
            sdk,
            countries_table,
            status_table,
            breaker_table,
            queue_url,
            dlq_url,
        }
    }

    /// The functions' environment variables for this stack (as the stack
    /// template sets them), for in-process configs and for child processes.
    pub fn vars(&self, upstream: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut vars: HashMap<String, String> = [
            ("STAGE", "test"),
            ("COUNTRIES_TABLE", self.countries_table.as_str()),
            ("STATUS_TABLE", self.status_table.as_str()),
            ("BREAKER_TABLE", self.breaker_table.as_str()),
            ("QUEUE_URL", self.queue_url.as_str()),
            ("DLQ_URL", self.dlq_url.as_str()),
            ("UPSTREAM_PROVIDER", "v3"),
            ("UPSTREAM_BASE_URL", upstream),
            ("UPSTREAM_TIMEOUT_MS", "500"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        vars
    }

    /// The api's configuration; `extra` overrides or adds variables.
    pub fn api_config(&self, extra: &[(&str, &str)]) -> ApiConfig {
        let vars = self.vars("http://127.0.0.1:1", extra);
        ApiConfig::from_lookup(|k| vars.get(k).cloned()).expect("api config")
    }

    /// The worker's configuration against `upstream`.
    pub fn worker_config(&self, upstream: &str, extra: &[(&str, &str)]) -> WorkerConfig {
        let vars = self.vars(upstream, extra);
        WorkerConfig::from_lookup(|k| vars.get(k).cloned()).expect("worker config")
    }

    /// The api's state as the binary builds it.
    pub fn api_state(&self, extra: &[(&str, &str)]) -> ApiState {
        countries::setup::api_state(&self.api_config(extra), &Sdk::loaded(self.sdk.clone()))
    }

    /// The worker as the binary builds it.
    pub async fn worker(&self, upstream: &str, extra: &[(&str, &str)]) -> Worker {
        countries::setup::worker(&self.worker_config(upstream, extra), &self.sdk)
            .await
            .expect("worker")
    }

    /// A local poller on the fetch queue with a short wait.
    pub fn poller(&self) -> Poller {
        Poller {
            sqs: aws_sdk_sqs::Client::new(&self.sdk),
            queue_url: self.queue_url.clone(),
            wait: Duration::from_secs(1),
        }
    }

    /// Message bodies now in a queue (received and left to become visible again).
    pub async fn drain_bodies(&self, url: &str) -> Vec<String> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let mut bodies = Vec::new();
        loop {
            let out = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            for m in messages {
                bodies.push(m.body.unwrap_or_default());
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle.unwrap())
                    .send()
                    .await
                    .expect("delete");
            }
        }
    }
}

/// The offline upstream on a free port, with its fault switches.
pub struct Upstream {
    pub url: String,
    pub faults: Arc<Faults>,
}

/// Starts the offline upstream over the bundled dataset.
pub async fn upstream() -> Upstream {
    let dataset = Arc::new(Dataset::from_json(&dataset_text()).expect("dataset"));
    let faults = Arc::new(Faults::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = router(dataset, Arc::clone(&faults));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Upstream { url, faults }
}

/// Serves the api router on a free port; returns its base URL.
pub async fn serve_api(state: ApiState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = countries::api::router(state);
    tokio::spawn(countries::api::serve_local(
        listener,
        app,
        Box::pin(std::future::pending()),
    ));
    url
}

/// GETs `url` and parses its JSON body: the one-line read most tests need.
#[allow(dead_code)] // not every test binary reads JSON this way
pub async fn get_json(url: impl reqwest::IntoUrl) -> Value {
    http().get(url).send().await.unwrap().json().await.unwrap()
}

/// A plain HTTP client for the tests.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}
