//! The Lambda runtime path, end to end: the release `api` and `worker`
//! binaries run under cargo-lambda's Lambda Runtime API emulator
//! (`cargo lambda watch --only-lambda-apis`), as they run in the cloud,
//! against moto and the offline upstream.
//!
//! - The worker is invoked with an SQS event (`POST
//!   /2015-03-31/functions/_/invocations`) and must answer partial batch
//!   failures: only the malformed record.
//! - The api is reached through the emulator's Function URL path
//!   (`/lambda-url/_/…`, payload format 2.0, the shape of an HTTP API
//!   event) and must pass the same contract checks as the local server
//!   (`support::contract`).
//!
//! The binaries are built with the packager's own command for the local
//! stage, so the release build is shared with `deployer up local` (and its
//! test) and the benchmarks. Every process
//! started here is stopped when the test ends, panics included.

use crate::support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Stack, contract, http, sqs_batch, upstream};

/// The packager's build command for the local stage (deployer/src/package/build.rs:
/// the release profile, workspace-hack selected), so CI's one release build of the
/// functions serves this test, `deployer up local` and the benchmarks. The cloud
/// profile differs in code generation only (size, LTO), not in code.
const BUILD: [&str; 10] = [
    "build",
    "--release",
    "-p",
    "countries",
    "-p",
    "workspace-hack",
    "--bin",
    "api",
    "--bin",
    "worker",
];

/// A child process that is killed and reaped when dropped (also on panic).
struct Running {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Running {
    fn start(name: &'static str, mut cmd: Command, log: PathBuf) -> Self {
        let out = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Self { name, child, log }
    }

    /// The end of its log, for failure messages.
    fn tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "--- {} ({}) ---\n{}",
            self.name,
            self.log.display(),
            lines[lines.len().saturating_sub(15)..].join("\n")
        )
    }

    /// Panics, with its log, if it has exited.
    fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status}) early\n{}", self.name, self.tail());
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// cargo's target folder, as the packager computes it: `CARGO_TARGET_DIR`
/// (relative to the repo root) or `<root>/target`.
fn target_dir() -> PathBuf {
    let root = testkit::repo_root();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

/// Builds `api` and `worker` in release mode (nothing to do when
/// `deployer package`/`up local` built them already); returns their folder.
fn release_binaries() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let started = Instant::now();
    let out = Command::new(&cargo)
        .current_dir(testkit::repo_root())
        .args(BUILD)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cargo {} failed ({}):\n{log}",
        BUILD.join(" "),
        out.status
    );
    println!(
        "release build (cargo {}): {:.1}s",
        BUILD.join(" "),
        started.elapsed().as_secs_f64()
    );
    target_dir().join("release")
}

/// Where a process's output goes: `<target>/lambda-runtime/<name>.log`, overwritten each run.
fn log(name: &str) -> PathBuf {
    let dir = target_dir().join("lambda-runtime");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir.join(format!("{name}.log"))
}

/// Waits until something accepts connections on the port.
fn wait_for_port(port: u16, process: &mut Running) {
    let started = Instant::now();
    while std::net::TcpStream::connect_timeout(
        &([127, 0, 0, 1], port).into(),
        Duration::from_millis(200),
    )
    .is_err()
    {
        process.assert_alive();
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} did not listen on {port} within 60 s\n{}",
            process.name,
            process.tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One Runtime API emulator on a free loopback port, started at the repo
/// root; returns it and its port.
fn emulator(tool: &Path, function: &'static str) -> (Running, u16) {
    let port = testkit::free_port();
    let mut cmd = Command::new(tool);
    cmd.args([
        "lambda",
        "watch",
        "--only-lambda-apis",
        "-P",
        &port.to_string(),
        "-A",
        "127.0.0.1",
    ])
    .current_dir(testkit::repo_root());
    let name = if function == "api" {
        "emulator for api"
    } else {
        "emulator for worker"
    };
    let mut running = Running::start(name, cmd, log(&format!("emulator-{function}")));
    wait_for_port(port, &mut running);
    (running, port)
}

/// A release binary inside the emulator's sandbox, as Lambda starts it.
fn function(
    binaries: &Path,
    name: &'static str,
    runtime_port: u16,
    vars: &HashMap<String, String>,
) -> Running {
    let mut cmd = Command::new(binaries.join(name));
    cmd.envs(vars)
        .envs(testkit::aws_env(&testkit::moto().endpoint))
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{runtime_port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("LOG_LEVEL", "info");
    Running::start(name, cmd, log(name))
}

#[tokio::test(flavor = "multi_thread")]
async fn release_binaries_answer_under_the_lambda_runtime_api_emulator() {
    let started = Instant::now();
    let tool = testkit::python_tool(
        "venv-cargo-lambda",
        "tools/requirements-cargo-lambda.txt",
        "cargo-lambda",
    );
    let binaries = tokio::task::spawn_blocking(release_binaries).await.unwrap();
    let stack = Stack::create(2, 4).await;
    let up = upstream().await;
    let vars = stack.vars(&up.url, &[]);

    // One emulator per function: each serves the function named `_`.
    let (mut api_emulator, api_port) = emulator(&tool, "api");
    let (mut worker_emulator, worker_port) = emulator(&tool, "worker");
    let mut api = function(&binaries, "api", api_port, &vars);
    let mut worker = function(&binaries, "worker", worker_port, &vars);
    let setup = started.elapsed();
    let logs = |procs: &[&Running]| {
        procs
            .iter()
            .map(|p| p.tail())
            .collect::<Vec<_>>()
            .join("\n")
    };

    // The worker: an SQS event in, partial batch failures out.
    let invoked = Instant::now();
    let res = http()
        .post(format!(
            "http://127.0.0.1:{worker_port}/2015-03-31/functions/_/invocations"
        ))
        .json(&sqs_batch::event_json())
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "the worker invocation got no answer: {e}\n{}",
                logs(&[&worker_emulator, &worker])
            )
        });
    let status = res.status().as_u16();
    let answer: serde_json::Value = res.json().await.unwrap_or_default();
    println!(
        "worker batch response ({status}, {} ms): {answer}",
        invoked.elapsed().as_millis()
    );
    assert_eq!(
        (status, &answer),
        (200, &sqs_batch::expected_response()),
        "\n{}",
        logs(&[&worker_emulator, &worker])
    );
    sqs_batch::assert_handled(&stack).await;
    // One metrics line for the invocation, on stdout where CloudWatch Logs reads it.
    let metrics: Vec<serde_json::Value> = std::fs::read_to_string(&worker.log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    assert_eq!(metrics.len(), 1, "one metrics line per invocation\n{}", worker.tail());
    let counts = ["FetchStored", "FetchNotFound", "messages"].map(|k| metrics[0][k].as_u64());
    assert_eq!(counts, [Some(2), Some(1), Some(4)], "{}", metrics[0]);

    // The api: the shared contract checks, through the Function URL path.
    let base = format!("http://127.0.0.1:{api_port}/lambda-url/_");
    let checks = contract::checks();
    let report = contract::run(&base, &checks).await;
    println!(
        "Lambda Function URL path: {} of {} contract checks passed",
        report.passed,
        checks.len()
    );
    api.assert_alive();
    worker.assert_alive();
    api_emulator.assert_alive();
    worker_emulator.assert_alive();
    assert!(
        report.failures.is_empty(),
        "{} contract checks failed over the Function URL path:\n{}\n{}",
        report.failures.len(),
        report.failures.join("\n"),
        logs(&[&api_emulator, &api])
    );
    // One metrics line per request, each with the trace id of its invocation's context.
    let api_metrics: Vec<serde_json::Value> = std::fs::read_to_string(&api.log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    assert!(!api_metrics.is_empty(), "{}", api.tail());
    for line in &api_metrics {
        assert!(line["trace_id"].as_str().is_some_and(|t| t.starts_with("1-")), "{line}");
    }
    assert_eq!(
        stack.drain_bodies(&stack.queue_url).await.len(),
        contract::queued_by(&checks),
        "only the 202s queue a fetch"
    );
    println!(
        "set-up {:.1}s, whole test {:.1}s",
        setup.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
