//! Moving dead letters back to the fetch queue, with receive / send /
//! delete (moto lacks `StartMessageMoveTask`, and this works everywhere).
//! A message is deleted from the DLQ only after it was sent again, so a
//! crash halfway duplicates at worst (the worker is idempotent), never loses.

use crate::error::{Error, sdk_detail};
use aws_sdk_sqs::types::{Message, SendMessageBatchRequestEntry};
use std::ops::Range;

/// The most a `SendMessageBatch` may carry, all bodies together.
const BATCH_BYTES: usize = 256 * 1024;

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
        let sizes: Vec<usize> = messages.iter().map(|m| body(m).len()).collect();
        for group in batches(&sizes, BATCH_BYTES) {
            let group = &messages[group];
            let sent = send(sqs, queue_url, group).await.map_err(|detail| queue_error("SendMessage", queue_url, detail))?;
            for (message, ok) in group.iter().zip(sent) {
                if !ok {
                    return Err(queue_error("SendMessage", queue_url, "a message was refused; it stays in the dead-letter queue".into()));
                }
                let Some(handle) = message.receipt_handle.as_deref() else { continue };
                sqs.delete_message()
                    .queue_url(dlq_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(|e| queue_error("DeleteMessage", dlq_url, sdk_detail(&e)))?;
                moved += 1;
            }
        }
    }
    Ok(moved)
}

fn body(message: &Message) -> &str {
    message.body.as_deref().unwrap_or_default()
}

/// Sends `group` to the queue (one `SendMessage` for a lone message, else one
/// batch); says, per message, whether it was accepted.
async fn send(sqs: &aws_sdk_sqs::Client, queue_url: &str, group: &[Message]) -> Result<Vec<bool>, String> {
    if let [message] = group {
        sqs.send_message().queue_url(queue_url).message_body(body(message)).send().await.map_err(|e| sdk_detail(&e))?;
        return Ok(vec![true]);
    }
    let entries: Vec<SendMessageBatchRequestEntry> = group
        .iter()
        .enumerate()
        .filter_map(|(i, m)| SendMessageBatchRequestEntry::builder().id(format!("m{i}")).message_body(body(m)).build().ok())
        .collect();
    let sent = sqs
        .send_message_batch()
        .queue_url(queue_url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(|e| sdk_detail(&e))?;
    let mut accepted = vec![false; group.len()];
    for ok in sent.successful() {
        if let Some(slot) = ok.id().strip_prefix('m').and_then(|i| i.parse::<usize>().ok()).and_then(|i| accepted.get_mut(i)) {
            *slot = true;
        }
    }
    Ok(accepted)
}

/// Consecutive groups of messages (by body size) whose total stays within
/// `limit`; a message over the limit on its own is a group of one. Pure.
fn batches(sizes: &[usize], limit: usize) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let (mut start, mut total) = (0, 0);
    for (i, &size) in sizes.iter().enumerate() {
        if i > start && total + size > limit {
            groups.push(start..i);
            (start, total) = (i, 0);
        }
        total += size;
    }
    if start < sizes.len() {
        groups.push(start..sizes.len());
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_stay_within_the_limit_and_keep_every_message() {
        assert_eq!(batches(&[], 10), Vec::<Range<usize>>::new());
        assert_eq!(batches(&[3, 3, 3], 10), vec![0..3]);
        assert_eq!(batches(&[6, 6, 6], 10), vec![0..1, 1..2, 2..3]);
        assert_eq!(batches(&[4, 6, 1, 20, 2], 10), vec![0..2, 2..3, 3..4, 4..5]);
    }
}
