//! The public API cannot burn the upstream quota (DESIGN §6), against moto
//! and the offline upstream: one pending fetch per country (coalescing), a
//! cooldown on `force`, and a monthly upstream budget spent with a
//! conditional `ADD`.

use crate::support;

use countries::store::UpstreamBudget;
use countries::store::budget::DynamoBudget;
use countries::worker::{Delivery, Disposition};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::{Stack, get_json, http, serve_api, upstream};

async fn fetch(api: &str, path: &str) -> (u16, Value) {
    let res = http().post(format!("{api}/fetch-data/{path}")).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// A fetch that must queue a new request; returns its id.
async fn leads(api: &str, path: &str) -> String {
    let (status, body) = fetch(api, path).await;
    assert_eq!((status, &body["coalesced"]), (202, &json!(false)), "{path}: {body}");
    body["request_id"].as_str().unwrap().to_string()
}

/// A fetch that must join the pending request `pending`.
async fn joins(api: &str, path: &str, pending: &str) {
    let (status, body) = fetch(api, path).await;
    assert_eq!((status, &body["coalesced"], &body["request_id"]), (202, &json!(true), &json!(pending)), "{path}: {body}");
    assert!(body["message"].as_str().unwrap().contains("joined the pending request"), "{body}");
}

async fn rows(api: &str, code: &str) -> Vec<Value> {
    get_json(format!("{api}/status/{code}?limit=100")).await.as_array().unwrap().clone()
}

fn delivery(body: &str, n: u32) -> Delivery {
    Delivery { message_id: format!("m-{n}"), body: body.into(), receive_count: 1, trace_header: None }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_100_fetches_for_one_country_queues_one_message_and_calls_the_upstream_once() {
    let stack = Stack::create(5, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[])).await;
    let worker = stack.worker(&up.url, &[]).await;

    let burst: Vec<_> = (0..100).map(|_| tokio::spawn({
        let api = api.clone();
        async move { fetch(&api, "py?force=true").await }
    })).collect();
    let mut answers = Vec::new();
    for answer in burst {
        answers.push(answer.await.unwrap());
    }
    assert!(answers.iter().all(|(status, _)| *status == 202), "{answers:?}");
    let ids: std::collections::BTreeSet<&str> = answers.iter().map(|(_, b)| b["request_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 1, "every answer carries the one pending request's id: {ids:?}");
    let queued: Vec<&Value> = answers.iter().map(|(_, b)| b).filter(|b| b["coalesced"] == false).collect();
    assert_eq!(queued.len(), 1, "exactly one request queued a message");
    assert_eq!(queued[0]["forced"], true);

    assert_eq!(stack.poller().run_until_idle(&worker, 2).await.unwrap(), 1, "one queue message");
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), 1, "one upstream call");
    let py = rows(&api, "PY").await;
    assert_eq!(py.len(), 1);
    assert_eq!((py[0]["outcome"].as_str(), py[0]["coalesced_requests"].as_u64()), (Some("stored"), Some(99)));
    assert_eq!(py[0]["request_id"], json!(ids.first().unwrap()), "the status row is the one every answer pointed at");

    // Ended: the next request queues again.
    let next = leads(&api, "PY").await;
    assert!(!ids.contains(next.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pending_marker_clears_on_every_way_a_request_ends() {
    let stack = Stack::create(1, 2).await;
    let up = upstream().await;
    // An upstream answering garbage, for the `malformed` outcome.
    let garbage = axum::Router::new().route("/v3.1/alpha/{code}", axum::routing::get(|| async { "not json" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let garbage_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, garbage).await });
    let api = serve_api(stack.api_state(&[])).await;
    let extra = [("MAX_RECEIVE_COUNT", "2"), ("BREAKER_MIN_CALLS", "1000")];
    let plain = stack.worker(&up.url, &extra).await;
    let broken = stack.worker(&garbage_url, &extra).await;
    let budgeted = stack.worker(&up.url, &[("UPSTREAM_MONTHLY_BUDGET", "1"), ("MAX_RECEIVE_COUNT", "2")]).await;

    // NO is stored fresh beforehand (not through the api), so its round is served from the store;
    // the budget's one unit is spent beforehand, so CL's round finds it spent.
    let seed = |code: &str| json!({"code": code, "request_id": format!("seed-{code}"), "requested_at": ""}).to_string();
    assert_eq!(plain.handle(&delivery(&seed("NO"), 0)).await, Disposition::Done);
    assert_eq!(budgeted.handle(&delivery(&seed("UY"), 1)).await, Disposition::Done);

    for (code, worker, outcome) in [
        ("PY", &plain, "stored"),
        ("NO", &plain, "served_from_store"),
        ("ZZ", &plain, "not_found"),
        ("BD", &broken, "malformed"),
        ("CL", &budgeted, "budget_exhausted"),
    ] {
        let pending = leads(&api, code).await;
        joins(&api, code, &pending).await;
        joins(&api, &format!("{code}?force=true"), &pending).await;
        assert_eq!(stack.poller().run_until_idle(worker, 1).await.unwrap(), 1, "{code}");
        let row = &rows(&api, code).await[0];
        assert_eq!((row["outcome"].as_str(), row["request_id"].as_str()), (Some(outcome), Some(pending.as_str())), "{code}: {row}");
        assert_eq!(row["coalesced_requests"], 2, "{code}: the two that joined are counted on the final row");
        let next = leads(&api, code).await;
        assert_ne!(next, pending, "{code}: the marker was cleared");
        stack.drain_bodies(&stack.queue_url).await;
    }
    assert_eq!(rows(&api, "CL").await.len(), 1, "budget_exhausted is final: not retried");

    // The dead-letter path: the last receive before the DLQ ends the request too.
    up.faults.set(1000, 0);
    let pending = leads(&api, "FR").await;
    let poller = stack.poller();
    assert_eq!(poller.poll_once(&plain).await.unwrap(), 1);
    assert_eq!(rows(&api, "FR").await[0]["outcome"], "upstream_error");
    joins(&api, "FR", &pending).await; // still pending: SQS retries it
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(poller.poll_once(&plain).await.unwrap(), 1);
    let last = &rows(&api, "FR").await[0];
    assert_eq!((last["receive_count"].as_u64(), last["coalesced_requests"].as_u64()), (Some(2), Some(1)), "{last}");
    let next = leads(&api, "FR").await;
    assert_ne!(next, pending);
    stack.drain_bodies(&stack.queue_url).await; // the new one
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    poller.poll_once(&plain).await.unwrap(); // a third receive moves the first to the DLQ
    let dead = stack.drain_bodies(&stack.dlq_url).await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0].contains(&pending), "{dead:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pending_marker_expires_when_its_worker_dies() {
    let stack = Stack::create(30, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[("PENDING_TTL_SECONDS", "4")])).await;
    let worker = stack.worker(&up.url, &[]).await;

    let first = leads(&api, "PE").await;
    joins(&api, "PE", &first).await;
    // The worker that took `first` died: its message waits out the visibility timeout.
    tokio::time::sleep(Duration::from_millis(4_100)).await;
    let second = leads(&api, "PE").await;
    assert_ne!(first, second, "the expired marker no longer blocks the country");

    let bodies = stack.drain_bodies(&stack.queue_url).await;
    assert_eq!(bodies.len(), 2);
    let body_of = |id: &str| bodies.iter().find(|b| b.contains(id)).unwrap().clone();
    // The first request ends late: it must not clear the second's marker.
    assert_eq!(worker.handle(&delivery(&body_of(&first), 1)).await, Disposition::Done);
    joins(&api, "PE", &second).await;
    assert_eq!(worker.handle(&delivery(&body_of(&second), 2)).await, Disposition::Done);
    let outcomes: Vec<(Value, Value)> = rows(&api, "PE").await.iter().map(|r| (r["request_id"].clone(), r["coalesced_requests"].clone())).collect();
    assert_eq!(outcomes, [(json!(second), json!(1)), (json!(first), json!(0))], "the joins are counted where they joined");
    leads(&api, "PE").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn force_is_honoured_once_per_cooldown_and_served_as_normal_within_it() {
    let stack = Stack::create(5, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[("FORCE_COOLDOWN_SECONDS", "2")])).await;
    let worker = stack.worker(&up.url, &[]).await;
    let work = || async { stack.poller().run_until_idle(&worker, 1).await.unwrap() };

    leads(&api, "DE").await;
    work().await;
    let (_, forced) = fetch(&api, "DE?force=true").await;
    assert_eq!((forced["coalesced"].as_bool(), forced["forced"].as_bool()), (Some(false), Some(true)), "{forced}");
    let allowed_at = forced["force_allowed_at"].as_str().unwrap().to_string();
    let allowed_ms = countries::timestamp::parse_millis(&allowed_at).unwrap();
    let wait = allowed_ms - countries::timestamp::now_millis();
    assert!((1_000..=2_000).contains(&wait), "the next forced fetch is allowed 2 s after this one: {allowed_at}");
    work().await;
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), 2, "the forced fetch called the upstream");

    // Within the cooldown: queued as a normal request, so the fresh copy serves it.
    let (status, within) = fetch(&api, "DE?force=true").await;
    assert_eq!((status, within["forced"].as_bool(), within["force_allowed_at"].as_str()), (202, Some(false), Some(allowed_at.as_str())), "{within}");
    work().await;
    assert_eq!(rows(&api, "DE").await[0]["outcome"], "served_from_store");
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), 2, "no upstream call within the cooldown");
    // The cooldown is per country.
    let (_, other) = fetch(&api, "AT?force=true").await;
    assert_eq!(other["forced"], true, "{other}");
    work().await;

    tokio::time::sleep(Duration::from_millis(wait.max(0) as u64 + 50)).await;
    let (_, after) = fetch(&api, "DE?force=true").await;
    assert_eq!(after["forced"], true, "{after}");
    work().await;
    assert_eq!(rows(&api, "DE").await[0]["outcome"], "stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spent_budget_answers_429_and_a_worker_past_the_api_calls_no_upstream() {
    let stack = Stack::create(5, 4).await;
    let up = upstream().await;
    let budget = [("UPSTREAM_MONTHLY_BUDGET", "3"), ("BREAKER_MIN_CALLS", "1")];
    let api = serve_api(stack.api_state(&budget)).await;
    let worker = stack.worker(&up.url, &budget).await;

    // Four distinct countries reach the queue before any is fetched: the api saw an unspent budget.
    let codes = ["AR", "BR", "CL", "DE"];
    for code in codes {
        leads(&api, code).await;
    }
    assert_eq!(stack.poller().run_until_idle(&worker, 1).await.unwrap(), 4, "each handled once: none retried");
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), 3, "three upstream calls, no fourth");
    let mut outcomes = Vec::new();
    for code in codes {
        outcomes.push(rows(&api, code).await[0]["outcome"].as_str().unwrap().to_string());
    }
    outcomes.sort();
    assert_eq!(outcomes, ["budget_exhausted", "stored", "stored", "stored"]);

    // Now the api refuses, queueing nothing, and says when the budget resets.
    let res = http().post(format!("{api}/fetch-data/FR?force=true")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["Code"], "TooManyRequestsError");
    let month = countries::guard::budget_month(countries::timestamp::now_millis());
    let resets = countries::timestamp::format_millis(month.resets_at_ms);
    assert!(body["Message"].as_str().unwrap().ends_with(&format!("resets at {resets}.")), "{body}");
    let until_reset = (month.resets_at_ms - countries::timestamp::now_millis()) as u64 / 1000;
    assert!(retry_after.abs_diff(until_reset) <= 2, "Retry-After {retry_after} vs {until_reset} s to the reset");
    assert!(stack.drain_bodies(&stack.queue_url).await.is_empty(), "nothing queued");
    assert_eq!(rows(&api, "FR").await, Vec::<Value>::new());
    // budget_exhausted never counts against the breaker (it opens after one failure here).
    let breaker = aws_sdk_dynamodb::Client::new(&stack.sdk)
        .get_item()
        .table_name(&stack.breaker_table)
        .key("service_name", aws_sdk_dynamodb::types::AttributeValue::S("restcountries-v3".into()))
        .send()
        .await
        .unwrap();
    let failures = breaker.item.as_ref().and_then(|i| i.get("failures")).and_then(|v| v.as_n().ok()).cloned();
    assert_eq!(failures.as_deref(), Some("0"), "{breaker:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_spenders_of_the_last_unit_spend_it_once() {
    let stack = Stack::create(5, 4).await;
    let budget = DynamoBudget::new(aws_sdk_dynamodb::Client::new(&stack.sdk), &stack.status_table);
    for round in 0..12u32 {
        let month = format!("race-{round}");
        let limit = 1 + round % 4;
        for _ in 1..limit {
            assert!(budget.spend(&month, limit).await.unwrap().is_some());
        }
        let racers: Vec<_> = (0..8)
            .map(|_| {
                let (budget, month) = (budget.clone(), month.clone());
                tokio::spawn(async move { budget.spend(&month, limit).await.unwrap() })
            })
            .collect();
        let mut won = Vec::new();
        for racer in racers {
            won.extend(racer.await.unwrap());
        }
        assert_eq!(won, [u64::from(limit)], "round {round}: one of 8 racers took the last unit");
        assert_eq!(budget.used(&month).await.unwrap(), u64::from(limit), "round {round}");
    }

    // Two worker processes' worth (own clients) racing for a budget of 1.
    let up = upstream().await;
    let one = [("UPSTREAM_MONTHLY_BUDGET", "1")];
    let (a, b) = (stack.worker(&up.url, &one).await, stack.worker(&up.url, &one).await);
    let body = |code: &str| json!({"code": code, "request_id": format!("race-{code}"), "requested_at": ""}).to_string();
    let (da, db) = (delivery(&body("IT"), 1), delivery(&body("ES"), 2));
    let (ra, rb) = tokio::join!(a.handle(&da), b.handle(&db));
    assert_eq!((ra, rb), (Disposition::Done, Disposition::Done));
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), 1, "one upstream call between them");
    let month = countries::guard::budget_month(countries::timestamp::now_millis());
    assert_eq!(budget.used(&month.key).await.unwrap(), 1);
}
