//! End to end: `deployer up local` on free ports brings the system up (it
//! builds the release binaries once), a country is fetched through the printed
//! URL, and SIGTERM stops every process it started and frees every port.
//!
//! It uses the repository itself (its venv, target/ and `.countries/local`),
//! so it fails, saying so, while a developer's own `deployer up local` runs.

use crate::common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One HTTP request; returns the status code and the body (any transfer encoding).
fn http(method: &str, url: &str) -> Option<(u16, String)> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .ok()?;
    let method = reqwest::Method::from_bytes(method.as_bytes()).ok()?;
    let response = client.request(method, url).send().ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().ok()?))
}

fn alive(pid: u32) -> bool {
    // Not a zombie and still there.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.split(") ").nth(1).is_some_and(|s| s.starts_with('Z')),
        Err(_) => false,
    }
}

fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

#[test]
fn up_local_serves_a_country_and_stops_cleanly() {
    let root = common::repo_root();
    // Make sure the emulator is installed before the clock starts (shared venv).
    testkit::moto_server_path();
    // A busy port is named, with the flag that moves it, before anything starts.
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_deployer"))
        .current_dir(&root)
        .args(["up", "local", "--api-port", &busy_port.to_string()])
        .args(["--emulator-port", &testkit::free_port().to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("up local on a busy port");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "port {busy_port} on 127.0.0.1 (the api) is already in use"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--api-port"), "{stderr}");
    drop(busy);

    let (api, emulator, upstream) = (
        testkit::free_port(),
        testkit::free_port(),
        testkit::free_port(),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_deployer"))
        .current_dir(&root)
        .args(["up", "local"])
        .args(["--api-port", &api.to_string()])
        .args(["--emulator-port", &emulator.to_string()])
        .args(["--upstream-port", &upstream.to_string()])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("DEPLOYER_ROOT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start deployer up local");
    let pid = child.id();

    // Read both streams; remember everything for failure messages.
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(format!("out: {line}"));
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx2.send(format!("err: {line}"));
        }
    });
    let mut seen = Vec::new();
    let expected = format!("out: api: http://127.0.0.1:{api}");
    let started = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                let done = line == expected;
                seen.push(line);
                if done {
                    break;
                }
            }
            Err(_) => {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "deployer up local exited ({status}) before printing `api:`:\n{}",
                        seen.join("\n")
                    );
                }
            }
        }
        // Includes one release build on a cold machine.
        assert!(
            started.elapsed() < Duration::from_secs(1200),
            "no `api:` line within 20 minutes:\n{}",
            seen.join("\n")
        );
    }
    let base = format!("http://127.0.0.1:{api}");
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
        seen.push(line);
    }
    assert!(
        seen.iter()
            .any(|l| l == &format!("out: emulator: http://127.0.0.1:{emulator}")),
        "{}",
        seen.join("\n")
    );
    assert!(
        seen.iter()
            .any(|l| l == &format!("out: upstream: http://127.0.0.1:{upstream}")),
        "{}",
        seen.join("\n")
    );
    assert!(
        seen.iter().any(|l| l.starts_with("out: ready in ")),
        "{}",
        seen.join("\n")
    );

    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join(".countries/local/state.json")).expect("state file"),
    )
    .expect("state JSON");
    let pids: Vec<u32> = state["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(pids.len(), 4, "{state}");
    assert!(pids.iter().all(|p| alive(*p)), "{state}");
    // The local stage's package: zips of exactly the binaries it runs (fast profile).
    let manifest = std::fs::read_to_string(common::target_dir().join("lambda-local/manifest.json"))
        .expect("manifest");

    // A second `up local` while this one runs says so, exit 2.
    let second = Command::new(env!("CARGO_BIN_EXE_deployer"))
        .current_dir(&root)
        .args([
            "up",
            "local",
            "--api-port",
            &testkit::free_port().to_string(),
        ])
        .stdin(Stdio::null())
        .output()
        .expect("second up local");
    let second_err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{second_err}");
    assert!(second_err.contains("is already running"), "{second_err}");

    // Fetch a country through the printed URL.
    let (status, body) =
        http("POST", &format!("{base}/fetch-data/PY")).expect("POST /fetch-data/PY");
    assert_eq!(status, 202, "{body}");
    let started = Instant::now();
    loop {
        if let Some((200, body)) = http("GET", &format!("{base}/view-data/PY")) {
            assert!(body.contains("Paraguay"), "{body}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "PY never arrived:\n{}",
            seen.join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, body) = http("GET", &format!("{base}/status/PY")).expect("GET /status/PY");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"success\":true"), "{body}");

    // SIGTERM: everything it started stops, every port is free again.
    // SAFETY: signalling the child this test started.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "deployer did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
        seen.push(line);
    }
    assert!(status.success(), "exit {status}:\n{}", seen.join("\n"));
    for p in &pids {
        assert!(
            !alive(*p),
            "pid {p} is still running after the deployer stopped"
        );
    }
    for port in [api, emulator, upstream] {
        assert!(port_free(port), "port {port} is still taken");
    }
    assert!(
        !root.join(".countries/local/up.lock").exists(),
        "the lock was not released"
    );

    // Packaging again gives the same digests (a deterministic build and zip).
    let again = Command::new(env!("CARGO_BIN_EXE_deployer"))
        .current_dir(&root)
        .args(["package", "local", "--json"])
        .stdin(Stdio::null())
        .output()
        .expect("package");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let first: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let second: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    for f in ["api", "worker"] {
        assert_eq!(
            first["functions"][f]["digest"], second["functions"][f]["digest"],
            "{f} digest changed between two packagings"
        );
    }
}
