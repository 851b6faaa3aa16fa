//! The local stage's child processes: started in their own process groups
//! (so Ctrl-C reaches the deployer, which then stops them in order), their
//! output prefixed (`api | ...`) on stdout and appended to
//! `.countries/local/logs/<name>.log`, and stopped with SIGTERM, then SIGKILL.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

use crate::error::{Error, FsError, LocalError, Result};

/// The logs folder, relative to the repository root.
pub const LOGS_DIR: &str = ".countries/local/logs";

/// A started process.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Started {
    /// `emulator`, `upstream`, `api`, `worker`.
    pub name: String,
    /// Its pid (also its process group).
    pub pid: u32,
}

/// One exit: the name, the pid and how it ended.
type Exit = (String, u32, ExitStatus);

/// Owns the processes one `up local` started, and only those.
pub struct Supervisor {
    logs: PathBuf,
    started: Vec<Started>,
    exits_tx: mpsc::UnboundedSender<Exit>,
    exits_rx: mpsc::UnboundedReceiver<Exit>,
    /// Pids seen exiting.
    exited: Vec<u32>,
    /// Exits that arrived while `stop` waited for another process, for `next_exit`.
    unseen: VecDeque<Exit>,
}

/// `name | line`: how a child's line appears on the terminal. Pure.
pub fn prefixed(name: &str, width: usize, line: &str) -> String {
    format!("{name:<width$} | {line}")
}

impl Supervisor {
    /// A supervisor writing logs under `root/.countries/local/logs`.
    pub fn new(root: &Path) -> Result<Self> {
        let logs = root.join(LOGS_DIR);
        std::fs::create_dir_all(&logs).map_err(|source| {
            Error::from(FsError::Write {
                path: logs.clone(),
                source,
            })
        })?;
        let (exits_tx, exits_rx) = mpsc::unbounded_channel();
        Ok(Supervisor {
            logs,
            started: vec![],
            exits_tx,
            exits_rx,
            exited: vec![],
            unseen: VecDeque::new(),
        })
    }

    /// The log file of a process.
    pub fn log_path(&self, name: &str) -> PathBuf {
        self.logs.join(format!("{name}.log"))
    }

    /// What was started, in order.
    pub fn started(&self) -> &[Started] {
        &self.started
    }

    /// Starts `command` as `name`; `echo` streams its output to stdout with a prefix.
    /// Must be called from the thread that runs the deployer's main future (see `parent_death_signal`).
    pub fn spawn(&mut self, name: &str, mut command: Command, echo: bool) -> Result<u32> {
        let log_path = self.log_path(name);
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|source| {
                Error::from(FsError::Write {
                    path: log_path.clone(),
                    source,
                })
            })?;
        let _ = writeln!(
            log,
            "--- started by deployer up local at {} ---",
            crate::deploy::now_rfc3339()
        );
        let log = Arc::new(Mutex::new(log));
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        parent_death_signal(&mut command);
        let mut child = command.spawn().map_err(|e| {
            Error::from(LocalError::ProcessFailed {
                name: name.to_string(),
                detail: format!("could not start: {e}"),
                log: log_path.clone(),
            })
        })?;
        let pid = child.id().unwrap_or_default();
        let width = 8;
        if let Some(out) = child.stdout.take() {
            tokio::spawn(pump(out, name.to_string(), width, echo, log.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(pump(err, name.to_string(), width, echo, log));
        }
        let tx = self.exits_tx.clone();
        let owned = name.to_string();
        tokio::spawn(async move {
            if let Ok(status) = child.wait().await {
                let _ = tx.send((owned, pid, status));
            }
        });
        self.started.push(Started {
            name: name.to_string(),
            pid,
        });
        Ok(pid)
    }

    /// Waits for the next process to exit on its own.
    pub async fn next_exit(&mut self) -> Option<(String, ExitStatus)> {
        let exit = match self.unseen.pop_front() {
            Some(exit) => Some(exit),
            None => self.exits_rx.recv().await,
        };
        exit.map(|(name, pid, status)| {
            self.exited.push(pid);
            (name, status)
        })
    }

    /// True if `name` has exited (as far as the supervisor has seen).
    pub fn poll_exit(&mut self, name: &str) -> Option<ExitStatus> {
        while let Ok(exit) = self.exits_rx.try_recv() {
            self.exited.push(exit.1);
            self.unseen.push_back(exit);
        }
        let at = self.unseen.iter().position(|(n, _, _)| n == name)?;
        self.unseen.remove(at).map(|(_, _, status)| status)
    }

    /// Stops the process started as `name` (SIGTERM to its group, SIGKILL after
    /// `grace`) and forgets it, so that it can be started again under the same name.
    pub async fn stop(&mut self, name: &str, grace: Duration) {
        let Some(at) = self.started.iter().rposition(|p| p.name == name) else {
            return;
        };
        let target = self.started.remove(at);
        self.stop_pids(&[target.pid], grace).await;
    }

    /// Stops every started process, newest first: SIGTERM to its group, then SIGKILL
    /// after `grace`. Nothing it did not start is touched.
    pub async fn stop_all(&mut self, grace: Duration) {
        let pids: Vec<u32> = self.started.iter().rev().map(|p| p.pid).collect();
        self.stop_pids(&pids, grace).await;
    }

    async fn stop_pids(&mut self, pids: &[u32], grace: Duration) {
        for pid in pids {
            if !self.exited.contains(pid) {
                signal_group(*pid, libc::SIGTERM);
            }
        }
        self.wait_for(pids, grace).await;
        for pid in pids {
            if !self.exited.contains(pid) {
                signal_group(*pid, libc::SIGKILL);
            }
        }
        // Reap what was killed.
        self.wait_for(pids, Duration::from_secs(2)).await;
    }

    /// Waits until every pid in `pids` has exited, or `patience` runs out; other
    /// exits seen meanwhile are kept for `next_exit`.
    async fn wait_for(&mut self, pids: &[u32], patience: Duration) {
        let deadline = tokio::time::Instant::now() + patience;
        while pids.iter().any(|p| !self.exited.contains(p)) {
            match tokio::time::timeout_at(deadline, self.exits_rx.recv()).await {
                Ok(Some(exit)) => {
                    self.exited.push(exit.1);
                    if !pids.contains(&exit.1) {
                        self.unseen.push_back(exit);
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
}

/// Sends `signal` to the process group `pid` leads (its own group, see `spawn`).
pub fn signal_group(pid: u32, signal: i32) {
    if let Ok(pid) = i32::try_from(pid)
        && pid > 0
    {
        // SAFETY: plain kill(2) on a process group this deployer created.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// On Linux, children get SIGTERM if the deployer dies without stopping them
/// (e.g. SIGKILL), so nothing is left behind holding the ports.
fn parent_death_signal(command: &mut Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe and only changes the child's own settings.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

async fn pump(
    stream: impl AsyncRead + Unpin,
    name: String,
    width: usize,
    echo: bool,
    log: Arc<Mutex<std::fs::File>>,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Ok(mut file) = log.lock() {
            let _ = writeln!(file, "{line}");
        }
        if echo {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", prefixed(&name, width, &line));
            let _ = out.flush();
        }
    }
}

/// True when `pid` is a live process whose command line mentions `program`
/// (so a recycled pid of something else does not count).
pub fn alive(pid: u32, program: &str) -> bool {
    let Ok(pid_t) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid_t, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => String::from_utf8_lossy(&cmdline).contains(program),
        Err(_) => true, // no /proc (macOS): trust kill
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_align() {
        assert_eq!(prefixed("api", 8, "listening"), "api      | listening");
        assert_eq!(prefixed("upstream", 8, "x"), "upstream | x");
    }
}
