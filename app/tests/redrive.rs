//! `worker redrive`: dead letters go back to the fetch queue and are then processed.

use crate::support;

use aws_sdk_sqs::Client;
use countries::worker::redrive::redrive;
use support::{Stack, upstream};

#[tokio::test(flavor = "multi_thread")]
async fn redrive_moves_dead_letters_back_and_they_are_processed() {
    let stack = Stack::create(1, 4).await;
    let sqs = Client::new(&stack.sdk);
    for code in ["PY", "UY", "AR"] {
        let body = format!(r#"{{"code":"{code}","request_id":"dead-{code}","requested_at":""}}"#);
        sqs.send_message().queue_url(&stack.dlq_url).message_body(body).send().await.unwrap();
    }
    assert_eq!(redrive(&sqs, &stack.dlq_url, &stack.queue_url, 2).await.unwrap(), 2, "--max is honoured");
    assert_eq!(redrive(&sqs, &stack.dlq_url, &stack.queue_url, 100).await.unwrap(), 1);
    assert!(stack.drain_bodies(&stack.dlq_url).await.is_empty());

    let up = upstream().await;
    let worker = stack.worker(&up.url, &[]).await;
    assert_eq!(stack.poller().run_until_idle(&worker, 1).await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn large_dead_letters_are_moved_in_batches_that_fit() {
    let stack = Stack::create(1, 4).await;
    let sqs = Client::new(&stack.sdk);
    // Five bodies near the 256 KiB message limit (five times a batch's limit together), then a small one.
    let big = format!(r#"{{"code":"DE","request_id":"big","requested_at":"","pad":"{}"}}"#, "x".repeat(250 * 1024));
    for _ in 0..5 {
        sqs.send_message().queue_url(&stack.dlq_url).message_body(&big).send().await.unwrap();
    }
    sqs.send_message().queue_url(&stack.dlq_url).message_body("\"DE\"").send().await.unwrap();
    assert_eq!(redrive(&sqs, &stack.dlq_url, &stack.queue_url, 100).await.unwrap(), 6);
    assert!(stack.drain_bodies(&stack.dlq_url).await.is_empty());
    let moved = stack.drain_bodies(&stack.queue_url).await;
    assert_eq!(moved.len(), 6);
    assert_eq!(moved.iter().filter(|b| **b == big).count(), 5, "bodies arrive unchanged");
}
