//! One SQS event that exercises every way a record can go: a good message,
//! a malformed one, a country the upstream does not have and the old app's
//! bare `"NO"` body. The worker's named Lambda handler (in process), the
//! worker binary under the Runtime API emulator and the contract checks'
//! seed all use it, so they agree on what was handled.

use super::{Stack, http, serve_api};
use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::{Value, json};

/// The good message: a fetch request for PY.
pub const GOOD: &str = "m-good-py";
/// A body no producer could mean: left for the dead-letter queue.
pub const MALFORMED: &str = "m-malformed";
/// A well-formed request for a country the upstream does not have.
pub const NOT_FOUND: &str = "m-not-found-zz";
/// The legacy producer's bare country code.
pub const LEGACY: &str = "m-legacy-no";
/// The request id the good message carries (it shows up in PY's status row).
pub const GOOD_REQUEST_ID: &str = "r-lambda-batch-py";

fn record(message_id: &str, body: &str) -> Value {
    json!({
        "messageId": message_id,
        "receiptHandle": format!("handle-{message_id}"),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1764300000000",
            "SenderId": "123456789012",
            "ApproximateFirstReceiveTimestamp": "1764300000001"
        },
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:countries-fetch-test",
        "awsRegion": "us-east-1"
    })
}

/// The event as Lambda delivers it (the JSON a direct invocation posts).
pub fn event_json() -> Value {
    let request = |code: &str, id: &str| {
        json!({"code": code, "request_id": id, "requested_at": "2026-11-28T00:00:00.000Z"})
            .to_string()
    };
    json!({"Records": [
        record(GOOD, &request("PY", GOOD_REQUEST_ID)),
        record(MALFORMED, "{not json"),
        record(NOT_FOUND, &request("ZZ", "r-lambda-batch-zz")),
        record(LEGACY, "\"NO\""),
    ]})
}

/// The event, typed as the worker's handler receives it.
pub fn event() -> SqsEvent {
    serde_json::from_value(event_json()).expect("the SQS event deserialises")
}

/// The batch response the worker must answer: only the malformed record is retried.
pub fn expected_response() -> Value {
    json!({"batchItemFailures": [{"itemIdentifier": MALFORMED}]})
}

/// Checks, through an in-process api on the same tables, that the batch
/// left what it should: PY and NO stored, ZZ recorded as not found, and
/// nothing recorded for the malformed record (it has no country).
pub async fn assert_handled(stack: &Stack) {
    let api = serve_api(stack.api_state(&[])).await;
    let client = http();
    let status = |code: &'static str| {
        let api = api.clone();
        async move {
            let body: Value = super::get_json(format!("{api}/status/{code}?limit=10")).await;
            body.as_array()
                .cloned()
                .unwrap_or_else(|| panic!("status/{code}: {body}"))
        }
    };
    for (code, name, outcome) in [("PY", "Paraguay", "stored"), ("NO", "Norway", "stored")] {
        let rows = status(code).await;
        assert_eq!(rows.len(), 1, "{code}: {rows:?}");
        assert_eq!(
            (rows[0]["outcome"].as_str(), rows[0]["success"].as_bool()),
            (Some(outcome), Some(true)),
            "{code}"
        );
        let res = client
            .get(format!("{api}/view-data/{code}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{code} was not stored");
        let country: Value = res.json().await.unwrap();
        assert_eq!(country["name"]["common"], name);
    }
    assert_eq!(status("PY").await[0]["request_id"], GOOD_REQUEST_ID);
    let zz = status("ZZ").await;
    assert_eq!(zz.len(), 1, "{zz:?}");
    assert_eq!(
        (zz[0]["outcome"].as_str(), zz[0]["success"].as_bool()),
        (Some("not_found"), Some(false))
    );
    assert_eq!(
        client
            .get(format!("{api}/view-data/ZZ"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
}
