//! The shared circuit breaker against real DynamoDB semantics (moto).

use crate::support;

use countries::breaker::{BreakerSettings, CallResult, Counts, Phase};
use countries::store::BreakerStore;
use countries::store::breaker::DynamoBreaker;
use countries::worker::{Delivery, Disposition};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::{Stack, get_json, serve_api, upstream};

fn delivery(code: &str, n: usize) -> Delivery {
    Delivery {
        message_id: format!("m-{n}"),
        body: json!({"code": code, "request_id": format!("r-{n}"), "requested_at": ""}).to_string(),
        receive_count: 1,
        trace_header: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn opens_under_sustained_failure_stops_calling_and_closes_after_the_window() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    let worker = stack.worker(&up.url, &[("BREAKER_MIN_CALLS", "3"), ("BREAKER_WINDOW_SECONDS", "2")]).await;
    let api = serve_api(stack.api_state(&[])).await;
    up.faults.set(1000, 0);

    for n in 0..10 {
        assert_eq!(worker.handle(&delivery("FR", n)).await, Disposition::Retry);
    }
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), 3, "a dead upstream opens the breaker after min_calls (3) calls");
    let attempts: Value = get_json(format!("{api}/status/FR?limit=100")).await;
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
    let worker = stack.worker(&up.url, &[("BREAKER_MIN_CALLS", "1"), ("BREAKER_WINDOW_SECONDS", "1")]).await;
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
async fn a_flaky_upstream_that_answers_most_calls_keeps_it_closed() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    let worker = stack.worker(&up.url, &[("BREAKER_WINDOW_SECONDS", "60")]).await;
    up.faults.set(300, 0); // 30 % answer 500: below the default 50 % rate
    let codes: Vec<String> = support::dataset().iter().take(100).map(|c| c["cca2"].as_str().unwrap().to_string()).collect();
    let mut retried = 0;
    for (n, code) in codes.iter().enumerate() {
        if worker.handle(&delivery(code, n)).await == Disposition::Retry {
            retried += 1;
        }
    }
    let calls = up.faults.requests.load(Ordering::SeqCst);
    let failed = up.faults.failed.load(Ordering::SeqCst);
    assert_eq!(calls, 100, "every request reached the upstream: the breaker never refused one");
    assert!(failed > 10, "faults were injected: {failed}");
    assert_eq!(retried, failed, "only the upstream's own failures are retried");
    let breaker = DynamoBreaker::new(aws_sdk_dynamodb::Client::new(&stack.sdk), &stack.breaker_table, "restcountries-v3");
    let state = breaker.load().await.unwrap();
    assert_eq!(state.phase, Phase::Closed);
    assert_eq!(u64::from(state.current.calls() + state.previous.calls()), calls, "every call counted");
}

fn settings(failure_rate_percent: u32, min_calls: u32, trial_calls: u32) -> BreakerSettings {
    BreakerSettings { failure_rate_percent, min_calls, window_ms: 60_000, trial_calls }
}

/// Runs the calls concurrently, the i-th recording its result at `now + i`;
/// returns each call's time and the state its write returned.
async fn record_concurrently(breaker: &Arc<DynamoBreaker>, settings: BreakerSettings, results: Vec<CallResult>, now: i64) -> Vec<(i64, countries::breaker::BreakerState)> {
    let tasks: Vec<_> = results
        .into_iter()
        .enumerate()
        .map(|(i, result)| {
            let b = Arc::clone(breaker);
            let at = now + i as i64;
            tokio::spawn(async move { (at, b.record_call(settings, result, at).await.unwrap()) })
        })
        .collect();
    let mut states = Vec::new();
    for t in tasks {
        states.push(t.await.unwrap());
    }
    states
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_calls_are_counted_exactly_and_open_it_once() {
    let stack = Stack::create(1, 4).await;
    let client = aws_sdk_dynamodb::Client::new(&stack.sdk);
    let breaker = Arc::new(DynamoBreaker::new(client, &stack.breaker_table, "upstream"));
    let now = countries::timestamp::now_millis();
    for round in 0..3 {
        // 20 successes and 20 failures at once; a rate of 100 % can't trip.
        let mixed = (0..40).map(|i| if i % 2 == 0 { CallResult::Success } else { CallResult::Failure }).collect();
        record_concurrently(&breaker, settings(100, 10_000, 1), mixed, now + round * 100).await;
    }
    let state = breaker.load().await.unwrap();
    assert_eq!(state.current, Counts { successes: 60, failures: 60 });
    assert_eq!(state.phase, Phase::Closed);

    // 20 concurrent failures: from the 5th on (125 calls, 65 failures, 52 %)
    // each writer sees the rate trip and races to open it; exactly one does.
    let states = record_concurrently(&breaker, settings(50, 125, 1), vec![CallResult::Failure; 20], now + 1_000).await;
    let openers: Vec<i64> = states.iter().filter(|(at, s)| s.phase == Phase::Open && s.opened_at_ms == *at).map(|(at, _)| *at).collect();
    assert_eq!(openers.len(), 1, "exactly one writer opened it: {openers:?}");
    let state = breaker.load().await.unwrap();
    assert_eq!(state.current, Counts { successes: 60, failures: 80 });
    assert_eq!((state.phase, state.opened_at_ms), (Phase::Open, openers[0]));

    // The next window (the first started within 1 s of `now`): concurrent
    // workers roll it once; the old counts become the previous window's.
    let next = now + 61_000;
    record_concurrently(&breaker, settings(100, 10_000, 1), vec![CallResult::Success; 30], next).await;
    let state = breaker.load().await.unwrap();
    assert_eq!((state.previous, state.current), (Counts { successes: 60, failures: 80 }, Counts { successes: 30, failures: 0 }));
    assert!((next..next + 30).contains(&state.window_started_ms));
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_workers_claim_exactly_the_trial_slots() {
    let stack = Stack::create(1, 4).await;
    let client = aws_sdk_dynamodb::Client::new(&stack.sdk);
    let breaker = Arc::new(DynamoBreaker::new(client, &stack.breaker_table, "upstream"));
    let three = settings(50, 2, 3);
    let now = countries::timestamp::now_millis();
    record_concurrently(&breaker, three, vec![CallResult::Failure; 2], now).await;
    let open = breaker.load().await.unwrap();
    assert_eq!(open.phase, Phase::Open);

    let over = now + 61_000; // the open period (one window from the opening write) is over
    let claims: Vec<_> = (0..12)
        .map(|_| {
            let b = Arc::clone(&breaker);
            tokio::spawn(async move {
                // Each worker reads the row itself, as the worker does before claiming.
                let observed = b.load().await.unwrap();
                match three.permit(&observed, over) {
                    countries::breaker::Permit::Trial => b.claim_trial(three, observed, over).await.unwrap(),
                    _ => None,
                }
            })
        })
        .collect();
    let mut periods = Vec::new();
    for c in claims {
        periods.extend(c.await.unwrap());
    }
    assert_eq!(periods.len(), 3, "three trial slots, three winners: {periods:?}");
    assert!(periods.iter().all(|p| *p == over), "all in one half-open period");

    // Two successes keep it half-open; the third closes it with every count cleared.
    assert_eq!(breaker.finish_trial(three, over, true, over + 1).await.unwrap(), Some(Phase::HalfOpen));
    assert_eq!(breaker.finish_trial(three, over, true, over + 2).await.unwrap(), Some(Phase::HalfOpen));
    assert_eq!(breaker.finish_trial(three, over, true, over + 3).await.unwrap(), Some(Phase::Closed));
    let closed = breaker.load().await.unwrap();
    assert_eq!((closed.phase, closed.current, closed.previous), (Phase::Closed, Counts::default(), Counts::default()));
    // A late answer from an old period changes nothing.
    assert_eq!(breaker.finish_trial(three, over, false, over + 4).await.unwrap(), None);
    assert_eq!(breaker.load().await.unwrap().phase, Phase::Closed);
}
