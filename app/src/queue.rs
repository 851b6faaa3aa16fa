//! The fetch queue (SQS): the API's one way to ask the worker for work.

use crate::error::{Error, sdk_detail};
use crate::message::FetchRequest;
use crate::sdk::LazyClient;
use crate::trace::TraceHeader;
use aws_sdk_sqs::types::{MessageSystemAttributeNameForSends, MessageSystemAttributeValue};
use futures::future::BoxFuture;

/// Where `fetch-data` puts requests.
pub trait FetchQueue: Send + Sync {
    /// Queues one request, with the caller's trace when there is one; returns the SQS message id.
    fn send<'a>(&'a self, request: &'a FetchRequest, trace: Option<&'a TraceHeader>) -> BoxFuture<'a, Result<String, Error>>;
}

/// [`FetchQueue`] on SQS, with the queue URL from configuration.
#[derive(Clone)]
pub struct SqsQueue {
    client: LazyClient<aws_sdk_sqs::Client>,
    url: String,
}

impl SqsQueue {
    /// Wraps the process's client (made on first use when the SDK is deferred).
    pub fn new(client: impl Into<LazyClient<aws_sdk_sqs::Client>>, url: impl Into<String>) -> Self {
        Self { client: client.into(), url: url.into() }
    }
}

impl FetchQueue for SqsQueue {
    fn send<'a>(&'a self, request: &'a FetchRequest, trace: Option<&'a TraceHeader>) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let body = serde_json::to_string(request).map_err(|e| Error::BadMessage(e.to_string()))?;
            // AWSTraceHeader: SQS hands it to the worker, and X-Ray links the worker's trace to this one.
            let trace_attribute = trace.and_then(|t| {
                MessageSystemAttributeValue::builder().data_type("String").string_value(t.header()).build().ok()
            });
            let out = self
                .client.get().await
                .send_message()
                .queue_url(&self.url)
                .message_body(body)
                .set_message_system_attributes(
                    trace_attribute.map(|v| [(MessageSystemAttributeNameForSends::AwsTraceHeader, v)].into()),
                )
                .send()
                .await
                .map_err(|e| Error::Queue { operation: "SendMessage", queue: self.url.clone(), detail: sdk_detail(&e) })?;
            Ok(out.message_id.unwrap_or_default())
        })
    }
}
