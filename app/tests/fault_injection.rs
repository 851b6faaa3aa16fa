//! Nothing lost under faults: all 250 countries, requested several times,
//! against an upstream that fails or stalls a share of requests. Every
//! request id ends as exactly one of: stored (success), a recorded
//! permanent failure, or a message in the dead-letter queue.

use crate::support;

use aws_sdk_dynamodb::types::AttributeValue;
use countries::message::FetchRequest;
use countries::queue::{FetchQueue, SqsQueue};
use countries::worker::redrive::redrive;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use support::{Stack, dataset, upstream};

const ROUNDS: usize = 3;

#[tokio::test(flavor = "multi_thread")]
async fn every_request_ends_exactly_once() {
    let stack = Stack::create(5, 4).await;
    let up = upstream().await;
    up.faults.set(200, 100); // 20 % answer 500, 10 % stall past the timeout
    up.faults.stall_ms.store(1_000, Ordering::SeqCst);
    let worker = stack
        .worker(&up.url, &[("UPSTREAM_TIMEOUT_MS", "300"), ("BREAKER_MIN_CALLS", "10000"), ("REFRESH_AFTER_SECONDS", "0")])
        .await;
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&stack.sdk), &stack.queue_url);

    let mut codes = dataset().iter().map(|c| c["cca2"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    codes.extend(["ZZ", "QQ"].map(String::from)); // unknown upstream: permanent failures
    let mut requested = HashSet::new();
    for round in 0..ROUNDS {
        for code in &codes {
            let request_id = format!("{code}-{round}");
            let request = FetchRequest { code: code.clone(), request_id: request_id.clone(), requested_at: String::new(), force: true };
            queue.send(&request, None).await.unwrap();
            requested.insert(request_id);
        }
    }

    work_to_quiescence(&stack, &worker).await;

    let finals = final_outcomes(&stack).await;
    let dead: Vec<String> = stack
        .drain_bodies(&stack.dlq_url)
        .await
        .iter()
        .map(|b| FetchRequest::parse(b, "").unwrap().0.request_id)
        .collect();

    let (mut stored, mut permanent, mut dead_lettered, mut duplicate_dead_letters) = (0, 0, 0, 0);
    for id in &requested {
        let outcomes = finals.get(id).cloned().unwrap_or_default();
        assert!(outcomes.len() <= 1, "{id} finished twice: {outcomes:?}");
        let in_dlq = dead.iter().filter(|d| *d == id).count();
        match (outcomes.first().map(String::as_str), in_dlq) {
            (Some("stored"), 0) => stored += 1,
            (Some("not_found"), 0) => permanent += 1,
            // SQS delivered a copy again while another worker finished it: a harmless duplicate.
            (Some("stored" | "not_found"), 1) => duplicate_dead_letters += 1,
            (None, 1) => dead_lettered += 1,
            other => panic!("{id} ended as {other:?}"),
        }
    }
    assert!(finals.keys().all(|id| requested.contains(id)), "no unknown ids");
    assert!(stack.drain_bodies(&stack.queue_url).await.is_empty());
    let calls = up.faults.requests.load(Ordering::SeqCst);
    let (failed, stalled) = (up.faults.failed.load(Ordering::SeqCst), up.faults.stalled.load(Ordering::SeqCst));
    println!(
        "fault injection: {} requests, {calls} upstream calls, {failed} answered 500, {stalled} stalled; stored {stored}, permanent {permanent}, dead-lettered {dead_lettered}, duplicate dead letters {duplicate_dead_letters}",
        requested.len(),
    );
    // The faults really happened: a fault switch that silently stops working
    // would otherwise leave a test that proves nothing.
    assert!(failed > 0, "the upstream answered no 500s: the fail switch did nothing");
    assert!(stalled > 0, "the upstream stalled no request: the stall switch did nothing");
    assert!(calls > requested.len() as u64, "{calls} upstream calls for {} requests: nothing was retried", requested.len());
    let errors = attempts_with_outcome(&stack, "upstream_error").await;
    assert!(errors.iter().any(|e| e.contains("500")), "no attempt recorded a 500: {errors:?}");
    assert!(errors.iter().any(|e| e.to_lowercase().contains("time")), "no attempt recorded a timeout: {errors:?}");
    assert_eq!(stored + permanent + dead_lettered + duplicate_dead_letters, requested.len());

    // Redrive with a healed upstream: every dead letter is now finished, duplicates change nothing.
    up.faults.set(0, 0);
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk);
    for body in dead.iter().map(|id| format!(r#"{{"code":"{}","request_id":"{id}","requested_at":"","force":true}}"#, &id[..2])) {
        sqs.send_message().queue_url(&stack.dlq_url).message_body(body).send().await.unwrap();
    }
    redrive(&sqs, &stack.dlq_url, &stack.queue_url, 10_000).await.unwrap();
    work_to_quiescence(&stack, &worker).await;
    let after = final_outcomes(&stack).await;
    assert_eq!(after.len(), requested.len(), "every request finished exactly once");
    assert!(after.values().all(|o| o.len() == 1));
    for (id, outcomes) in &finals {
        assert_eq!(&after[id], outcomes, "{id} changed after redrive");
    }
}

/// Four local workers until nothing is left in the queue, in flight or waiting out a visibility timeout.
async fn work_to_quiescence(stack: &Stack, worker: &countries::worker::Worker) {
    while queue_depth(stack).await > 0 {
        let pollers: Vec<_> = (0..4)
            .map(|_| {
                let (poller, worker) = (stack.poller(), worker.clone());
                tokio::spawn(async move { poller.run_until_idle(&worker, 2).await.unwrap() })
            })
            .collect();
        for p in pollers {
            p.await.unwrap();
        }
    }
}

/// Messages in the fetch queue, visible or in flight.
async fn queue_depth(stack: &Stack) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = aws_sdk_sqs::Client::new(&stack.sdk)
        .get_queue_attributes()
        .queue_url(&stack.queue_url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let attributes = out.attributes.unwrap_or_default();
    [A::ApproximateNumberOfMessages, A::ApproximateNumberOfMessagesNotVisible]
        .iter()
        .map(|a| attributes.get(a).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0))
        .sum()
}

/// The `error` of every attempt recorded with `outcome`.
async fn attempts_with_outcome(stack: &Stack, outcome: &str) -> Vec<String> {
    let dynamo = aws_sdk_dynamodb::Client::new(&stack.sdk);
    let mut errors = Vec::new();
    let mut pages = dynamo.scan().table_name(&stack.status_table).into_paginator().items().send();
    while let Some(item) = pages.next().await {
        let item = item.unwrap();
        if item.get("outcome").and_then(|o| o.as_s().ok()).is_some_and(|o| o == outcome) {
            errors.push(item.get("error").and_then(|e| e.as_s().ok()).cloned().unwrap_or_default());
        }
    }
    errors
}

/// Final outcomes per request id, from the status table (markers skipped).
async fn final_outcomes(stack: &Stack) -> HashMap<String, Vec<String>> {
    let dynamo = aws_sdk_dynamodb::Client::new(&stack.sdk);
    let mut finals: HashMap<String, Vec<String>> = HashMap::new();
    let mut pages = dynamo.scan().table_name(&stack.status_table).into_paginator().items().send();
    while let Some(item) = pages.next().await {
        let item = item.unwrap();
        if item["fetched_country"].as_s().unwrap().starts_with("request#") {
            continue; // an idempotency marker, not an attempt
        }
        if item.get("final") == Some(&AttributeValue::Bool(true)) {
            let id = item["request_id"].as_s().unwrap().clone();
            finals.entry(id).or_default().push(item["outcome"].as_s().unwrap().clone());
        }
    }
    finals
}
