//! The fetch queue (SQS): the API's one way to ask the worker for work.

use crate::error::{Error, sdk_detail};
use crate::message::FetchRequest;
use futures::future::BoxFuture;

/// Where `fetch-data` puts requests.
pub trait FetchQueue: Send + Sync {
    /// Queues one request; returns the SQS message id.
    fn send<'a>(&'a self, request: &'a FetchRequest) -> BoxFuture<'a, Result<String, Error>>;
}

/// [`FetchQueue`] on SQS, with the queue URL from configuration.
#[derive(Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    /// Wraps a client built once per process.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }
}

impl FetchQueue for SqsQueue {
    fn send<'a>(&'a self, request: &'a FetchRequest) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let body = serde_json::to_string(request).map_err(|e| Error::BadMessage(e.to_string()))?;
            let out = self
                .client
                .send_message()
                .queue_url(&self.url)
                .message_body(body)
                .send()
                .await
                .map_err(|e| Error::Queue { operation: "SendMessage", queue: self.url.clone(), detail: sdk_detail(&e) })?;
            Ok(out.message_id.unwrap_or_default())
        })
    }
}
