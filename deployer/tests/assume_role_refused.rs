//! A stage's deploy role that refuses the caller: the deployer asks STS for it
//! before any other call, sends the stage file's external id and session name,
//! and stops with the refusal named, the role and what to check.
//!
//! moto's STS does not evaluate trust policies (it grants every AssumeRole), so
//! the refusal is tested at the HTTP boundary: a local server answers as STS
//! documents a refused AssumeRole (403, an `ErrorResponse` with code
//! `AccessDenied`, the message trimmed to its documented form) and records
//! every request, so the test also sees that nothing but AssumeRole was asked.

use crate::common;

use std::sync::{Arc, Mutex};

const ROLE: &str = "arn:aws:iam::222222222222:role/countries-delivery-dev-deployer";

/// STS's answer to an AssumeRole its trust policy refuses (recorded shape).
const REFUSED: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::123456789012:user/someone is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/countries-delivery-dev-deployer</Message>
  </Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>"#;

/// Starts the refusing STS; its endpoint and the form bodies it received.
fn refusing_sts() -> (String, Arc<Mutex<Vec<String>>>) {
    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = calls.clone();
    std::thread::spawn(move || {
        common::runtime().block_on(async move {
            let app = axum::Router::new().fallback(move |body: String| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(body);
                    (
                        axum::http::StatusCode::FORBIDDEN,
                        [(axum::http::header::CONTENT_TYPE, "text/xml")],
                        REFUSED,
                    )
                }
            });
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    (endpoint, calls)
}

#[test]
fn a_refused_deploy_role_stops_the_command_before_any_other_call() {
    let root = common::templates_root();
    std::fs::write(
        root.path().join("stages/dev.yaml"),
        format!(
            "account: \"222222222222\"
region: us-east-1
terraform_outputs:
  file: outputs.json
deploy_role_arn: {ROLE}
external_id: countries-dev-2026-07
app:
  architecture: x86_64
  log_level: info
  api: {{memory_mb: 256, timeout_seconds: 10}}
  worker: {{memory_mb: 256, timeout_seconds: 30}}
  upstream: {{provider: v3, base_url: 'https://countries.example.com'}}
"
        ),
    )
    .expect("stage");
    let (endpoint, calls) = refusing_sts();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deployer"))
        .arg("--root")
        .arg(root.path())
        .args(["--endpoint-url", &endpoint, "plan", "dev"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("DEPLOYER_OUTPUTS_FILE")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("run deployer");
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("stage dev: cannot assume {ROLE}: AccessDenied: User: arn:aws:iam::123456789012:user/someone is not authorized to perform: sts:AssumeRole")),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("trusts only the tooling account's CodeBuild deploy role")
            && stderr.contains("external_id"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // One kind of request only: the AssumeRole, with the stage file's external id.
    let calls = calls.lock().unwrap().clone();
    assert!(!calls.is_empty(), "STS was never asked");
    for body in &calls {
        assert!(
            body.contains("Action=AssumeRole")
                && body.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2Fcountries-delivery-dev-deployer")
                && body.contains("ExternalId=countries-dev-2026-07")
                && body.contains("RoleSessionName=countries-deployer-dev"),
            "an unexpected request: {body}"
        );
    }
}
