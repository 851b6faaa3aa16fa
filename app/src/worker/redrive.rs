//! Moving dead letters back to the fetch queue, with receive / send /
//! delete (moto lacks `StartMessageMoveTask`, and this works everywhere).
//! A message is deleted from the DLQ only after it was sent again, so a
//! crash halfway duplicates at worst (the worker is idempotent), never loses.

use crate::error::{Error, sdk_detail};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

/// Moves up to `max` messages from `dlq_url` to `queue_url`; returns how many moved.
pub async fn redrive(sqs: &aws_sdk_sqs::Client, dlq_url: &str, queue_url: &str, max: usize) -> Result<usize, Error> {
    let queue_error = |operation, url: &str, detail| Error::Queue { operation, queue: url.to_string(), detail };
    let mut moved = 0;
    while moved < max {
        let out = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages((max - moved).min(10) as i32)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| queue_error("ReceiveMessage", dlq_url, sdk_detail(&e)))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        let entries: Vec<SendMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                SendMessageBatchRequestEntry::builder().id(format!("m{i}")).message_body(m.body.clone().unwrap_or_default()).build().ok()
            })
            .collect();
        let sent = sqs
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| queue_error("SendMessageBatch", queue_url, sdk_detail(&e)))?;
        for ok in sent.successful() {
            let index: usize = ok.id().trim_start_matches('m').parse().unwrap_or(usize::MAX);
            let Some(handle) = messages.get(index).and_then(|m| m.receipt_handle.as_deref()) else { continue };
            sqs.delete_message()
                .queue_url(dlq_url)
                .receipt_handle(handle)
                .send()
                .await
                .map_err(|e| queue_error("DeleteMessage", dlq_url, sdk_detail(&e)))?;
            moved += 1;
        }
        if let Some(failed) = sent.failed().first() {
            return Err(queue_error("SendMessageBatch", queue_url, failed.message().unwrap_or("a message was refused").to_string()));
        }
    }
    Ok(moved)
}
