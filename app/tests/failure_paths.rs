//! What happens when the upstream or storage fails (DESIGN §2.2): every
//! attempt leaves a status row; permanent failures are done, transient
//! ones are reported as batch item failures and retried by SQS.

use crate::support;

use countries::worker::{Delivery, Disposition, lambda};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use support::{Stack, get_json, http, serve_api, sqs_batch, upstream};

fn delivery(code: &str, request_id: &str, receive_count: u32) -> Delivery {
    Delivery {
        message_id: format!("m-{request_id}"),
        body: json!({"code": code, "request_id": request_id, "requested_at": "2026-11-28T00:00:00.000Z"}).to_string(),
        receive_count,
        trace_header: None,
    }
}

async fn status(api: &str, code: &str) -> Vec<Value> {
    get_json(format!("{api}/status/{code}?limit=100")).await.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_country_is_a_recorded_permanent_failure_not_retried() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[])).await;
    let worker = stack.worker(&up.url, &[("BREAKER_MIN_CALLS", "1")]).await;
    let res = http()
        .post(format!("{api}/fetch-data/ZZ"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(
        stack.poller().run_until_idle(&worker, 2).await.unwrap(),
        1,
        "handled once, not retried"
    );
    let attempts = status(&api, "ZZ").await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["success"], false);
    assert_eq!(attempts[0]["outcome"], "not_found");
    assert!(
        attempts[0]["error"]
            .as_str()
            .unwrap()
            .contains("no country ZZ")
    );
    // A 404 never counts against the breaker, even when one failed call would open it.
    let pe = worker.handle(&delivery("PE", "r-pe", 1)).await;
    assert_eq!(pe, Disposition::Done);
    assert!(stack.drain_bodies(&stack.dlq_url).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_500_and_timeout_are_recorded_and_retried() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[])).await;
    let worker = stack
        .worker(&up.url, &[("UPSTREAM_TIMEOUT_MS", "200")])
        .await;

    up.faults.set(1000, 0);
    let retry = worker
        .handle_batch(vec![delivery("FR", "r-500", 1), delivery("ZZ", "r-zz", 1)])
        .await;
    // ZZ is never reached by 404 here: the upstream answers 500 to everything.
    assert_eq!(retry.len(), 2);
    let fr = status(&api, "FR").await;
    assert_eq!(
        (fr[0]["outcome"].as_str(), fr[0]["success"].as_bool()),
        (Some("upstream_error"), Some(false))
    );
    assert!(
        fr[0]["error"].as_str().unwrap().contains("HTTP 500"),
        "{}",
        fr[0]["error"]
    );

    up.faults.set(0, 1000);
    up.faults.stall_ms.store(2_000, Ordering::SeqCst);
    let retry = worker.handle_batch(vec![delivery("IT", "r-slow", 1)]).await;
    assert_eq!(retry, vec!["m-r-slow".to_string()]);
    let it = status(&api, "IT").await;
    assert_eq!(it[0]["outcome"], "upstream_error");
    assert!(
        it[0]["error"].as_str().unwrap().contains("timed out"),
        "{}",
        it[0]["error"]
    );
    assert!(
        it[0]["duration_ms"].as_u64().unwrap() < 1_500,
        "the timeout bounds the attempt"
    );

    // Healed upstream: the retry stores the country; both attempts are kept.
    up.faults.set(0, 0);
    assert_eq!(
        worker.handle(&delivery("IT", "r-slow", 2)).await,
        Disposition::Done
    );
    let it = status(&api, "IT").await;
    assert_eq!(it.len(), 2);
    assert_eq!(it[0]["outcome"], "stored");
    assert_eq!(it[0]["receive_count"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn retried_messages_end_in_the_dead_letter_queue() {
    let stack = Stack::create(1, 2).await;
    let up = upstream().await;
    let worker = stack
        .worker(&up.url, &[("BREAKER_MIN_CALLS", "1000")])
        .await;
    up.faults.set(1000, 0);
    let api = serve_api(stack.api_state(&[])).await;
    http()
        .post(format!("{api}/fetch-data/CL"))
        .send()
        .await
        .unwrap();
    let poller = stack.poller();
    // Two deliveries fail; the third receive moves it to the DLQ.
    for _ in 0..6 {
        poller.poll_once(&worker).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let dead = stack.drain_bodies(&stack.dlq_url).await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0].contains("\"CL\""));
    assert_eq!(
        status(&api, "CL").await.len(),
        2,
        "one status row per delivery"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_failure_retries_and_the_retry_is_harmless() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    // The countries table is missing: the fetch succeeds but cannot be stored.
    let broken = stack
        .worker(&up.url, &[("COUNTRIES_TABLE", "no-such-table")])
        .await;
    assert_eq!(
        broken.handle(&delivery("JP", "r-jp", 1)).await,
        Disposition::Retry
    );
    let api = serve_api(stack.api_state(&[])).await;
    let jp = status(&api, "JP").await;
    assert_eq!(jp[0]["outcome"], "storage_error");

    // The status table is missing: the country is stored, the attempt cannot be recorded.
    let no_status = stack
        .worker(&up.url, &[("STATUS_TABLE", "no-such-table")])
        .await;
    assert_eq!(
        no_status.handle(&delivery("JP", "r-jp", 2)).await,
        Disposition::Retry
    );
    // The redelivery finds the fresh copy and finishes without another upstream call.
    let calls = up.faults.requests.load(Ordering::SeqCst);
    let healthy = stack.worker(&up.url, &[]).await;
    assert_eq!(
        healthy.handle(&delivery("JP", "r-jp", 3)).await,
        Disposition::Done
    );
    assert_eq!(up.faults.requests.load(Ordering::SeqCst), calls);
    let jp = status(&api, "JP").await;
    assert_eq!(jp[0]["outcome"], "served_from_store");
    let view = http()
        .get(format!("{api}/view-data/JP"))
        .send()
        .await
        .unwrap();
    assert_eq!(view.status().as_u16(), 200);
    // A further duplicate delivery of the finished request changes nothing.
    assert_eq!(
        healthy.handle(&delivery("JP", "r-jp", 4)).await,
        Disposition::Done
    );
    assert_eq!(status(&api, "JP").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_messages_are_left_for_the_dead_letter_queue() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    let worker = stack.worker(&up.url, &[]).await;
    for body in ["{not json", "\"P1\"", ""] {
        let d = Delivery {
            message_id: "m".into(),
            body: body.into(),
            receive_count: 1,
            trace_header: None,
        };
        assert_eq!(worker.handle(&d).await, Disposition::Retry, "{body:?}");
    }
    // The old app's bare code still works.
    let bare = Delivery {
        message_id: "m-bare".into(),
        body: "\"PY\"".into(),
        receive_count: 1,
        trace_header: None,
    };
    assert_eq!(worker.handle(&bare).await, Disposition::Done);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lambda_handler_retries_only_the_malformed_record() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    let worker = stack.worker(&up.url, &[]).await;
    let answer = lambda::handle(
        &worker,
        LambdaEvent::new(sqs_batch::event(), Context::default()),
    )
    .await;
    let answer = serde_json::to_value(answer).unwrap();
    println!("batch response: {answer}");
    assert_eq!(answer, sqs_batch::expected_response());
    sqs_batch::assert_handled(&stack).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_id_reused_for_another_country_is_another_request() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[])).await;
    let worker = stack.worker(&up.url, &[]).await;
    // A producer other than the api reuses one id (or sends none) for two countries: both are fetched.
    assert_eq!(
        worker.handle(&delivery("PE", "same", 1)).await,
        Disposition::Done
    );
    assert_eq!(
        worker.handle(&delivery("EC", "same", 1)).await,
        Disposition::Done
    );
    for code in ["PE", "EC"] {
        let rows = status(&api, code).await;
        assert_eq!(rows.len(), 1, "{code}: {rows:?}");
        assert_eq!(rows[0]["outcome"], "stored", "{code}");
    }
    // The same id for the same country is a duplicate delivery: nothing more happens.
    assert_eq!(
        worker.handle(&delivery("PE", "same", 2)).await,
        Disposition::Done
    );
    assert_eq!(status(&api, "PE").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_and_redirecting_upstream_answers() {
    use axum::response::{IntoResponse, Redirect};
    // A misbehaving upstream: a 30 MB "country" for BD, a redirect for CL.
    let app = axum::Router::new()
        .route(
            "/v3.1/alpha/BD",
            axum::routing::get(|| async {
                format!(r#"[{{"cca2":"BD","pad":"{}"}}]"#, "P".repeat(30 << 20))
            }),
        )
        .route(
            "/v3.1/alpha/CL",
            axum::routing::get(|| async {
                Redirect::temporary("http://127.0.0.1:9/v3.1/alpha/CL").into_response()
            }),
        )
        .route(
            "/v3.1/alpha/GH",
            axum::routing::get(|| async {
                (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "x".repeat(1 << 20),
                )
                    .into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let stack = Stack::create(1, 4).await;
    let api = serve_api(stack.api_state(&[])).await;
    let worker = stack.worker(&url, &[]).await;
    for (code, says) in [
        ("BD", "is over 256 KiB"),
        ("CL", "redirects are not followed"),
    ] {
        assert_eq!(
            worker
                .handle(&delivery(code, &format!("r-{code}"), 1))
                .await,
            Disposition::Done,
            "{code}"
        );
        let rows = status(&api, code).await;
        assert_eq!(rows[0]["outcome"], "malformed", "{code}: {rows:?}");
        assert!(
            rows[0]["error"].as_str().unwrap().contains(says),
            "{code}: {}",
            rows[0]["error"]
        );
    }
    let view = http()
        .get(format!("{api}/view-data/BD"))
        .send()
        .await
        .unwrap();
    assert_eq!(view.status().as_u16(), 404, "nothing was stored");
    // A huge error page is still the transient 503 it says it is.
    assert_eq!(
        worker.handle(&delivery("GH", "r-GH", 1)).await,
        Disposition::Retry
    );
    assert_eq!(status(&api, "GH").await[0]["outcome"], "upstream_error");
}

/// The v5 key from SSM Parameter Store: a SecureString put by boto3 (another
/// client) is read back through the worker's signed GetParameter; a missing
/// one is an error that names the parameter and SSM's code.
#[tokio::test(flavor = "multi_thread")]
async fn the_v5_key_is_read_from_an_ssm_secure_string() {
    use countries::config::KeySource;
    use countries::upstream::key::resolve;
    let sdk = support::sdk().await;
    let name = format!("/countries/test/key-{}", uuid::Uuid::new_v4());
    let python = testkit::moto_server_path().with_file_name("python");
    let put = std::process::Command::new(&python)
        .args(["-c", "import boto3, sys; boto3.client('ssm', endpoint_url=sys.argv[1], region_name='us-east-1', \
            aws_access_key_id='testing', aws_secret_access_key='testing').put_parameter(Name=sys.argv[2], Value='k-123', Type='SecureString')"])
        .args([&testkit::moto().endpoint, &name])
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(put.success(), "boto3 put_parameter failed");

    let key = resolve(&KeySource::Parameter(name.clone()), &sdk).await.expect("the key resolves");
    assert_eq!(key.as_deref(), Some("k-123"));

    let missing = format!("{name}-missing");
    let err = resolve(&KeySource::Parameter(missing.clone()), &sdk).await.expect_err("a missing parameter fails").to_string();
    assert!(err.contains(&missing) && err.contains("ParameterNotFound"), "{err}");
}

