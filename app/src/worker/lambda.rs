//! The worker inside Lambda: an SQS event in, partial batch failures out
//! (the event source mapping has `ReportBatchItemFailures`).

use super::{Delivery, Worker};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};

/// Turns an SQS event into deliveries.
pub fn deliveries(event: SqsEvent) -> Vec<Delivery> {
    event
        .records
        .into_iter()
        .map(|record| Delivery {
            receive_count: record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1),
            trace_header: record.attributes.get("AWSTraceHeader").cloned(),
            message_id: record.message_id.unwrap_or_default(),
            body: record.body.unwrap_or_default(),
        })
        .collect()
}

/// Builds the batch response from the ids to retry.
pub fn response(retry: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = retry
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// Handles one SQS event: every record goes through the per-message flow,
/// and the ones to retry come back as `batchItemFailures`. Named (rather
/// than a closure inside [`run`]) so tests can call it with
/// `Context::default()` and no Lambda runtime.
pub async fn handle(worker: &Worker, event: LambdaEvent<SqsEvent>) -> SqsBatchResponse {
    response(worker.handle_batch(deliveries(event.payload)).await)
}

/// Runs the Lambda runtime loop until the sandbox is shut down: a thin
/// wrapper that hands each event to [`handle`].
pub async fn run(worker: Worker) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move { Ok::<_, lambda_runtime::Error>(handle(&worker, event).await) }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_real_sqs_event_and_answers_partial_failures() {
        let event: SqsEvent = serde_json::from_value(serde_json::json!({"Records": [{
            "messageId": "m-1", "receiptHandle": "h", "body": "{\"code\":\"PY\",\"request_id\":\"r\",\"requested_at\":\"t\"}",
            "attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1", "SenderId": "s", "ApproximateFirstReceiveTimestamp": "1"},
            "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"
        }]}))
        .unwrap();
        let d = deliveries(event);
        assert_eq!((d[0].message_id.as_str(), d[0].receive_count), ("m-1", 3));
        let json = serde_json::to_value(response(vec!["m-1".into()])).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]})
        );
    }
}
