//! The functions' metrics on this machine, end to end: `deployer up local`
//! (real moto, the release binaries, the offline upstream), a scripted run of
//! fetches that ends stored, not found, failing upstream calls that open the
//! breaker, and one refused by the open breaker; then
//!
//! - every Embedded Metric Format line the api and the worker wrote to
//!   `.countries/local/logs` during the run satisfies the format's
//!   specification (checked here, independently of the code that writes it),
//!   with the metric list's names and units, and there is one line per api
//!   request and at most one per worker batch;
//! - `deployer status local --metrics` shows exactly what the run did;
//! - the zips it packaged stay within 3 MB.
//!
//! The upstream is made to fail by pausing its process (SIGSTOP: connections
//! are accepted, nothing answers, every call times out) and resumed after.
//! Like tests/up_local.rs it uses the repository itself, so it fails, saying
//! so, while a developer's own `deployer up local` runs.

use crate::common;
mod emf;
mod local_run;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

use local_run::{Api, UpLocal, now_ms};
use serde_json::Value;

/// `deployer status local --metrics --json --since <window>`: each metric's row by name.
fn metrics(root: &std::path::Path, since: &str) -> BTreeMap<String, Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_deployer"))
        .current_dir(root)
        .args(["status", "local", "--metrics", "--json", "--since", since])
        .stdin(Stdio::null())
        .output()
        .expect("status --metrics");
    let (stdout, stderr) = common::texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(doc["metrics"][0]["stage"], "local");
    assert_eq!(doc["metrics"][0]["source"], "local logs");
    doc["metrics"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap().to_string(), m.clone()))
        .collect()
}

const TRACE: &str = "Root=1-6750f0a1-5b8c2d1e9f0a4b3c2d1e0f9a;Parent=53995c3f42cd8ad8;Sampled=1";
const TRACE_ID: &str = "1-6750f0a1-5b8c2d1e9f0a4b3c2d1e0f9a";

fn count(rows: &BTreeMap<String, Value>, name: &str) -> f64 {
    rows[name]["count"].as_f64().unwrap()
}

#[test]
fn status_metrics_adds_up_a_scripted_local_run() {
    let root = common::repo_root();
    let run_started = now_ms();
    let mut up = UpLocal::start(&root);
    // The window covers this run only (the log files keep earlier runs).
    let since = || format!("{}s", (now_ms() - run_started) / 1000 + 2);
    let before = metrics(&root, &since());
    let mut api = Api::new(up.api_port);
    let script_started = now_ms();

    // PY carries an X-Ray trace header: its id reaches the worker through the
    // queue, and is on both functions' log lines and in the status row.
    let (status, queued) = api.call_traced("POST", "/fetch-data/PY", Some(TRACE));
    assert_eq!(status, 202, "{queued}");
    let row = api.wait("PY", "stored");
    assert_eq!(row["trace_id"], TRACE_ID, "{row}");
    let request_id = queued["request_id"].as_str().unwrap().to_string();
    api.fetch("ZZ", "not_found");
    assert_eq!(api.call("GET", "/view-data/PY").0, 200); // read from the table
    assert_eq!(api.call("GET", "/view-data/PY").0, 200); // from the cache
    assert_eq!(api.call("GET", "/fetch-data/P1").0, 400);

    // The upstream stops answering: eight calls time out (2 s each), and with
    // PY and ZZ that makes ten recent calls, 80 % failing: the breaker opens.
    up.pause_upstream();
    let failing = ["AR", "BR", "CL", "DE", "ES", "FR", "GB", "IT"];
    for code in failing {
        let (status, body) = api.call("POST", &format!("/fetch-data/{code}"));
        assert_eq!(status, 202, "{body}");
    }
    for code in failing {
        api.wait(code, "upstream_error");
    }
    api.fetch("JP", "circuit_open");
    up.resume_upstream();

    // `status --metrics`: what the run added.
    let after = metrics(&root, &since());
    let delta = |name: &str| count(&after, name) - count(&before, name);
    let expected = [
        ("FetchStored", 1.0),
        ("FetchNotFound", 1.0),
        ("FetchUpstreamError", 8.0),
        ("FetchCircuitOpen", 1.0),
        ("FetchServedFromStore", 0.0),
        ("BreakerOpened", 1.0),
        ("BreakerClosed", 0.0),
        ("BreakerTrial", 0.0),
        ("UpstreamLatency", 10.0),
        ("RequestsFetchData", f64::from(api.requests["fetch-data"])),
        ("RequestsViewData", 2.0),
        ("RequestsStatus", f64::from(api.requests["status"])),
        ("ViewCacheMisses", 1.0),
        ("ViewCacheHits", 1.0),
        ("Responses4xx", 1.0),
        ("Responses5xx", 0.0),
        (
            "Responses2xx",
            f64::from(api.requests.values().sum::<u32>() - 1),
        ),
    ];
    let got: Vec<(&str, f64)> = expected
        .iter()
        .map(|(name, _)| (*name, delta(name)))
        .collect();
    assert_eq!(
        got, expected,
        "status --metrics after the run, less before it"
    );
    let latency = &after["UpstreamLatency"];
    assert!(
        latency["maximum"].as_f64().unwrap() >= 1900.0,
        "the timed-out calls took the 2 s timeout: {latency}"
    );
    assert!(latency["average"].as_f64().unwrap() > 0.0, "{latency}");

    // The text form shows the same rows.
    let out = Command::new(env!("CARGO_BIN_EXE_deployer"))
        .current_dir(&root)
        .args(["status", "local", "--metrics", "--since", &since()])
        .output()
        .expect("status --metrics");
    let (text, stderr) = common::texts(&out);
    assert!(out.status.success(), "{stderr}");
    println!("{text}");
    assert!(text.starts_with("local: "), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains(" FetchUpstreamError "))
        .expect("a FetchUpstreamError row");
    assert!(
        row.split_whitespace().collect::<Vec<_>>()[..3]
            == ["Fetch", "outcomes", "FetchUpstreamError"],
        "{row}"
    );

    // `deployer logs` finds PY's request across the api and the worker, with its trace id.
    let out = Command::new(env!("CARGO_BIN_EXE_deployer"))
        .current_dir(&root)
        .args([
            "logs",
            "local",
            "--request-id",
            &request_id,
            "--since",
            &since(),
        ])
        .output()
        .expect("deployer logs");
    let (lines, stderr) = common::texts(&out);
    assert!(out.status.success(), "{stderr}");
    let traced: Vec<&str> = lines
        .lines()
        .filter(|l| l.contains(&format!("trace_id={TRACE_ID}")))
        .collect();
    assert!(
        traced
            .iter()
            .any(|l| l.contains(" api ") && l.contains("fetch request queued"))
            && traced
                .iter()
                .any(|l| l.contains(" worker ") && l.contains("attempt recorded")),
        "the api's and the worker's lines of the request carry its trace id:\n{lines}"
    );

    // Every metrics line of the run, read back from the log files: each
    // satisfies the format; the api wrote one per request, the worker one per
    // batch, whose outcomes add up to the messages it had.
    let mut names = BTreeSet::new();
    let (mut api_lines, mut worker_messages) = (0, 0);
    for function in ["api", "worker"] {
        let text =
            std::fs::read_to_string(root.join(format!(".countries/local/logs/{function}.log")))
                .expect("log file");
        for raw in text.lines() {
            let Ok(line) = serde_json::from_str::<Value>(raw) else {
                continue;
            };
            let Some(ts) = line.get("_aws").and_then(|a| a["Timestamp"].as_i64()) else {
                continue;
            };
            if ts < run_started {
                continue;
            }
            let defined = emf::check_emf(&line, function, (run_started, now_ms()));
            names.extend(defined.iter().map(|(n, _)| n.clone()));
            if ts < script_started {
                continue; // the smoke test's requests
            }
            if function == "api" {
                api_lines += 1;
                continue;
            }
            let messages = line["messages"]
                .as_u64()
                .expect("a worker line says how many messages its batch had");
            let outcomes: f64 = defined
                .iter()
                .filter(|(n, _)| n.starts_with("Fetch"))
                .map(|(_, v)| v.as_f64().unwrap())
                .sum();
            assert_eq!(
                outcomes, messages as f64,
                "one outcome per message of the batch: {line}"
            );
            worker_messages += messages;
        }
    }
    assert_eq!(
        api_lines,
        api.requests.values().sum::<u32>(),
        "one api line per request"
    );
    assert_eq!(
        worker_messages, 11,
        "PY, ZZ, eight failing countries and JP, each in one batch line"
    );
    for name in [
        "FetchStored",
        "FetchNotFound",
        "FetchUpstreamError",
        "FetchCircuitOpen",
        "UpstreamLatency",
        "BreakerOpened",
        "RequestsFetchData",
        "ViewCacheHits",
        "ViewDataLatency",
        "Responses4xx",
    ] {
        assert!(names.contains(name), "no line defined {name}");
    }
}
