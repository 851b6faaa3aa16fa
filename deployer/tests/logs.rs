//! `deployer logs`: one request's lines across api and worker, from the local
//! stage's log files and from CloudWatch Logs (moto). tests/fixtures/logs/ holds
//! real lines of one `deployer up local` run with three POST /fetch-data calls
//! (PY, UY, AR), copied from .countries/local/logs/.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use deployer::aws::json::{JsonClient, LOGS, Request};
use deployer::logs::{Function, format, reader};
use serde_json::json;

const REQUEST: &str = "999fdd8c-2481-4c9c-9f85-8bf977cf09b6";
const OTHER: &str = "3f3c98ae-f679-4913-80ef-de5fc206c621";

fn fixture_lines(function: &str) -> Vec<String> {
    std::fs::read_to_string(
        common::fixtures()
            .join("logs")
            .join(format!("{function}.log")),
    )
    .expect("fixture log")
    .lines()
    .map(str::to_string)
    .collect()
}

/// The fixture lines of REQUEST, in time order: the api's, then the worker's.
fn request_lines() -> Vec<String> {
    let api = fixture_lines("api");
    let worker = fixture_lines("worker");
    let pick = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.contains(REQUEST))
            .cloned()
            .collect()
    };
    let mut out = pick(&api);
    out.extend(pick(&worker));
    assert_eq!(
        out.len(),
        2,
        "fixture: one api and one worker line of {REQUEST}"
    );
    out
}

/// `logs <stage> --since 3650d --request-id REQUEST --json`, run by `run`, succeeds and
/// prints exactly REQUEST's fixture lines.
fn assert_request_json(stage: &str, run: impl FnOnce(&[&str]) -> Output) {
    let out = run(&[
        "logs",
        stage,
        "--since",
        "3650d",
        "--request-id",
        REQUEST,
        "--json",
    ]);
    let (stdout, stderr) = common::texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().collect::<Vec<_>>(), request_lines());
}

#[test]
fn local_reader_and_filter_return_one_request_across_api_and_worker() {
    let dir = common::fixtures().join("logs");
    let mut offsets = [0u64, 0];
    let events = reader::read_new(&dir, &Function::ALL, &mut offsets).expect("read");
    let picked = format::select(events.clone(), 0, Some(REQUEST));
    let raw: Vec<&str> = picked.iter().map(|e| e.raw.as_str()).collect();
    assert_eq!(raw, request_lines());
    assert_eq!(picked[0].function, Function::Api);
    assert_eq!(picked[1].function, Function::Worker);
    let readable: Vec<String> = picked.iter().map(|e| format::readable(e, false)).collect();
    assert_eq!(
        readable,
        [
            format!(
                "04:54:49.198 INFO  api    fetch request queued request_id={REQUEST} code=UY force=false"
            ),
            format!(
                "04:54:49.235 INFO  worker attempt recorded request_id={REQUEST} code=UY outcome=stored duration_ms=18 receive_count=1"
            ),
        ]
    );
    // Without a filter every line comes back, merged in time order.
    let all = format::select(events, 0, None);
    assert_eq!(all.len(), 11);
    assert!(
        all.windows(2)
            .all(|w| w[0].timestamp_ms <= w[1].timestamp_ms)
    );
    let other = format::select(all, 0, Some(OTHER));
    assert_eq!(other.len(), 2);
}

fn local_root() -> tempfile::TempDir {
    let root = common::fixture_root();
    common::copy_dir(
        &common::fixtures().join("logs"),
        &root.path().join(".countries/local/logs"),
    );
    root
}

#[test]
fn local_stage_cli_filters_by_request_id() {
    let root = local_root();
    assert_request_json("sandbox", |args| common::run(root.path(), args));

    let out = common::run(
        root.path(),
        &[
            "logs",
            "sandbox",
            "--since",
            "3650d",
            "--request-id",
            REQUEST,
            "--function",
            "worker",
        ],
    );
    let (stdout, stderr) = common::texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("worker attempt recorded"), "{stdout}");
    assert!(
        !stdout.contains('\x1b'),
        "no colour off a terminal: {stdout}"
    );
}

#[test]
fn local_stage_without_logs_says_what_to_do() {
    let root = common::fixture_root();
    let out = common::run(root.path(), &["logs", "sandbox"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("deployer up local"), "{stderr}");
}

#[test]
fn bad_since_is_a_usage_error() {
    let root = local_root();
    let out = common::run(root.path(), &["logs", "sandbox", "--since", "soon"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--since soon"), "{stderr}");
}

/// Puts the fixture lines into the qa stage's log groups in moto, through the
/// deployer's own signed client (the SDK's CloudWatch Logs crate is not built).
async fn put_fixture_events(endpoint: &str) {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let client = JsonClient::new(&LOGS, &config);
    let call = |name: &'static str, body: serde_json::Value| {
        let client = client.clone();
        async move {
            let _: serde_json::Value = client
                .call(Request::Operation { name, body })
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let run_start = format::line_timestamp_ms(&fixture_lines("api")[1]).expect("timestamp");
    let stream = "2026/11/28/[$LATEST]abc";
    for function in Function::ALL {
        let group = function.log_group("qa");
        call("CreateLogGroup", json!({"logGroupName": group})).await;
        call("CreateLogStream", json!({"logGroupName": group, "logStreamName": stream})).await;
        let events: Vec<_> = fixture_lines(function.as_str())
            .into_iter()
            .filter(|l| l.starts_with('{'))
            .map(|line| {
                // Keep the run's real timing, shifted to a minute ago.
                let offset = format::line_timestamp_ms(&line).expect("timestamp") - run_start;
                json!({"timestamp": now - 60_000 + offset, "message": line})
            })
            .collect();
        call(
            "PutLogEvents",
            json!({"logGroupName": group, "logStreamName": stream, "logEvents": events}),
        )
        .await;
    }
}

fn deployer_against(endpoint: &str, root: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deployer"));
    cmd.arg("--root")
        .arg(root)
        .arg("--endpoint-url")
        .arg(endpoint)
        .args(args);
    for (k, v) in testkit::aws_env(endpoint) {
        cmd.env(k, v);
    }
    cmd.env_remove("AWS_PROFILE")
        .env_remove("DEPLOYER_ROOT")
        .env_remove("DEPLOYER_OUTPUTS_FILE")
        .output()
        .expect("run deployer")
}

#[test]
fn cloudwatch_logs_filtered_by_request_id() {
    let moto = testkit::moto();
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(put_fixture_events(&moto.endpoint));
    let root = common::fixture_root();

    assert_request_json("qa", |args| {
        deployer_against(&moto.endpoint, root.path(), args)
    });

    let out = deployer_against(
        &moto.endpoint,
        root.path(),
        &["logs", "qa", "--since", "1h", "--function", "api"],
    );
    let (stdout, stderr) = common::texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("api    fetch request queued"), "{stdout}");
    assert!(!stdout.contains("worker"), "{stdout}");
}
