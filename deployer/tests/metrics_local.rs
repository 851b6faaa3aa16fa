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

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Stops `deployer up local` (SIGTERM, then waits) when the test ends, panics included.
struct UpLocal {
    child: Child,
    upstream_pid: Option<i32>,
}

impl Drop for UpLocal {
    fn drop(&mut self) {
        // SAFETY: signalling processes this test started (the deployer and its upstream child).
        unsafe {
            if let Some(pid) = self.upstream_pid {
                libc::kill(pid, libc::SIGCONT);
            }
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Counts the requests the test makes, by route, to compare with the api's metrics.
#[derive(Default)]
struct Api {
    base: String,
    requests: BTreeMap<&'static str, u32>,
}

impl Api {
    fn call(&mut self, method: &str, path: &str) -> (u16, Value) {
        self.call_traced(method, path, None)
    }

    /// A request, with an `X-Amzn-Trace-Id` header when `trace` is given.
    fn call_traced(&mut self, method: &str, path: &str, trace: Option<&str>) -> (u16, Value) {
        let route = match path.split('/').nth(1) {
            Some("fetch-data") => "fetch-data",
            Some("view-data") => "view-data",
            Some("status") => "status",
            _ => "other",
        };
        *self.requests.entry(route).or_default() += 1;
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = client().request(method, format!("{}{path}", self.base));
        if let Some(trace) = trace {
            request = request.header("X-Amzn-Trace-Id", trace);
        }
        let res = request.send().expect("request");
        let status = res.status().as_u16();
        (status, res.json().unwrap_or(Value::Null))
    }

    /// Queues a fetch and waits for its status row's outcome.
    fn fetch(&mut self, code: &str, outcome: &str) {
        let (status, body) = self.call("POST", &format!("/fetch-data/{code}"));
        assert_eq!(status, 202, "{body}");
        self.wait(code, outcome);
    }

    /// Waits for a country's first status row, which must have `outcome`; returns it.
    fn wait(&mut self, code: &str, outcome: &str) -> Value {
        let started = Instant::now();
        loop {
            let (_, rows) = self.call("GET", &format!("/status/{code}"));
            if let Some(got) = rows[0]["outcome"].as_str() {
                assert_eq!(got, outcome, "{code}: {rows}");
                return rows[0].clone();
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{code} never got a status row"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

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

const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Checks one line against the Embedded Metric Format specification: a JSON
/// object whose `_aws` member holds a millisecond `Timestamp` and metric
/// directives (namespace; dimension sets of at most 30 names, each naming a
/// string member; 1-100 metric definitions, each naming a member that holds a
/// number or at most 100 numbers, with a CloudWatch unit). Returns the names
/// and values it defines.
fn check_emf(line: &Value, function: &str, window: (i64, i64)) -> Vec<(String, Value)> {
    let aws = line["_aws"].as_object().expect("_aws is an object");
    let ts = aws["Timestamp"].as_i64().expect("Timestamp is an integer");
    assert!(
        (window.0..=window.1).contains(&ts),
        "Timestamp {ts} is milliseconds within the run {window:?}"
    );
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics is an array");
    assert_eq!(directives.len(), 1, "{line}");
    let mut defined = Vec::new();
    for d in directives {
        let namespace = d["Namespace"].as_str().expect("Namespace is a string");
        assert!((1..=1024).contains(&namespace.len()));
        assert_eq!(namespace, "Countries");
        let sets = d["Dimensions"].as_array().expect("Dimensions is an array");
        assert_eq!(
            sets,
            &vec![serde_json::json!(["Stage", "Function"])],
            "{line}"
        );
        for set in sets {
            let names = set.as_array().expect("a dimension set is an array");
            assert!(names.len() <= 30);
            for name in names {
                let value = line[name.as_str().expect("a dimension is named by a string")].as_str();
                assert!(
                    value.is_some_and(|v| !v.is_empty() && v.len() <= 1024),
                    "dimension {name} has a string value: {line}"
                );
            }
        }
        assert_eq!(
            (line["Stage"].as_str(), line["Function"].as_str()),
            (Some("local"), Some(function))
        );
        let metrics = d["Metrics"].as_array().expect("Metrics is an array");
        assert!((1..=100).contains(&metrics.len()), "{line}");
        for m in metrics {
            let name = m["Name"].as_str().expect("Name is a string");
            assert!((1..=1024).contains(&name.len()));
            let unit = m["Unit"].as_str().expect("Unit is set");
            assert!(UNITS.contains(&unit), "{unit}");
            if let Some(resolution) = m.get("StorageResolution") {
                assert!(resolution == 1 || resolution == 60);
            }
            let value = &line[name];
            let numbers_ok = match value {
                Value::Number(_) => true,
                Value::Array(items) => {
                    !items.is_empty() && items.len() <= 100 && items.iter().all(Value::is_number)
                }
                _ => false,
            };
            assert!(
                numbers_ok,
                "metric {name} holds a number or up to 100 numbers: {line}"
            );
            // The list the deployer renders the dashboard from: same name, unit and function.
            let listed = deployer::metrics::list::list()
                .metrics
                .iter()
                .find(|l| l.name == name)
                .unwrap_or_else(|| panic!("{name} is not in app/metrics.json"));
            assert_eq!(
                (listed.unit.as_str(), listed.function.as_str()),
                (unit, function),
                "{name}"
            );
            defined.push((name.to_string(), value.clone()));
        }
    }
    defined
}

fn count(rows: &BTreeMap<String, Value>, name: &str) -> f64 {
    rows[name]["count"].as_f64().unwrap()
}

#[test]
fn status_metrics_adds_up_a_scripted_local_run() {
    let root = common::repo_root();
    let run_started = now_ms();
    testkit::moto_server_path();
    let api_port = testkit::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_deployer"))
        .current_dir(&root)
        .args(["up", "local", "--api-port", &api_port.to_string()])
        .args(["--emulator-port", &testkit::free_port().to_string()])
        .args(["--upstream-port", &testkit::free_port().to_string()])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("DEPLOYER_ROOT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start deployer up local");
    let (tx, rx) = mpsc::channel::<String>();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut up = UpLocal {
        child,
        upstream_pid: None,
    };
    let mut seen = Vec::new();
    let ready = format!("api: http://127.0.0.1:{api_port}");
    let started = Instant::now();
    while !seen.contains(&ready) {
        if let Ok(line) = rx.recv_timeout(Duration::from_secs(1)) {
            seen.push(line);
        }
        if let Ok(Some(status)) = up.child.try_wait() {
            panic!("deployer up local exited ({status}):\n{}", seen.join("\n"));
        }
        // Includes one release build on a cold machine.
        assert!(
            started.elapsed() < Duration::from_secs(1200),
            "not ready in 20 minutes:\n{}",
            seen.join("\n")
        );
    }
    // The zips `up local` just packaged (the same build as the cloud's, for
    // this machine's architecture) stay within the project's 3 MB budget.
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("target/lambda/manifest.json")).expect("manifest"),
    )
    .unwrap();
    for function in ["api", "worker"] {
        let size = manifest["functions"][function]["size"]
            .as_u64()
            .expect("size");
        println!("{function} zip: {size} bytes");
        assert!(
            size <= 3_000_000,
            "the {function} zip is {size} bytes, over the 3 MB budget"
        );
    }
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join(".countries/local/state.json")).expect("state"),
    )
    .unwrap();
    let upstream_pid = state["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "upstream")
        .expect("upstream process")["pid"]
        .as_i64()
        .unwrap() as i32;

    // The window covers this run only (the log files keep earlier runs).
    let since = || format!("{}s", (now_ms() - run_started) / 1000 + 2);
    let before = metrics(&root, &since());
    let mut api = Api {
        base: format!("http://127.0.0.1:{api_port}"),
        ..Default::default()
    };
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
    // SAFETY: pausing a process this test started (through `up local`).
    unsafe { libc::kill(upstream_pid, libc::SIGSTOP) };
    up.upstream_pid = Some(upstream_pid);
    let failing = ["AR", "BR", "CL", "DE", "ES", "FR", "GB", "IT"];
    for code in failing {
        let (status, body) = api.call("POST", &format!("/fetch-data/{code}"));
        assert_eq!(status, 202, "{body}");
    }
    for code in failing {
        api.wait(code, "upstream_error");
    }
    api.fetch("JP", "circuit_open");
    // SAFETY: as above.
    unsafe { libc::kill(upstream_pid, libc::SIGCONT) };
    up.upstream_pid = None;

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
            let defined = check_emf(&line, function, (run_started, now_ms()));
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
