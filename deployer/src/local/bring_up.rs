//! Bringing the local stage up: the emulator, the build, the deploy to the
//! emulator through the deploy engine, then the upstream, api and worker.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::Command;

use super::emulator::{self, Listener};
use super::processes::{self, Supervisor};
use super::upstream::LocalUpstream;
use crate::aws::Target;
use crate::aws::cloudformation::Stacks;
use crate::cli::GlobalArgs;
use crate::deploy::engine::{self, Remote, Ui};
use crate::deploy::policy::{EMULATOR_PATIENCE, LOCAL_API_PATIENCE, Policy, UPSTREAM_PATIENCE};
use crate::deploy::{self, Deployment};
use crate::env_contract::{LocalOverrides, REMOVED_FROM_PROCESSES, process_env};
use crate::error::{DeployError, Error, LocalError, Result};
use crate::plan::Plan;
use crate::plan::render::{Format, render, summary};
use crate::render::context;
use crate::session::{self, say};
use crate::stage::Stage;
use crate::stage::rules::runs_offline_upstream;
use serde::{Deserialize, Serialize};

/// The three ports a local run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    /// The emulator.
    pub emulator: u16,
    /// The api process.
    pub api: u16,
    /// The offline upstream.
    pub upstream: u16,
}

/// What `bring_up` started, for the state file and the endpoint lines.
pub(super) struct Ready {
    pub(super) emulator: String,
    pub(super) emulator_started: bool,
    pub(super) upstream: Option<String>,
    pub(super) api: String,
    /// How api and worker run (`--watch` restarts them when this changes).
    pub(super) functions: Functions,
}

/// How the api and worker processes run: the binaries, as packaged and deployed
/// to the emulator, and each one's environment from the stack's resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Functions {
    /// The folder holding `api` and `worker`.
    pub(super) binaries: PathBuf,
    /// The packaged zips' digests (the binaries' identity).
    pub(super) digests: crate::package::Digests,
    pub(super) api_env: Vec<(String, String)>,
    pub(super) worker_env: Vec<(String, String)>,
    /// `http://127.0.0.1:<api port>`.
    pub(super) api: String,
}

fn port_free(port: u16, what: &str, flag: &str) -> Result<()> {
    match TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => Ok(()),
        Err(_) => Err(LocalError::PortBusy {
            port,
            what: what.to_string(),
            flag: flag.to_string(),
        }
        .into()),
    }
}

pub(super) async fn bring_up(
    root: &Path,
    global: &GlobalArgs,
    stage: &Stage,
    ports: Ports,
    sup: &mut Supervisor,
) -> Result<Ready> {
    let local_upstream =
        super::upstream::local_upstream(stage, ports.upstream, upstream_key().as_deref())?;
    let with_upstream = matches!(local_upstream, LocalUpstream::Offline { .. });
    port_free(ports.api, "the api", "--api-port")?;
    if with_upstream {
        port_free(ports.upstream, "the offline upstream", "--upstream-port")?;
    }

    // 1. The emulator: reuse, or start (it boots while we build). On first use
    //    its virtualenv installs on another thread while the functions build.
    let emulator = format!("http://127.0.0.1:{}", ports.emulator);
    let mut installing = None;
    let emulator_started = match emulator::probe(ports.emulator) {
        Listener::Http => {
            say(&format!(
                "emulator: reusing the one answering on {emulator}"
            ));
            false
        }
        Listener::Other => {
            return Err(LocalError::PortBusy {
                port: ports.emulator,
                what: "the emulator; something that is not an HTTP server listens there".into(),
                flag: "--emulator-port".into(),
            }
            .into());
        }
        Listener::Free => {
            match emulator::installed(root) {
                Some(server) => start_emulator(root, &server, ports, sup)?,
                None => {
                    let root = root.to_path_buf();
                    installing = Some(std::thread::spawn(move || {
                        emulator::server_path(&root, &say)
                    }));
                }
            }
            true
        }
    };

    // 2. Build and package (zips of exactly the binaries that run); an
    //    emulator being installed starts as soon as it is, while they build.
    let d = std::thread::scope(|scope| -> Result<Deployment> {
        let gathering =
            scope.spawn(|| Deployment::gather(root, stage, None, None, &["offline-upstream"], &say));
        if let Some(install) = installing {
            let server = install.join().map_err(|_| {
                Error::from(LocalError::EmulatorUnavailable {
                    detail: "its installer stopped unexpectedly".into(),
                })
            })??;
            start_emulator(root, &server, ports, sup)?;
        }
        // A panic there is a bug, reported as it would be on this thread.
        gathering.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    for f in &d.package.manifest.functions {
        say(&format!(
            "packaged {}: {} ({})",
            f.0,
            crate::plan::render::short(&f.1.digest),
            crate::plan::render::human_size(f.1.size)
        ));
    }

    if emulator_started && !emulator::wait_until_answering(ports.emulator, EMULATOR_PATIENCE).await
    {
        return Err(LocalError::ProcessFailed {
            name: "emulator".into(),
            detail: format!(
                "did not answer on {emulator} within {} s",
                EMULATOR_PATIENCE.as_secs()
            ),
            log: PathBuf::from(processes::LOGS_DIR).join("emulator.log"),
        }
        .into());
    }

    // 3. Deploy to the emulator; the processes' environments from the stack's resources.
    let functions = deploy(root, global, stage, ports, &emulator, d).await?;

    // 4. The processes.
    let upstream = if let LocalUpstream::Offline { args } = &local_upstream {
        let mut cmd = Command::new(functions.binaries.join("offline-upstream"));
        cmd.args(args);
        sup.spawn("upstream", cmd, true)?;
        if !emulator::wait_until_answering(ports.upstream, UPSTREAM_PATIENCE).await {
            return Err(failed(
                "upstream",
                &format!(
                    "did not answer on port {} within {} s",
                    ports.upstream,
                    UPSTREAM_PATIENCE.as_secs()
                ),
            ));
        }
        Some(format!("http://127.0.0.1:{}", ports.upstream))
    } else {
        if let LocalUpstream::External { url } = &local_upstream {
            say(&format!(
                "upstream: {url}, as the stage file names it (no offline server started)"
            ));
        }
        None
    };
    start_functions(sup, &functions).await?;
    if let Some(status) = sup.poll_exit("upstream") {
        return Err(failed(
            "upstream",
            &format!("stopped right after starting ({status})"),
        ));
    }
    Ok(Ready {
        emulator,
        emulator_started,
        upstream,
        api: functions.api.clone(),
        functions,
    })
}

/// Deploys `d` to the emulator through the deploy engine (a no-op deploy when
/// nothing changed) and works out how api and worker run against the stack.
pub(super) async fn deploy(
    root: &Path,
    global: &GlobalArgs,
    stage: &Stage,
    ports: Ports,
    emulator: &str,
    d: Deployment,
) -> Result<Functions> {
    let binaries = d.package.binaries.clone().unwrap_or_else(|| {
        crate::package::build::target_dir(root).join(crate::package::build::Profile::Local.name())
    });
    let digests = d.package.digests();
    let target = Target {
        region: global
            .region
            .clone()
            .unwrap_or_else(|| stage.spec.region.clone()),
        profile: None,
        endpoint_url: Some(emulator.to_string()),
        emulator_credentials: true,
    };
    let clients = session::guarded_clients(stage, target).await?;
    let remote = Remote::of(&clients);
    let policy = Policy::local(global.json);
    let dp = engine::plan(&remote, d, &policy, &deploy::now_rfc3339()).await?;
    let ui = LocalUi {
        verbose: global.verbose > 0,
        shown: Cell::new(None),
    };
    let out = engine::apply(&remote, &dp, &policy, &ui).await?;
    let d = &dp.deployment;
    if let (true, Some(shown)) = (out.plan.changes, ui.shown.get()) {
        say(&format!(
            "deployed {} to the emulator in {:.1}s",
            d.stack_name,
            shown.elapsed().as_secs_f64()
        ));
    }

    let resources: BTreeMap<String, String> = clients
        .cloudformation
        .resources(&d.stack_name)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.logical_id, r.physical_id?)))
        .collect();
    let ctx = context::build(stage, &crate::outputs::local(), None);
    let overrides = LocalOverrides {
        endpoint: emulator.to_string(),
        region: d.region.clone(),
        api_port: ports.api,
        upstream: runs_offline_upstream(stage)
            .then(|| format!("http://127.0.0.1:{}", ports.upstream)),
        api_key: upstream_key(),
    };
    let api_env = process_env(&ctx.functions.api.environment, &resources, &overrides, true)
        .map_err(|id| missing_resource(&d.stack_name, &id))?;
    let worker_env = process_env(
        &ctx.functions.worker.environment,
        &resources,
        &overrides,
        false,
    )
    .map_err(|id| missing_resource(&d.stack_name, &id))?;
    Ok(Functions {
        binaries,
        digests,
        api_env,
        worker_env,
        api: format!("http://127.0.0.1:{}", ports.api),
    })
}

/// Starts the api (and waits until it passes the smoke test), then the worker.
pub(super) async fn start_functions(sup: &mut Supervisor, f: &Functions) -> Result<()> {
    sup.spawn("api", child(&f.binaries.join("api"), &f.api_env), true)?;
    if let Err(e) = deploy::smoke::check(&f.api, LOCAL_API_PATIENCE).await {
        return Err(failed(
            "api",
            &format!("did not pass its smoke test (health and two read routes): {e}"),
        ));
    }
    sup.spawn(
        "worker",
        child(&f.binaries.join("worker"), &f.worker_env),
        true,
    )?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for name in ["api", "worker"] {
        if let Some(status) = sup.poll_exit(name) {
            return Err(failed(
                name,
                &format!("stopped right after starting ({status})"),
            ));
        }
    }
    Ok(())
}

/// Starts moto's server through tools/moto_server.py, which gives its DynamoDB
/// the per-item atomicity the breaker's counts rely on.
fn start_emulator(root: &Path, server: &Path, ports: Ports, sup: &mut Supervisor) -> Result<()> {
    let mut cmd = Command::new(server.with_file_name("python"));
    cmd.arg(root.join("tools/moto_server.py"));
    cmd.args(["-H", "127.0.0.1", "-p", &ports.emulator.to_string()]);
    sup.spawn("emulator", cmd, false)?;
    say(&format!(
        "emulator: starting moto on http://127.0.0.1:{}",
        ports.emulator
    ));
    Ok(())
}

/// `UPSTREAM_API_KEY` from the deployer's environment: a v5 upstream needs it
/// locally, since the emulator holds no SSM parameter.
fn upstream_key() -> Option<String> {
    std::env::var("UPSTREAM_API_KEY")
        .ok()
        .filter(|k| !k.is_empty())
}

fn failed(name: &str, detail: &str) -> Error {
    Error::from(LocalError::ProcessFailed {
        name: name.to_string(),
        detail: detail.to_string(),
        log: PathBuf::from(processes::LOGS_DIR).join(format!("{name}.log")),
    })
}

fn missing_resource(stack: &str, logical_id: &str) -> Error {
    Error::from(DeployError::EmulatorRejected {
        stack: stack.to_string(),
        message: format!("the stack has no physical id for {logical_id}"),
    })
}

fn child(program: &Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(program);
    for var in REMOVED_FROM_PROCESSES {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

/// How `up local` shows the plan: a one-line summary (`-v`: the whole plan),
/// or that the stack has no changes; remembers when, to time the deploy.
struct LocalUi {
    verbose: bool,
    shown: Cell<Option<Instant>>,
}

impl Ui for LocalUi {
    fn plan(&self, plan: &Plan) {
        if !plan.changes {
            say(&format!("stack {}: no changes", plan.stack_name));
            return;
        }
        if self.verbose {
            eprint!("{}", render(plan, Format::Text));
        } else {
            say(&format!(
                "stack {}: {} (-v shows the plan)",
                plan.stack_name,
                summary(plan)
            ));
        }
        self.shown.set(Some(Instant::now()));
    }
}
