//! The signed JSON client (`deployer::aws::json`) against a local HTTP server
//! that answers what AWS answers: the SigV4 header it must send, throttling
//! it must retry, and refusals it must not. Its calls against moto (logs,
//! secrets) are in logs.rs and pr_comment.rs; recorded Lambda answers in
//! concurrency.rs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use deployer::aws::json::{CallError, JsonClient, LAMBDA, LOGS, Request, regional_endpoint, service_error};
use deployer::error::AwsKind;
use serde_json::{Value, json};

use crate::common;

/// A server answering each request with the next of `answers` (the last one
/// repeats), recording each request's headers.
fn server(answers: Vec<(u16, &'static str, Value)>) -> (String, Arc<Mutex<Vec<HeaderMap>>>) {
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let record = seen.clone();
    std::thread::spawn(move || {
        common::runtime().block_on(async move {
            let app = axum::Router::new().fallback(move |headers: HeaderMap| {
                let record = record.clone();
                let answers = answers.clone();
                async move {
                    let n = {
                        let mut r = record.lock().unwrap();
                        r.push(headers);
                        r.len()
                    };
                    let (status, error_type, body) = answers[(n - 1).min(answers.len() - 1)].clone();
                    let mut reply = axum::http::Response::builder().status(StatusCode::from_u16(status).unwrap());
                    if !error_type.is_empty() {
                        reply = reply.header("x-amzn-ErrorType", error_type);
                    }
                    reply.body(axum::body::Body::from(body.to_string())).unwrap()
                }
            });
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    (endpoint, seen)
}

fn call(
    service: &'static deployer::aws::json::Service,
    endpoint: &str,
    request: Request<'_>,
) -> Result<Value, CallError> {
    common::runtime().block_on(async {
        let config = common::sdk(endpoint).await;
        JsonClient::new(service, &config).with_backoff(Duration::from_millis(20)).call(request).await
    })
}

#[test]
fn calls_are_signed_for_the_service_with_the_target_among_the_signed_headers() {
    let (endpoint, seen) = server(vec![(200, "", json!({"events": []}))]);
    let out =
        call(&LOGS, &endpoint, Request::Operation { name: "FilterLogEvents", body: json!({"logGroupName": "g"}) })
            .expect("call");
    assert_eq!(out, json!({"events": []}));
    let seen = seen.lock().unwrap();
    let headers = &seen[0];
    assert_eq!(headers["x-amz-target"], "Logs_20140328.FilterLogEvents");
    assert_eq!(headers["content-type"], "application/x-amz-json-1.1");
    let auth = headers["authorization"].to_str().unwrap();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=testing/"), "{auth}");
    assert!(auth.contains("/us-east-1/logs/aws4_request"), "{auth}");
    let signed = auth.split("SignedHeaders=").nth(1).unwrap().split(',').next().unwrap();
    assert!(signed.split(';').any(|h| h == "x-amz-target"), "{auth}");
    assert!(headers.contains_key("x-amz-date"));
}

#[test]
fn throttling_is_retried_and_then_served() {
    let throttled = (400, "ThrottlingException", json!({"message": "Rate exceeded"}));
    let (endpoint, seen) =
        server(vec![throttled.clone(), throttled, (200, "", json!({"AccountLimit": {"ConcurrentExecutions": 1000}}))]);
    let out = call(&LAMBDA, &endpoint, Request::Get { path: "/2016-08-19/account-settings" })
        .expect("served on the third attempt");
    assert_eq!(out["AccountLimit"]["ConcurrentExecutions"], 1000);
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn a_refusal_is_not_retried_and_says_what_is_missing() {
    let (endpoint, seen) = server(vec![(
        403,
        "AccessDeniedException:http://internal.amazon.com/coral/",
        json!({"Type": "User", "Message": "not authorized to perform: lambda:GetAccountSettings"}),
    )]);
    let err = call(&LAMBDA, &endpoint, Request::Get { path: "/2016-08-19/account-settings" }).unwrap_err();
    assert_eq!(err.kind(), AwsKind::AccessDenied);
    assert_eq!(err.to_string(), "AccessDeniedException: not authorized to perform: lambda:GetAccountSettings");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn throttling_that_persists_fails_after_three_attempts() {
    let (endpoint, seen) = server(vec![(429, "TooManyRequestsException", json!({"message": "slow down"}))]);
    let err = call(&LAMBDA, &endpoint, Request::Get { path: "/2016-08-19/account-settings" }).unwrap_err();
    assert_eq!(err.code(), Some("TooManyRequestsException"));
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn no_listener_is_a_network_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = call(
        &LOGS,
        &format!("http://127.0.0.1:{port}"),
        Request::Operation { name: "FilterLogEvents", body: json!({}) },
    )
    .unwrap_err();
    assert_eq!(err.kind(), AwsKind::Network, "{err}");
}

/// Counts how often credentials are asked for; they expire in `lifetime`.
#[derive(Debug)]
struct Counting {
    asked: Arc<Mutex<u32>>,
    lifetime: Duration,
}

impl aws_credential_types::provider::ProvideCredentials for Counting {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        *self.asked.lock().unwrap() += 1;
        let expiry = std::time::SystemTime::now() + self.lifetime;
        aws_credential_types::provider::future::ProvideCredentials::ready(Ok(aws_credential_types::Credentials::new(
            "testing",
            "testing",
            None,
            Some(expiry),
            "counting",
        )))
    }
}

#[test]
fn credentials_are_reused_until_five_minutes_before_they_expire() {
    let (endpoint, seen) = server(vec![(200, "", json!({}))]);
    for (lifetime, expected) in [(Duration::from_secs(3600), 1), (Duration::from_secs(60), 3)] {
        let asked: Arc<Mutex<u32>> = Arc::default();
        common::runtime().block_on(async {
            let config = aws_config::SdkConfig::builder()
                .region(aws_config::Region::new("us-east-1"))
                .endpoint_url(&endpoint)
                .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(Counting {
                    asked: asked.clone(),
                    lifetime,
                }))
                .build();
            let client = JsonClient::new(&LOGS, &config);
            for _ in 0..3 {
                let _: Value =
                    client.call(Request::Operation { name: "DescribeLogGroups", body: json!({}) }).await.expect("call");
            }
        });
        assert_eq!(*asked.lock().unwrap(), expected, "credentials living {lifetime:?}");
    }
    assert_eq!(seen.lock().unwrap().len(), 6);
}

#[test]
fn regional_endpoints_follow_the_partition() {
    assert_eq!(
        regional_endpoint("logs", "eu-west-1", false, false).as_deref(),
        Some("https://logs.eu-west-1.amazonaws.com")
    );
    assert_eq!(
        regional_endpoint("lambda", "us-gov-west-1", true, false).as_deref(),
        Some("https://lambda-fips.us-gov-west-1.amazonaws.com")
    );
    assert_eq!(
        regional_endpoint("logs", "cn-north-1", false, false).as_deref(),
        Some("https://logs.cn-north-1.amazonaws.com.cn")
    );
    assert_eq!(
        regional_endpoint("lambda", "us-east-1", false, true).as_deref(),
        Some("https://lambda.us-east-1.api.aws")
    );
    assert_eq!(regional_endpoint("logs", "us-iso-east-1", false, false), None);
}

#[test]
fn error_codes_lose_their_namespace_and_url() {
    let e = service_error(400, None, br#"{"__type":"com.amazonaws.logs#ResourceNotFoundException","message":"gone"}"#);
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        (Some("ResourceNotFoundException"), "ResourceNotFoundException: gone")
    );
    let e = service_error(403, Some("AccessDeniedException:http://internal.amazon.com/"), br#"{"Message":"no"}"#);
    assert_eq!((e.code(), e.kind()), (Some("AccessDeniedException"), AwsKind::AccessDenied));
    let e = service_error(502, None, b"<html>bad gateway</html>");
    assert_eq!(e.to_string(), "HTTP 502: <html>bad gateway</html>");
}

#[test]
fn a_server_error_is_retried() {
    let (endpoint, seen) = server(vec![
        (503, "", json!({"message": "Service Unavailable"})),
        (200, "", json!({"events": [{"message": "m"}]})),
    ]);
    let out = call(&LOGS, &endpoint, Request::Operation { name: "FilterLogEvents", body: json!({}) })
        .expect("served on the second attempt");
    assert_eq!(out["events"][0]["message"], "m");
    assert_eq!(seen.lock().unwrap().len(), 2);
}
