//! The HTTP contract of DESIGN §2.1, end to end: api → SQS → worker →
//! DynamoDB → api, against moto and the offline upstream over real HTTP.
//! The request → answer checks are `support::contract`'s list, which
//! `lambda_runtime.rs` runs over the Lambda Function URL path too.

use crate::support;

use countries::worker::lambda;
use reqwest::StatusCode;
use serde_json::Value;
use support::{Stack, contract, get_json, http, serve_api, sqs_batch, upstream};

#[tokio::test(flavor = "multi_thread")]
async fn fetch_then_view_then_status() {
    let stack = Stack::create(2, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[])).await;
    let worker = stack.worker(&up.url, &[]).await;
    let client = http();

    // Never fetched: 404 in the seed's shape, and an empty status.
    let res = client
        .get(format!("{api}/view-data/py"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["Code"], "NotFoundError");
    assert!(body["Message"].as_str().unwrap().contains("/fetch-data/PY"));
    let status: Value = get_json(format!("{api}/status/PY")).await;
    assert_eq!(status, serde_json::json!([]));

    // Queue, work, view.
    let res = client
        .post(format!("{api}/fetch-data/py/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let queued: Value = res.json().await.unwrap();
    assert_eq!(
        queued["message"],
        "fetch data request for country (PY) successfully queued."
    );
    let request_id = queued["request_id"].as_str().unwrap().to_string();
    assert_eq!(stack.poller().run_until_idle(&worker, 1).await.unwrap(), 1);

    // The document, its validators and conditional GETs: see support::contract.
    let country: Value = get_json(format!("{api}/view-data/PY/")).await;
    assert_eq!(country["name"]["common"], "Paraguay");

    // Status: the attempt, carrying the request id from the api.
    let status: Value = get_json(format!("{api}/status/py")).await;
    let attempts = status.as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["fetched_country"], "PY");
    assert_eq!(attempts[0]["success"], true);
    assert_eq!(attempts[0]["error"], "");
    assert_eq!(attempts[0]["outcome"], "stored");
    assert_eq!(attempts[0]["request_id"], request_id.as_str());
    assert!(attempts[0]["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_is_newest_first_with_a_limit_and_refetch_is_guarded() {
    let stack = Stack::create(2, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[])).await;
    let worker = stack.worker(&up.url, &[]).await;
    let mut ids = Vec::new();
    for force in ["", "?force=true", ""] {
        let queued: Value = get_json(format!("{api}/fetch-data/DE{force}")).await;
        ids.push(queued["request_id"].as_str().unwrap().to_string());
        stack.poller().run_until_idle(&worker, 1).await.unwrap();
    }
    let status: Value = get_json(format!("{api}/status/de?limit=10")).await;
    let attempts = status.as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    let seen: Vec<&str> = attempts
        .iter()
        .map(|a| a["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        seen,
        [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()],
        "newest first"
    );
    let outcomes: Vec<&str> = attempts
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    // The third, unforced request found a fresh copy: no upstream call.
    assert_eq!(outcomes, ["served_from_store", "stored", "stored"]);
    assert_eq!(
        up.faults.requests.load(std::sync::atomic::Ordering::SeqCst),
        2
    );

    let two: Value = get_json(format!("{api}/status/DE/?limit=2")).await;
    assert_eq!(two.as_array().unwrap().len(), 2);
    let default: Value = get_json(format!("{api}/status/DE")).await;
    assert_eq!(default.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_contract_holds_over_the_local_server() {
    let stack = Stack::create(2, 4).await;
    let up = upstream().await;
    let worker = stack.worker(&up.url, &[]).await;
    // The same seed as over the Lambda path: the batch, through the named handler.
    let event =
        lambda_runtime::LambdaEvent::new(sqs_batch::event(), lambda_runtime::Context::default());
    lambda::handle(&worker, event).await;
    let api = serve_api(stack.api_state(&[])).await;
    let checks = contract::checks();
    let report = contract::run(&api, &checks).await;
    println!(
        "local server: {} of {} contract checks passed",
        report.passed,
        checks.len()
    );
    assert!(
        report.failures.is_empty(),
        "{} contract checks failed:\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
    // Only the 202s queued anything: every 400, 404 and 405 came before any queue.
    assert_eq!(
        stack.drain_bodies(&stack.queue_url).await.len(),
        contract::queued_by(&checks)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_dependencies_give_5xx_in_the_seed_shape() {
    let stack = Stack::create(2, 4).await;
    let broken = stack.api_state(&[
        ("COUNTRIES_TABLE", "no-such-table"),
        ("STATUS_TABLE", "no-such-table"),
        (
            "QUEUE_URL",
            &format!("{}/123456789012/no-such-queue", testkit::moto().endpoint),
        ),
    ]);
    let api = serve_api(broken).await;
    let client = http();
    for (path, method, code) in [
        ("/view-data/PY", "GET", "GetCountryFailure"),
        ("/status/PY", "GET", "GetStatusFailure"),
        ("/fetch-data/PY", "POST", "QueueSendMessageFailure"),
    ] {
        let res = client
            .request(method.parse().unwrap(), format!("{api}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["Code"], code);
        let message = body["Message"].as_str().unwrap();
        assert!(
            !message.contains("127.0.0.1") && !message.contains("no-such"),
            "internals leaked: {message}"
        );
    }
}
