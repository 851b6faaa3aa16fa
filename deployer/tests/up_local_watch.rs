//! `deployer up local --watch`, end to end, in a temporary copy of the
//! repository (its own `.countries/local` and target folder; the emulator's
//! virtualenv and the compiled dependencies are shared with the repository):
//! a saved change to the api's source is rebuilt and served by a restarted
//! api while the emulator, and the country stored in it, stay; a change that
//! does not compile is printed and the running api keeps serving.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// GET or POST; the status and the body.
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

/// The repository's sources, stage files, templates and generated/ in `dir`,
/// with `.countries/venv` linked to the repository's emulator.
fn copy_of_the_repository(dir: &Path) {
    let root = common::repo_root();
    for sub in [
        "app",
        "deployer",
        "testkit",
        "workspace-hack",
        "bench",
        "stages",
        "templates",
        "generated",
        "tools",
    ] {
        common::copy_dir(&root.join(sub), &dir.join(sub));
    }
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(root.join(file), dir.join(file)).expect("copy a manifest");
    }
    // Another version for the copy's app: its compiled units stay apart from the
    // repository's in the shared build folder (same name, version and relative
    // path would make them the same units, and the edits below would land there).
    common::edit(
        &dir.join("app/Cargo.toml"),
        "version = \"0.1.0\"",
        "version = \"0.1.0-watch-test\"",
    );
    let moto = testkit::moto_server_path();
    let venv = moto.parent().and_then(Path::parent).expect("the venv");
    std::fs::create_dir_all(dir.join(".countries")).expect("mkdir .countries");
    std::os::unix::fs::symlink(venv, dir.join(".countries/venv")).expect("link the venv");
}

/// The lines the deployer prints (stdout and stderr, which interleave in any
/// order), kept for failure messages.
struct Lines {
    rx: Receiver<String>,
    seen: Vec<String>,
    /// Lines before this one were matched by an earlier `wait_for`, or came before a `mark`.
    from: usize,
}

impl Lines {
    fn of(child: &mut Child) -> Self {
        let (tx, rx) = mpsc::channel::<String>();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
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
        Lines {
            rx,
            seen: vec![],
            from: 0,
        }
    }

    /// Only lines printed from now on count for `wait_for`.
    fn mark(&mut self) {
        while let Ok(line) = self.rx.try_recv() {
            self.seen.push(line);
        }
        self.from = self.seen.len();
    }

    /// Waits for a line containing `text` (one already seen since the mark counts);
    /// panics with everything seen after `patience`.
    fn wait_for(&mut self, child: &mut Child, text: &str, patience: Duration) -> String {
        if let Some(line) = self.seen[self.from..].iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        let started = Instant::now();
        loop {
            if let Ok(line) = self.rx.recv_timeout(Duration::from_secs(1)) {
                self.seen.push(line.clone());
                if line.contains(text) {
                    return line;
                }
                continue;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "deployer exited ({status}) before printing {text:?}:\n{}",
                    self.seen.join("\n")
                );
            }
            assert!(
                started.elapsed() < patience,
                "no line with {text:?} within {patience:?}:\n{}",
                self.seen.join("\n")
            );
        }
    }
}

/// The pid of the process `up local` started as `name` (its state file).
fn pid_of(root: &Path, name: &str) -> u64 {
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join(".countries/local/state.json")).expect("state file"),
    )
    .expect("state JSON");
    state["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["pid"].as_u64())
        .unwrap_or_else(|| panic!("no {name} in {state}"))
}

#[test]
fn watch_rebuilds_and_restarts_the_functions_and_keeps_the_emulator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    copy_of_the_repository(root);
    // The copy builds into its own target folder; the dependencies compiled for
    // the repository are reused from its build folder.
    let build_dir = std::env::var_os("CARGO_BUILD_BUILD_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(common::target_dir);
    let (api, emulator, upstream) = (
        testkit::free_port(),
        testkit::free_port(),
        testkit::free_port(),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_deployer"))
        .current_dir(root)
        .args(["up", "local", "--watch"])
        .args(["--api-port", &api.to_string()])
        .args(["--emulator-port", &emulator.to_string()])
        .args(["--upstream-port", &upstream.to_string()])
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env("CARGO_BUILD_BUILD_DIR", build_dir)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("DEPLOYER_ROOT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start deployer up local --watch");
    let mut lines = Lines::of(&mut child);
    let base = format!("http://127.0.0.1:{api}");
    lines.wait_for(
        &mut child,
        &format!("out: api: {base}"),
        Duration::from_secs(1200),
    );
    lines.wait_for(&mut child, "watching app/", Duration::from_secs(10));

    // A country in the emulator, to see it survive the restarts.
    let (status, body) = http("POST", &format!("{base}/fetch-data/PY")).expect("POST");
    assert_eq!(status, 202, "{body}");
    let started = Instant::now();
    while http("GET", &format!("{base}/view-data/PY")).map(|r| r.0) != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "PY never arrived"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let emulator_pid = pid_of(root, "emulator");
    let first_api = pid_of(root, "api");

    // A one-line change to the api: rebuilt, redeployed, served by a new api process.
    lines.mark();
    common::edit(
        &root.join("app/src/api/handlers.rs"),
        "welcome: \"countries api demo\"",
        "welcome: \"countries api demo, rebuilt\"",
    );
    let served = lines.wait_for(&mut child, "change → serving in", Duration::from_secs(600));
    let (status, body) = http("GET", &format!("{base}/")).expect("GET /");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("countries api demo, rebuilt"),
        "{body}\n{served}"
    );
    let (status, body) = http("GET", &format!("{base}/view-data/PY")).expect("view-data");
    assert_eq!(
        status, 200,
        "the stored country is gone after the restart: {body}"
    );
    assert!(body.contains("Paraguay"), "{body}");
    assert_eq!(
        pid_of(root, "emulator"),
        emulator_pid,
        "the emulator was restarted"
    );
    let second_api = pid_of(root, "api");
    assert_ne!(second_api, first_api, "the api was not restarted");

    // A change that does not compile: the error is printed, the api keeps serving.
    lines.mark();
    common::edit(
        &root.join("app/src/api/handlers.rs"),
        "welcome: \"countries api demo, rebuilt\"",
        "welcome: countries api demo does not compile",
    );
    lines.wait_for(&mut child, "could not compile", Duration::from_secs(600));
    lines.wait_for(
        &mut child,
        "keep serving the previous build",
        Duration::from_secs(60),
    );
    let (status, body) = http("GET", &format!("{base}/")).expect("GET / after a failed build");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("countries api demo, rebuilt"), "{body}");
    assert_eq!(
        pid_of(root, "api"),
        second_api,
        "the api was restarted after a failed build"
    );

    // SIGTERM stops everything it started.
    // SAFETY: signalling the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "deployer did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "exit {status}:\n{}",
        lines.seen.join("\n")
    );
}
