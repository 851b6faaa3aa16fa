//! The shared circuit breaker against real DynamoDB semantics (moto).

mod support;

use countries::breaker::{BreakerSettings, Phase};
use countries::store::BreakerStore;
use countries::store::breaker::DynamoBreaker;
use countries::worker::{Delivery, Disposition};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::{Stack, http, serve_api, upstream};

fn delivery(code: &str, n: usize) -> Delivery {
    Delivery {
        message_id: format!("m-{n}"),
        body: json!({"code": code, "request_id": format!("r-{n}"), "requested_at": ""}).to_string(),
        receive_count: 1,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn opens_under_sustained_failure_stops_calling_and_closes_after_the_window() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    let worker = stack.worker(&up.url, &[("BREAKER_THRESHOLD", "3"), ("BREAKER_WINDOW_SECONDS", "2")]).await;
    let api = serve_api(stack.api_state(&[])).await;
    up.faults.set(1000, 0);

    for n in 0..10 {
        assert_eq!(worker.handle(&delivery("FR", n)).await, Disposition::Retry);
    }
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), 3, "the breaker opened after 3 failures");
    let attempts: Value = http().get(format!("{api}/status/FR?limit=100")).send().await.unwrap().json().await.unwrap();
    let outcomes: Vec<&str> = attempts.as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "circuit_open").count(), 7);
    assert_eq!(outcomes.iter().filter(|o| **o == "upstream_error").count(), 3);
    assert!(attempts[0]["error"].as_str().unwrap().starts_with("circuit open"));

    // After the window one trial goes through; the healed upstream closes the breaker.
    up.faults.set(0, 0);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(worker.handle(&delivery("FR", 100)).await, Disposition::Done);
    assert_eq!(worker.handle(&delivery("DE", 101)).await, Disposition::Done);
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), 5);
    let breaker = DynamoBreaker::new(aws_sdk_dynamodb::Client::new(&stack.sdk), &stack.breaker_table, "restcountries-v3");
    assert_eq!(breaker.load().await.unwrap().phase, Phase::Closed);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_trial_reopens_for_another_window() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    let worker = stack.worker(&up.url, &[("BREAKER_THRESHOLD", "1"), ("BREAKER_WINDOW_SECONDS", "1")]).await;
    up.faults.set(1000, 0);
    worker.handle(&delivery("FR", 0)).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    worker.handle(&delivery("FR", 1)).await; // the trial, failing
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), 2);
    up.faults.set(0, 0);
    assert_eq!(worker.handle(&delivery("FR", 2)).await, Disposition::Retry, "open again");
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_failures_are_counted_exactly() {
    let stack = Stack::create(1, 4).await;
    let client = aws_sdk_dynamodb::Client::new(&stack.sdk);
    let settings = BreakerSettings { threshold: 10_000, window_ms: 60_000 };
    let breaker = Arc::new(DynamoBreaker::new(client, &stack.breaker_table, "upstream"));
    let now = countries::timestamp::now_millis();
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let b = Arc::clone(&breaker);
            tokio::spawn(async move { b.record_failure(settings, now).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let state = breaker.load().await.unwrap();
    assert_eq!(state.failures, 40);
    assert_eq!(state.phase, Phase::Closed);

    // With a threshold in reach, exactly one writer opens it and the count is still exact.
    let tight = BreakerSettings { threshold: 45, window_ms: 60_000 };
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let b = Arc::clone(&breaker);
            tokio::spawn(async move { b.record_failure(tight, now).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let state = breaker.load().await.unwrap();
    assert_eq!((state.failures, state.phase), (50, Phase::Open));
    assert_eq!(state.opened_at_ms, now);
}
