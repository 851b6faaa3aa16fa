//! Test harness shared by the workspace's integration tests: finds or
//! installs moto's server in the project-local virtualenv and starts it on
//! a free 127.0.0.1 port. It never skips: if the emulator cannot start, the
//! test fails with what to do about it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The workspace root (where `tools/` and `.countries/` live): the one holding
/// the running test's package (cargo sets CARGO_MANIFEST_DIR for it), else
/// testkit's own. The running test's comes first because a build directory
/// shared by several checkouts (CARGO_BUILD_BUILD_DIR) compiles testkit once,
/// with whichever checkout's path came first.
pub fn repo_root() -> PathBuf {
    let running = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    running
        .iter()
        .flat_map(|dir| dir.ancestors())
        .find(|dir| dir.join("tools/moto_server.py").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("testkit sits in the workspace").to_path_buf())
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free port on 127.0.0.1")
}

/// Path to `moto_server`, installing the pinned version on first use.
pub fn moto_server_path() -> PathBuf {
    python_tool("venv", "tools/requirements-moto.txt", "moto_server")
}

/// Path to a Python tool from a project-local virtualenv
/// (`.countries/<venv>`), created from `requirements` on first use.
pub fn python_tool(venv: &str, requirements: &str, tool: &str) -> PathBuf {
    let venv = repo_root().join(".countries").join(venv);
    let server = venv.join("bin").join(tool);
    if server.exists() {
        return server;
    }
    // One installer at a time across test processes (and `deployer up local`): a file
    // lock, which a crashed installer releases at once.
    let lock = venv.with_extension("install.lock");
    std::fs::create_dir_all(repo_root().join(".countries")).expect("cannot create .countries/");
    let _ = std::fs::remove_dir(venv.with_extension("installing")); // the old mkdir lock
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock.display()));
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => panic!("cannot lock {}: {e}", lock.display()),
        }
        assert!(started.elapsed() < Duration::from_secs(600), "another process has been installing {tool} for 10 minutes (it holds {})", lock.display());
        std::thread::sleep(Duration::from_millis(500));
    }
    if server.exists() {
        return server;
    }
    let result = install(&venv, requirements);
    drop(file);
    if let Err(e) = result {
        panic!(
            "{tool} could not be installed: {e}\nInstall it by hand: python3 -m venv {dir} && {dir}/bin/pip install -r {requirements}",
            dir = venv.display()
        );
    }
    server
}

fn install(venv: &Path, requirements: &str) -> Result<(), String> {
    eprintln!("testkit: installing {requirements} into {} (first run only)", venv.display());
    let run = |cmd: &mut Command| -> Result<(), String> {
        let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
        if status.success() { Ok(()) } else { Err(format!("{cmd:?} exited with {status}")) }
    };
    run(Command::new("python3").arg("-m").arg("venv").arg(venv))?;
    run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "-r"]).arg(repo_root().join(requirements)))
}

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Where the server's own output goes.
    pub log: PathBuf,
    // Closing this pipe (when the test process exits) stops the server.
    _lifeline: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

/// The test binary's moto server, started on first use and stopped when the process exits.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start_moto)
}

fn start_moto() -> Moto {
    // moto's own server, run through tools/moto_server.py, which gives its
    // DynamoDB the per-item atomicity of the real service.
    let server = moto_server_path().with_file_name("python");
    let script = repo_root().join("tools/moto_server.py");
    let port = free_port();
    let log = repo_root().join(format!("target/moto-{port}.log"));
    let _ = std::fs::create_dir_all(repo_root().join("target"));
    let out = std::fs::File::create(&log).expect("cannot create the moto log file");
    // The shell waits on stdin; EOF (our process gone) kills the server.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" "$2" -H 127.0.0.1 -p "$1" & pid=$!; read _unused; kill $pid 2>/dev/null; wait $pid"#)
        .arg(&server)
        .arg(port.to_string())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(out.try_clone().expect("log file"))
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
    let stdin = child.stdin.take().expect("piped stdin");
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while !answers(port) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("moto_server exited ({status}) before answering; its log: {}\n{}", log.display(), std::fs::read_to_string(&log).unwrap_or_default());
        }
        assert!(started.elapsed() < Duration::from_secs(60), "moto_server did not answer on {endpoint} within 60 s; its log: {}", log.display());
        std::thread::sleep(Duration::from_millis(50));
    }
    Moto { endpoint, log, _lifeline: Mutex::new(stdin), _child: Mutex::new(child) }
}

/// One blocking HTTP request on a thread of its own: the workspace's
/// `#[tokio::test]`s call the harness from a runtime thread, where a blocking
/// client must not run. The status and the body, or why there is none.
fn request(method: reqwest::Method, url: &str, timeout: Duration) -> Result<(u16, String), String> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let client = reqwest::blocking::Client::builder().timeout(timeout).build().map_err(|e| e.to_string())?;
            let response = client.request(method, url).send().map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            Ok((status, response.text().map_err(|e| e.to_string())?))
        })
        .join()
        .unwrap_or_else(|_| Err("the request thread panicked".into()))
    })
}

/// True when an HTTP server answers on the port.
pub fn answers(port: u16) -> bool {
    request(reqwest::Method::GET, &format!("http://127.0.0.1:{port}/moto-api/"), Duration::from_secs(2)).is_ok()
}

impl Moto {
    /// Resets all emulated state (moto's `/moto-api/reset`).
    pub fn reset(&self) {
        let answer = request(reqwest::Method::POST, &format!("{}/moto-api/reset", self.endpoint), Duration::from_secs(30));
        assert!(matches!(answer, Ok((200, _))), "moto reset failed: {answer:?}");
    }
}

/// Environment for child processes that must talk to the emulator.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}
