//! `deployer up local`: the whole system on this machine, no AWS account.
//!
//! Takes the lock, ensures the emulator (reuse, or install and start moto),
//! builds and packages the functions, deploys the same rendered stack to the
//! emulator through the shared deploy engine, then runs `offline-upstream`,
//! `api` and `worker` as child processes configured from the stack's
//! resources, prints the endpoints and stays in the foreground until Ctrl-C
//! or SIGTERM, when it stops what it started and nothing else. With
//! `--watch`, it rebuilds and restarts api and worker on every change
//! (`watch`).

mod bring_up;
pub use bring_up::Ports;
pub mod emulator;
pub mod lock;
pub mod processes;
pub mod upstream;
mod watch;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{GlobalArgs, UpArgs};
use crate::error::{Error, FsError, LocalError, Result, SessionError};
use crate::session::{self, say};
use crate::stage::Stage;
use processes::Supervisor;

/// The running instance's endpoints and processes, for `deployer status` and tests.
pub const STATE_FILE: &str = ".countries/local/state.json";

/// What a running `up local` wrote to `STATE_FILE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The deployer's pid.
    pub pid: u32,
    /// `http://127.0.0.1:<api>`.
    pub api: String,
    /// The emulator's endpoint.
    pub emulator: String,
    /// The offline upstream's URL, if it runs.
    pub upstream: Option<String>,
    /// Whether this run started the emulator (and so stops it).
    pub emulator_started: bool,
    /// The child processes.
    pub processes: Vec<processes::Started>,
}

/// The state of a running `up local`, if one runs.
pub fn running_state(root: &Path) -> Option<State> {
    let holder = lock::holder(root)?;
    let text = std::fs::read_to_string(root.join(STATE_FILE)).ok()?;
    let state: State = serde_json::from_str(&text).ok()?;
    (state.pid == holder).then_some(state)
}

/// The ports: flags (and their DEPLOYER_LOCAL_* variables) over the stage file's.
pub fn ports(stage: &Stage, args: &UpArgs) -> Option<Ports> {
    let l = stage.spec.local.as_ref()?;
    Some(Ports {
        emulator: args.emulator_port.unwrap_or(l.emulator_port),
        api: args.api_port.unwrap_or(l.api_port),
        upstream: args.upstream_port.unwrap_or(l.upstream_port),
    })
}

/// Runs `deployer up local` until Ctrl-C or SIGTERM.
pub fn up(root: &Path, global: &GlobalArgs, args: &UpArgs, stage: &Stage) -> Result<()> {
    let started = Instant::now();
    if args.artifacts.is_some() {
        return Err(LocalError::NotForLocal {
            flag: "--artifacts".into(),
        }
        .into());
    }
    let Some(ports) = ports(stage, args) else {
        return Err(LocalError::LocalOnly {
            flag: "up local".into(),
            stage: stage.name.clone(),
        }
        .into());
    };
    let (_lock, taken) = lock::acquire(root)?;
    if let lock::Taken::Stale(pid) = taken {
        clean_up_stale(root, pid);
    }
    let runtime = session::runtime()?;
    let result = runtime.block_on(run(root, global, stage, ports, started, args.watch));
    let _ = std::fs::remove_file(root.join(STATE_FILE));
    result
}

/// Stops what a run that died without cleaning up left running (per its state file).
fn clean_up_stale(root: &Path, pid: u32) {
    let Ok(text) = std::fs::read_to_string(root.join(STATE_FILE)) else {
        return;
    };
    let Ok(state) = serde_json::from_str::<State>(&text) else {
        return;
    };
    if state.pid != pid {
        return;
    }
    for p in &state.processes {
        let program = match p.name.as_str() {
            "emulator" => "moto_server",
            "upstream" => "offline-upstream",
            other => other,
        };
        if processes::alive(p.pid, program) {
            say(&format!(
                "stopping {} (pid {}) left by an earlier `up local` that did not exit cleanly",
                p.name, p.pid
            ));
            processes::signal_group(p.pid, libc::SIGTERM);
        }
    }
    let _ = std::fs::remove_file(root.join(STATE_FILE));
}

async fn run(
    root: &Path,
    global: &GlobalArgs,
    stage: &Stage,
    ports: Ports,
    started: Instant,
    watching: bool,
) -> Result<()> {
    let mut sigint = signal(SignalKind::interrupt()).map_err(runtime_error)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(runtime_error)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(runtime_error)?;
    let mut sup = Supervisor::new(root)?;
    let starting = {
        let bring = bring_up::bring_up(root, global, stage, ports, &mut sup);
        tokio::select! {
            biased;
            _ = sigint.recv() => None,
            _ = sigterm.recv() => None,
            _ = sighup.recv() => None,
            result = bring => Some(result),
        }
    };
    let ready = match starting {
        Some(Ok(ready)) => ready,
        Some(Err(err)) => {
            sup.stop_all(Duration::from_secs(5)).await;
            return Err(err);
        }
        None => {
            say(&format!(
                "interrupted while starting: stopping {}",
                names(&sup)
            ));
            sup.stop_all(Duration::from_secs(5)).await;
            say("stopped");
            return Ok(());
        }
    };
    let mut state = State {
        pid: std::process::id(),
        api: ready.api.clone(),
        emulator: ready.emulator.clone(),
        upstream: ready.upstream.clone(),
        emulator_started: ready.emulator_started,
        processes: sup.started().to_vec(),
    };
    write_state(root, &state)?;
    let mut watcher = if watching {
        Some(watch::Watcher::start(root, &stage.name)?)
    } else {
        None
    };
    println!("emulator: {}", ready.emulator);
    if let Some(upstream) = &ready.upstream {
        println!("upstream: {upstream}");
    }
    println!("api: {}", ready.api);
    println!("logs: {}/", processes::LOGS_DIR);
    println!("ready in {:.1}s", started.elapsed().as_secs_f64());
    say(&format!(
        "Ctrl-C stops the processes this run started{}. Try: curl -X POST {}/fetch-data/PY",
        if ready.emulator_started {
            " (the emulator too)"
        } else {
            " (not the emulator it reused)"
        },
        ready.api
    ));

    if watching {
        say(
            "watching app/, templates/ and the stage file: a saved change rebuilds and restarts api and worker",
        );
    }
    let cx = watch::Context {
        root,
        global,
        stage: &stage.name,
        ports,
        emulator: &ready.emulator,
    };
    let mut functions = ready.functions.clone();
    let outcome = loop {
        tokio::select! {
            _ = sigint.recv() => break Ok("Ctrl-C"),
            _ = sigterm.recv() => break Ok("SIGTERM"),
            _ = sighup.recv() => break Ok("SIGHUP"),
            exit = sup.next_exit() => {
                let (name, status) = exit.unwrap_or_else(|| ("a process".into(), Default::default()));
                break Err(Error::from(LocalError::ProcessFailed {
                    log: PathBuf::from(processes::LOGS_DIR).join(format!("{name}.log")),
                    detail: format!("stopped on its own ({status})"),
                    name,
                }));
            }
            (change, written) = watch::next(&mut watcher) => {
                if watch::apply(&cx, change, written, &mut sup, &mut functions).await {
                    state.processes = sup.started().to_vec();
                    if let Err(e) = write_state(root, &state) {
                        say(&format!("watch: {e}"));
                    }
                }
            }
        }
    };
    if let Ok(why) = &outcome {
        say(&format!("{why}: stopping {}", names(&sup)));
    }
    sup.stop_all(Duration::from_secs(5)).await;
    say("stopped");
    outcome.map(|_| ())
}

/// Writes `STATE_FILE` (again after `--watch` restarted api and worker: new pids).
fn write_state(root: &Path, state: &State) -> Result<()> {
    let path = root.join(STATE_FILE);
    std::fs::write(
        &path,
        serde_json::to_string_pretty(state).unwrap_or_default(),
    )
    .map_err(|source| Error::from(FsError::Write { path, source }))
}

fn names(sup: &Supervisor) -> String {
    sup.started()
        .iter()
        .rev()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn runtime_error(e: std::io::Error) -> Error {
    Error::from(SessionError::Runtime {
        detail: e.to_string(),
    })
}
