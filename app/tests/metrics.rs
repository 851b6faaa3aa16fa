//! Metrics and trace ids, in process against moto and the offline upstream:
//! one metrics line per api request and per worker batch, with the counts of
//! what happened; the X-Ray trace of the api call travels through SQS
//! (`AWSTraceHeader`) to the worker and into the status row.

use crate::support;

use countries::metrics::{Function, Metrics};
use countries::worker::{Delivery, Disposition, lambda};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Stack, get_json, http, serve_api, sqs_batch, upstream};

const TRACE: &str = "Root=1-6750f0a1-5b8c2d1e9f0a4b3c2d1e0f9a;Parent=53995c3f42cd8ad8;Sampled=1";
const TRACE_ID: &str = "1-6750f0a1-5b8c2d1e9f0a4b3c2d1e0f9a";

fn lines(memory: &Arc<Mutex<Vec<String>>>) -> Vec<Value> {
    memory.lock().unwrap().iter().map(|l| serde_json::from_str(l).expect("a metrics line is JSON")).collect()
}

/// The metric names a line defines in its directive, with their values.
fn values(line: &Value) -> Vec<(String, Value)> {
    line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let name = m["Name"].as_str().unwrap().to_string();
            (name.clone(), line[&name].clone())
        })
        .collect()
}

fn names(line: &Value) -> Vec<String> {
    values(line).into_iter().map(|(n, _)| n).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_line_per_request_and_the_trace_reaches_the_status_row() {
    let stack = Stack::create(30, 4).await;
    let up = upstream().await;
    let (api_metrics, api_lines) = Metrics::memory("test", Function::Api);
    let mut state = stack.api_state(&[]);
    state.metrics = api_metrics;
    let api = serve_api(state).await;
    let mut worker = stack.worker(&up.url, &[]).await;
    let (worker_metrics, worker_lines) = Metrics::memory("test", Function::Worker);
    worker.metrics = worker_metrics;

    let res = http().post(format!("{api}/fetch-data/PY")).header("X-Amzn-Trace-Id", TRACE).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(stack.poller().run_until_idle(&worker, 2).await.unwrap(), 1);

    // The status row carries the trace id of the call that queued it.
    let rows = get_json(format!("{api}/status/PY")).await;
    assert_eq!(rows[0]["outcome"], "stored");
    assert_eq!(rows[0]["trace_id"], TRACE_ID, "{rows}");

    // The worker wrote one line for its batch of one.
    let worker_lines = lines(&worker_lines);
    assert_eq!(worker_lines.len(), 1, "{worker_lines:?}");
    let batch = &worker_lines[0];
    assert_eq!((batch["Stage"].as_str(), batch["Function"].as_str()), (Some("test"), Some("worker")));
    assert_eq!(names(batch), ["FetchStored", "UpstreamLatency"]);
    assert_eq!(batch["FetchStored"], 1);
    assert_eq!(batch["UpstreamLatency"].as_array().unwrap().len(), 1);
    assert_eq!(batch["messages"], 1);

    // view-data twice: a miss, then a hit; a bad code counts as a 4xx.
    for _ in 0..2 {
        assert_eq!(http().get(format!("{api}/view-data/PY")).send().await.unwrap().status().as_u16(), 200);
    }
    assert_eq!(http().get(format!("{api}/view-data/P1")).send().await.unwrap().status().as_u16(), 400);
    let api_lines = lines(&api_lines);
    // fetch-data, status, three view-data: one line each (the status read is this test's own).
    assert_eq!(api_lines.len(), 5, "{api_lines:?}");
    let fetch = &api_lines[0];
    assert_eq!(values(fetch), [("RequestsFetchData".to_string(), json!(1)), ("Responses2xx".to_string(), json!(1))]);
    assert_eq!((fetch["route"].as_str(), fetch["status"].as_u64()), (Some("fetch-data"), Some(202)));
    assert_eq!(fetch["trace_id"], TRACE_ID);
    assert_eq!(names(&api_lines[1]), ["RequestsStatus", "Responses2xx"]);
    assert!(api_lines[1].get("trace_id").is_none(), "no header, no trace id");
    assert_eq!(names(&api_lines[2]), ["RequestsViewData", "Responses2xx", "ViewCacheMisses", "ViewDataLatency"]);
    assert_eq!(names(&api_lines[3]), ["RequestsViewData", "Responses2xx", "ViewCacheHits", "ViewDataLatency"]);
    assert_eq!(names(&api_lines[4]), ["RequestsViewData", "Responses4xx", "ViewDataLatency"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lambda_batch_writes_one_line_with_its_counts() {
    let stack = Stack::create(30, 4).await;
    let up = upstream().await;
    let mut worker = stack.worker(&up.url, &[]).await;
    let (metrics, memory) = Metrics::memory("test", Function::Worker);
    worker.metrics = metrics;
    let mut event = sqs_batch::event();
    event.records[0].attributes.insert("AWSTraceHeader".into(), TRACE.into());
    let response = lambda::handle(&worker, LambdaEvent::new(event, Context::default())).await;
    assert_eq!(serde_json::to_value(response).unwrap(), sqs_batch::expected_response());

    let lines = lines(&memory);
    assert_eq!(lines.len(), 1, "one line for the batch: {lines:?}");
    let line = &lines[0];
    // PY and the legacy NO stored, ZZ not found, the malformed record no outcome.
    assert_eq!(names(line), ["FetchStored", "FetchNotFound", "UpstreamLatency"]);
    assert_eq!((line["FetchStored"].clone(), line["FetchNotFound"].clone()), (json!(2), json!(1)));
    assert_eq!(line["UpstreamLatency"].as_array().unwrap().len(), 3);
    assert_eq!(line["messages"], 4);
    let api = serve_api(stack.api_state(&[])).await;
    assert_eq!(get_json(format!("{api}/status/PY")).await[0]["trace_id"], TRACE_ID);
    assert!(get_json(format!("{api}/status/ZZ")).await[0].get("trace_id").is_none());
}

fn delivery(code: &str, n: usize) -> Delivery {
    Delivery {
        message_id: format!("m-{n}"),
        body: json!({"code": code, "request_id": format!("r-{n}"), "requested_at": ""}).to_string(),
        receive_count: 1,
        trace_header: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn breaker_transitions_are_counted() {
    let stack = Stack::create(1, 4).await;
    let up = upstream().await;
    let mut worker = stack.worker(&up.url, &[("BREAKER_MIN_CALLS", "2"), ("BREAKER_WINDOW_SECONDS", "1")]).await;
    let (metrics, memory) = Metrics::memory("test", Function::Worker);
    worker.metrics = metrics;
    up.faults.set(1000, 0);
    for n in 0..3 {
        assert_eq!(worker.handle(&delivery("FR", n)).await, Disposition::Retry);
    }
    up.faults.set(0, 0);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(worker.handle(&delivery("FR", 3)).await, Disposition::Done);

    let lines = lines(&memory);
    let per_call: Vec<Vec<String>> = lines.iter().map(names).collect();
    assert_eq!(
        per_call,
        [
            vec!["FetchUpstreamError", "UpstreamLatency"],
            vec!["FetchUpstreamError", "UpstreamLatency", "BreakerOpened"],
            vec!["FetchCircuitOpen"],
            vec!["FetchStored", "UpstreamLatency", "BreakerClosed", "BreakerTrial"],
        ]
    );
}
