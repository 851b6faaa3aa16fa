//! The worker as a local process: long-polls the fetch queue and runs the
//! same per-message code as in Lambda, deleting what is done and leaving
//! the rest for SQS to deliver again (and, in the end, dead-letter).

use super::{Delivery, Worker};
use crate::error::{Error, sdk_detail};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use std::time::Duration;

/// How many queue errors in a row end `run_until_idle` (a transient one is retried).
pub const QUEUE_ERRORS_IN_A_ROW: u32 = 3;

/// A queue to poll.
#[derive(Clone)]
pub struct Poller {
    /// SQS client, built once.
    pub sqs: aws_sdk_sqs::Client,
    /// The fetch queue.
    pub queue_url: String,
    /// Long-poll wait (SQS allows up to 20 s).
    pub wait: Duration,
}

impl Poller {
    /// Receives one batch (up to 10), handles it, deletes what is done.
    /// Returns how many messages were received.
    pub async fn poll_once(&self, worker: &Worker) -> Result<usize, Error> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(self.wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
            .send()
            .await
            .map_err(|e| Error::Queue { operation: "ReceiveMessage", queue: self.queue_url.clone(), detail: sdk_detail(&e) })?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(0);
        }
        let mut handles = std::collections::HashMap::new();
        let deliveries: Vec<Delivery> = messages
            .into_iter()
            .map(|m| {
                let message_id = m.message_id.clone().unwrap_or_default();
                handles.insert(message_id.clone(), m.receipt_handle.clone().unwrap_or_default());
                let attribute = |name| m.attributes.as_ref().and_then(|a| a.get(&name)).cloned();
                Delivery {
                    receive_count: attribute(MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(1),
                    trace_header: attribute(MessageSystemAttributeName::AwsTraceHeader),
                    message_id,
                    body: m.body.unwrap_or_default(),
                }
            })
            .collect();
        let received = deliveries.len();
        let retry = worker.handle_batch(deliveries).await;
        let done: Vec<DeleteMessageBatchRequestEntry> = handles
            .into_iter()
            .filter(|(id, _)| !retry.contains(id))
            .enumerate()
            .filter_map(|(i, (_, handle))| {
                DeleteMessageBatchRequestEntry::builder().id(format!("m{i}")).receipt_handle(handle).build().ok()
            })
            .collect();
        if !done.is_empty() {
            // A failed delete only means the message comes back; the
            // worker finds the request finished and deletes it then.
            let deleted = self.sqs.delete_message_batch().queue_url(&self.queue_url).set_entries(Some(done)).send().await;
            if let Err(e) = deleted {
                tracing::warn!(error = %sdk_detail(&e), "could not delete handled messages; they will be seen again and skipped");
            }
        }
        Ok(received)
    }

    /// Polls until `stop` resolves. Queue errors are logged and retried after a
    /// pause. Not generic (the future boxed), so it compiles with the library.
    pub async fn run(&self, worker: &Worker, mut stop: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) {
        loop {
            tokio::select! {
                _ = &mut stop => break,
                result = self.poll_once(worker) => {
                    if let Err(e) = result {
                        tracing::error!(error = %e, "polling failed; retrying in 1 s");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    }

    /// Polls until `idle_polls` polls in a row receive nothing (tests, benchmarks, `--until-empty`).
    /// A queue error is retried after a pause, as `run` does; [`QUEUE_ERRORS_IN_A_ROW`]
    /// in a row end it with the last one.
    pub async fn run_until_idle(&self, worker: &Worker, idle_polls: u32) -> Result<usize, Error> {
        let (mut total, mut idle, mut errors) = (0, 0, 0);
        while idle < idle_polls {
            match self.poll_once(worker).await {
                Ok(0) => idle += 1,
                Ok(n) => {
                    total += n;
                    idle = 0;
                }
                Err(e) if errors + 1 < QUEUE_ERRORS_IN_A_ROW => {
                    tracing::warn!(error = %e, "polling failed; retrying in 1 s");
                    errors += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                Err(e) => return Err(e),
            }
            errors = 0;
        }
        Ok(total)
    }
}
