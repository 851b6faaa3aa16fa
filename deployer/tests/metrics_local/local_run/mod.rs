//! A `deployer up local` run for a test (free ports, the repository's own
//! root), and an api client that counts its requests by route.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A running `deployer up local`, stopped (SIGTERM, then waited for) when
/// dropped, panics included.
pub struct UpLocal {
    child: Child,
    /// The api's port.
    pub api_port: u16,
    upstream_pid: i32,
    paused: bool,
}

impl UpLocal {
    /// Starts it on free ports and waits until it prints the api's URL.
    pub fn start(root: &Path) -> UpLocal {
        testkit::moto_server_path();
        let api_port = testkit::free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_deployer"))
            .current_dir(root)
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
            api_port,
            upstream_pid: 0,
            paused: false,
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
        let state: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join(".countries/local/state.json")).expect("state"),
        )
        .unwrap();
        up.upstream_pid = state["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "upstream")
            .and_then(|p| p["pid"].as_i64())
            .expect("the upstream process") as i32;
        up
    }

    /// Pauses the offline upstream (SIGSTOP): it accepts connections and answers nothing.
    pub fn pause_upstream(&mut self) {
        // SAFETY: signalling a process this test started (through `up local`).
        unsafe { libc::kill(self.upstream_pid, libc::SIGSTOP) };
        self.paused = true;
    }

    /// Lets it answer again.
    pub fn resume_upstream(&mut self) {
        // SAFETY: as above.
        unsafe { libc::kill(self.upstream_pid, libc::SIGCONT) };
        self.paused = false;
    }
}

impl Drop for UpLocal {
    fn drop(&mut self) {
        if self.paused {
            self.resume_upstream();
        }
        // SAFETY: signalling the deployer this test started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
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

/// The local api, with the requests made so far counted by route.
pub struct Api {
    base: String,
    /// Requests by route: `fetch-data`, `view-data`, `status`, `other`.
    pub requests: BTreeMap<&'static str, u32>,
}

impl Api {
    /// The api on 127.0.0.1:`port`.
    pub fn new(port: u16) -> Api {
        Api {
            base: format!("http://127.0.0.1:{port}"),
            requests: BTreeMap::new(),
        }
    }

    /// A request: status and JSON body (null if none).
    pub fn call(&mut self, method: &str, path: &str) -> (u16, Value) {
        self.call_traced(method, path, None)
    }

    /// A request, with an `X-Amzn-Trace-Id` header when `trace` is given.
    pub fn call_traced(&mut self, method: &str, path: &str, trace: Option<&str>) -> (u16, Value) {
        let route = match path.split('/').nth(1) {
            Some("fetch-data") => "fetch-data",
            Some("view-data") => "view-data",
            Some("status") => "status",
            _ => "other",
        };
        *self.requests.entry(route).or_default() += 1;
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let mut request = client.request(method, format!("{}{path}", self.base));
        if let Some(trace) = trace {
            request = request.header("X-Amzn-Trace-Id", trace);
        }
        let res = request.send().expect("request");
        let status = res.status().as_u16();
        (status, res.json().unwrap_or(Value::Null))
    }

    /// Queues a fetch and waits for its status row's outcome.
    pub fn fetch(&mut self, code: &str, outcome: &str) {
        let (status, body) = self.call("POST", &format!("/fetch-data/{code}"));
        assert_eq!(status, 202, "{body}");
        self.wait(code, outcome);
    }

    /// Waits for a country's first status row, which must have `outcome`; returns it.
    pub fn wait(&mut self, code: &str, outcome: &str) -> Value {
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
