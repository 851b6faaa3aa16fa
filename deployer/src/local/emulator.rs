//! The local AWS emulator: moto's server from the project-local virtualenv
//! `.countries/venv` (pinned in tools/requirements-moto.txt, shared with the
//! test harness). Reused when one already answers on the port; installed on
//! first use; otherwise started as a child of `up local`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::aws::Target;
use crate::error::{Error, FsError, LocalError, Result};

/// The emulator's virtualenv, relative to the repository root.
pub const VENV: &str = ".countries/venv";
/// The pinned requirements.
pub const REQUIREMENTS: &str = "tools/requirements-moto.txt";
/// The installer that installs them (uv), pinned.
const UV_REQUIREMENTS: &str = "tools/requirements-uv.txt";
/// The installer's lock file (the same one the test harness takes), held with
/// `flock`: a crashed installer releases it at once.
const INSTALL_LOCK: &str = ".countries/venv.install.lock";
/// The folder the installer's lock used to be (a `mkdir` lock), removed when seen.
const OLD_INSTALL_LOCK: &str = ".countries/venv.installing";

/// What listens on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// Nothing.
    Free,
    /// An HTTP server (taken to be the emulator; the account guard checks it).
    Http,
    /// Something that is not an HTTP server.
    Other,
}

/// Probes `127.0.0.1:port` with a plain HTTP request.
pub fn probe(port: u16) -> Listener {
    let Ok(mut stream) =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300))
    else {
        return Listener::Free;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    let request = "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut head = [0u8; 8];
    if stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut head).is_ok()
        && head.starts_with(b"HTTP/1.")
    {
        Listener::Http
    } else {
        Listener::Other
    }
}

/// The `moto_server` executable, if the virtualenv has it.
pub fn installed(root: &Path) -> Option<PathBuf> {
    let server = root.join(VENV).join("bin/moto_server");
    server.is_file().then_some(server)
}

/// The `moto_server` executable, installing the venv first if needed.
pub fn server_path(root: &Path, say: &dyn Fn(&str)) -> Result<PathBuf> {
    let venv = root.join(VENV);
    let server = venv.join("bin/moto_server");
    if server.is_file() {
        return Ok(server);
    }
    let lock = root.join(INSTALL_LOCK);
    std::fs::create_dir_all(root.join(".countries")).map_err(|source| {
        Error::from(FsError::Write {
            path: root.join(".countries"),
            source,
        })
    })?;
    let _ = std::fs::remove_dir(root.join(OLD_INSTALL_LOCK));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(|source| {
            Error::from(FsError::Write {
                path: lock.clone(),
                source,
            })
        })?;
    let started = Instant::now();
    let mut said = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(FsError::Write { path: lock, source }.into());
            }
        }
        if !said {
            say("waiting for another process that is installing the emulator");
            said = true;
        }
        // A hung installer (a crashed one releases the lock at once).
        if started.elapsed() > Duration::from_secs(600) {
            return Err(LocalError::EmulatorUnavailable {
                detail: format!(
                    "another process has been installing it for 10 minutes; remove {} if none is",
                    lock.display()
                ),
            }
            .into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    // Whoever held the lock may have installed it meanwhile.
    if server.is_file() {
        return Ok(server);
    }
    say(&format!(
        "installing the local AWS emulator (moto, {REQUIREMENTS}) into {VENV}: first run only, a few seconds with uv, a minute with pip"
    ));
    let result = install(root, &venv);
    drop(file);
    result?;
    if server.is_file() {
        Ok(server)
    } else {
        Err(LocalError::EmulatorUnavailable {
            detail: format!("the install finished but {} is missing", server.display()),
        }
        .into())
    }
}

fn install(root: &Path, venv: &Path) -> Result<()> {
    let run = |cmd: &mut Command, what: &str| -> Result<()> {
        let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
            Error::from(LocalError::EmulatorUnavailable {
                detail: format!("cannot run {what}: {e}"),
            })
        })?;
        if out.status.success() {
            Ok(())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
            Err(LocalError::EmulatorUnavailable {
                detail: format!(
                    "{what} failed ({}):\n{}",
                    out.status,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ),
            }
            .into())
        }
    };
    let requirements = root.join(REQUIREMENTS);
    let python = venv.join("bin/python");
    // A virtualenv without a pip of its own when the system's pip can fill it
    // (`--python`, pip 22.3 and later): installing pip into it took 4 s.
    let system_pip = system_pip_takes_python();
    if !python.is_file() {
        let mut venv_cmd = Command::new("python3");
        venv_cmd.args(["-m", "venv"]);
        if system_pip {
            venv_cmd.arg("--without-pip");
        }
        run(venv_cmd.arg(venv), "python3 -m venv .countries/venv")?;
    }
    let pip = || {
        let mut cmd = if venv.join("bin/pip").is_file() {
            Command::new(venv.join("bin/pip"))
        } else {
            let mut cmd = Command::new("python3");
            cmd.args(["-m", "pip", "--python"]).arg(&python);
            cmd
        };
        cmd.args(["install", "--quiet", "--disable-pip-version-check"]);
        cmd
    };
    // uv (pinned in UV_REQUIREMENTS) installs moto's fifty packages in about
    // a second where pip takes 15, and the first `up local` waits for it;
    // pip does it when uv cannot be had or fails (an offline package mirror
    // only pip is configured for).
    let uv = venv.join("bin/uv");
    if !uv.is_file() {
        let _ = run(pip().arg("-r").arg(root.join(UV_REQUIREMENTS)), "pip install uv");
    }
    if uv.is_file()
        && run(
            Command::new(&uv).args(["pip", "install", "--quiet", "--python"]).arg(&python).arg("-r").arg(&requirements),
            "uv pip install -r tools/requirements-moto.txt",
        )
        .is_ok()
    {
        return Ok(());
    }
    // No byte-compiling of every module: moto compiles the few it imports on
    // first start (a third of pip's time). uv does not compile either.
    run(
        pip().arg("--no-compile").arg("-r").arg(&requirements),
        "pip install -r tools/requirements-moto.txt",
    )
}

/// Whether `python3 -m pip` is there and new enough to install into another environment.
fn system_pip_takes_python() -> bool {
    let Ok(out) = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return false;
    };
    // "pip 23.2.1 from ... (python 3.11)"
    let text = String::from_utf8_lossy(&out.stdout);
    let mut version = text.split_whitespace().nth(1).unwrap_or_default().split('.');
    let mut next = || version.next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
    out.status.success() && (next(), next()) >= (22, 3)
}

/// For a local stage, fails unless the emulator answers at `target` (plan, down
/// and status need it running, and say so rather than time out on a connection).
pub fn running(target: &Target, stage: &str) -> Result<()> {
    let port = target
        .endpoint_url
        .as_deref()
        .and_then(|u| u.rsplit(':').next())
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_default();
    if probe(port) == Listener::Http {
        Ok(())
    } else {
        Err(LocalError::EmulatorNotRunning {
            port,
            stage: stage.to_string(),
        }
        .into())
    }
}

/// Waits until an HTTP server answers on `port`, or `patience` runs out.
pub async fn wait_until_answering(port: u16, patience: Duration) -> bool {
    let started = Instant::now();
    loop {
        if tokio::task::spawn_blocking(move || probe(port))
            .await
            .unwrap_or(Listener::Free)
            == Listener::Http
        {
            return true;
        }
        if started.elapsed() > patience {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
