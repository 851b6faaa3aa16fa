//! `deployer up local`: the whole system on this machine, no AWS account.
//!
//! Takes the lock, ensures the emulator (reuse, or install and start moto),
//! builds and packages the functions, deploys the same rendered stack to the
//! emulator through the shared deploy engine, then runs `offline-upstream`,
//! `api` and `worker` as child processes configured from the stack's
//! resources, prints the endpoints and stays in the foreground until Ctrl-C
//! or SIGTERM, when it stops what it started and nothing else.

pub mod emulator;
pub mod lock;
pub mod processes;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::process::Command;
use tokio::signal::unix::{SignalKind, signal};

use crate::aws::cloudformation::Stacks;
use crate::aws::s3::Artifacts;
use crate::aws::{Clients, Target};
use crate::cli::{GlobalArgs, UpArgs};
use crate::deploy::{self, Deployment, progress::Display};
use crate::error::{Error, Result};
use crate::render::context::{self, EnvVar};
use crate::session::{self, say};
use crate::stage::Stage;
use crate::stage::schema::Provider;
use emulator::Listener;
use processes::Supervisor;

/// The running instance's endpoints and processes, for `deployer status` and tests.
pub const STATE_FILE: &str = ".countries/local/state.json";

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
        return Err(Error::NotForLocal {
            flag: "--artifacts".into(),
        });
    }
    let Some(ports) = ports(stage, args) else {
        return Err(Error::LocalOnly {
            flag: "up local".into(),
            stage: stage.name.clone(),
        });
    };
    let (_lock, taken) = lock::acquire(root)?;
    if let lock::Taken::Stale(pid) = taken {
        clean_up_stale(root, pid);
    }
    let runtime = session::runtime()?;
    let result = runtime.block_on(run(root, global, stage, ports, started));
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
        if lock::alive(p.pid, program) {
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
) -> Result<()> {
    let mut sigint = signal(SignalKind::interrupt()).map_err(runtime_error)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(runtime_error)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(runtime_error)?;
    let mut sup = Supervisor::new(root)?;
    let starting = {
        let bring = bring_up(root, global, stage, ports, &mut sup);
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
    let state = State {
        pid: std::process::id(),
        api: ready.api.clone(),
        emulator: ready.emulator.clone(),
        upstream: ready.upstream.clone(),
        emulator_started: ready.emulator_started,
        processes: sup.started().to_vec(),
    };
    let state_path = root.join(STATE_FILE);
    std::fs::write(
        &state_path,
        serde_json::to_string_pretty(&state).unwrap_or_default(),
    )
    .map_err(|source| Error::Write {
        path: state_path,
        source,
    })?;
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

    let outcome = tokio::select! {
        _ = sigint.recv() => Ok("Ctrl-C"),
        _ = sigterm.recv() => Ok("SIGTERM"),
        _ = sighup.recv() => Ok("SIGHUP"),
        exit = sup.next_exit() => {
            let (name, status) = exit.unwrap_or_else(|| ("a process".into(), Default::default()));
            Err(Error::ProcessFailed {
                log: PathBuf::from(processes::LOGS_DIR).join(format!("{name}.log")),
                detail: format!("stopped on its own ({status})"),
                name,
            })
        }
    };
    if let Ok(why) = &outcome {
        say(&format!("{why}: stopping {}", names(&sup)));
    }
    sup.stop_all(Duration::from_secs(5)).await;
    say("stopped");
    outcome.map(|_| ())
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
    Error::Runtime {
        detail: e.to_string(),
    }
}

struct Ready {
    emulator: String,
    emulator_started: bool,
    upstream: Option<String>,
    api: String,
}

fn port_free(port: u16, what: &str, flag: &str) -> Result<()> {
    match TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => Ok(()),
        Err(_) => Err(Error::PortBusy {
            port,
            what: what.to_string(),
            flag: flag.to_string(),
        }),
    }
}

/// Whether the stage's upstream is the offline server this run starts.
fn runs_offline_upstream(stage: &Stage) -> bool {
    let up = &stage.spec.app.upstream;
    up.provider == Provider::V3 && up.base_url.starts_with("http://127.0.0.1:")
}

async fn bring_up(
    root: &Path,
    global: &GlobalArgs,
    stage: &Stage,
    ports: Ports,
    sup: &mut Supervisor,
) -> Result<Ready> {
    let with_upstream = runs_offline_upstream(stage);
    port_free(ports.api, "the api", "--api-port")?;
    if with_upstream {
        port_free(ports.upstream, "the offline upstream", "--upstream-port")?;
    }

    // 1. The emulator: reuse, or start (it boots while we build).
    let emulator = format!("http://127.0.0.1:{}", ports.emulator);
    let emulator_started = match emulator::probe(ports.emulator) {
        Listener::Http => {
            say(&format!(
                "emulator: reusing the one answering on {emulator}"
            ));
            false
        }
        Listener::Other => {
            return Err(Error::PortBusy {
                port: ports.emulator,
                what: "the emulator; something that is not an HTTP server listens there".into(),
                flag: "--emulator-port".into(),
            });
        }
        Listener::Free => {
            let server = emulator::server_path(root, &say)?;
            let mut cmd = Command::new(server);
            cmd.args(["-H", "127.0.0.1", "-p", &ports.emulator.to_string()]);
            sup.spawn("emulator", cmd, false)?;
            say(&format!("emulator: starting moto on {emulator}"));
            true
        }
    };

    // 2. Build and package (the same zips a cloud stage gets).
    let d = Deployment::gather(root, stage, None, None, &["offline-upstream"], &say)?;
    let binaries = d
        .package
        .binaries
        .clone()
        .unwrap_or_else(|| crate::package::build::target_dir(root).join("release"));
    for f in &d.package.manifest.functions {
        say(&format!(
            "packaged {}: {} ({})",
            f.0,
            crate::plan::render::short(&f.1.digest),
            crate::plan::render::human_size(f.1.size)
        ));
    }

    if emulator_started
        && !emulator::wait_until_answering(ports.emulator, Duration::from_secs(60)).await
    {
        return Err(Error::ProcessFailed {
            name: "emulator".into(),
            detail: format!("did not answer on {emulator} within 60 s"),
            log: PathBuf::from(processes::LOGS_DIR).join("emulator.log"),
        });
    }

    // 3. Deploy to the emulator, through the same engine as a cloud stage.
    let target = Target {
        region: global
            .region
            .clone()
            .unwrap_or_else(|| stage.spec.region.clone()),
        profile: None,
        endpoint_url: Some(emulator.clone()),
        emulator_credentials: true,
    };
    let clients = session::guarded_clients(stage, target).await?;
    clients.s3.ensure_bucket(&d.bucket, &d.region).await?;
    remove_stuck_stack(&clients, &d, &say).await?;
    let plan = deploy::prepare(
        &clients.cloudformation,
        &clients.s3,
        &d,
        &deploy::now_rfc3339(),
    )
    .await?;
    if plan.changes {
        if global.verbose > 0 {
            eprint!(
                "{}",
                crate::plan::render::render(&plan, crate::plan::render::Format::Text)
            );
        } else {
            say(&format!(
                "stack {}: {} (-v shows the plan)",
                d.stack_name,
                crate::plan::render::summary(&plan)
            ));
        }
        let display = Display::new(global.json);
        let deployed = Instant::now();
        deploy::execute(&clients.cloudformation, &clients.s3, &d, &plan, &display).await?;
        display.finish();
        say(&format!(
            "deployed {} to the emulator in {:.1}s",
            d.stack_name,
            deployed.elapsed().as_secs_f64()
        ));
    } else {
        say(&format!("stack {}: no changes", d.stack_name));
    }

    // 4. The processes, configured from the stack's resources.
    let resources: BTreeMap<String, String> = clients
        .cloudformation
        .resources(&d.stack_name)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.logical_id, r.physical_id?)))
        .collect();
    let ctx = context::build(stage, &crate::outputs::local(), None);
    let overrides = LocalOverrides {
        endpoint: emulator.clone(),
        region: d.region.clone(),
        api_port: ports.api,
        upstream: with_upstream.then(|| format!("http://127.0.0.1:{}", ports.upstream)),
        api_key: std::env::var("UPSTREAM_API_KEY")
            .ok()
            .filter(|k| !k.is_empty()),
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

    let upstream = if with_upstream {
        let mut cmd = Command::new(binaries.join("offline-upstream"));
        cmd.args(["--port", &ports.upstream.to_string()]);
        sup.spawn("upstream", cmd, true)?;
        if !emulator::wait_until_answering(ports.upstream, Duration::from_secs(10)).await {
            return Err(failed(
                "upstream",
                &format!("did not answer on port {} within 10 s", ports.upstream),
            ));
        }
        Some(format!("http://127.0.0.1:{}", ports.upstream))
    } else {
        None
    };

    let api = format!("http://127.0.0.1:{}", ports.api);
    sup.spawn("api", child(&binaries.join("api"), &api_env), true)?;
    if let Err(e) = deploy::smoke::check(&api, Duration::from_secs(20)).await {
        return Err(failed(
            "api",
            &format!("did not pass its smoke test (health and two read routes): {e}"),
        ));
    }
    sup.spawn("worker", child(&binaries.join("worker"), &worker_env), true)?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for name in ["upstream", "api", "worker"] {
        if let Some(status) = sup.poll_exit(name) {
            return Err(failed(
                name,
                &format!("stopped right after starting ({status})"),
            ));
        }
    }
    Ok(Ready {
        emulator,
        emulator_started,
        upstream,
        api,
    })
}

fn failed(name: &str, detail: &str) -> Error {
    Error::ProcessFailed {
        name: name.to_string(),
        detail: detail.to_string(),
        log: PathBuf::from(processes::LOGS_DIR).join(format!("{name}.log")),
    }
}

fn missing_resource(stack: &str, logical_id: &str) -> Error {
    Error::EmulatorRejected {
        stack: stack.to_string(),
        message: format!("the stack has no physical id for {logical_id}"),
    }
}

fn child(program: &Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_PROFILE",
        "AWS_LAMBDA_RUNTIME_API",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

/// A stack created in the emulator by a change set that then failed stays
/// half-made (it never rolls back): delete it so the deploy starts afresh.
async fn remove_stuck_stack(clients: &Clients, d: &Deployment, say: &dyn Fn(&str)) -> Result<()> {
    for _ in 0..5 {
        let Some(stack) = clients.cloudformation.describe_stack(&d.stack_name).await? else {
            return Ok(());
        };
        if deploy::change_set_type_for(Some(&stack.status)).is_ok()
            && stack.status != "REVIEW_IN_PROGRESS"
        {
            return Ok(());
        }
        say(&format!(
            "the emulator's stack {} is {} after an earlier failed deploy; deleting it (local data only) and deploying afresh",
            d.stack_name, stack.status
        ));
        clients.cloudformation.delete_stack(&stack.id, None).await?;
    }
    Err(Error::StackNotReady {
        stack: d.stack_name.clone(),
        problem: "the emulator keeps a stuck copy of it; restart the emulator".into(),
    })
}

/// Local-only values layered over the function environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOverrides {
    /// `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    /// `AWS_REGION`.
    pub region: String,
    /// The api's `PORT`.
    pub api_port: u16,
    /// The offline upstream's URL, replacing `UPSTREAM_BASE_URL` (port overrides).
    pub upstream: Option<String>,
    /// `UPSTREAM_API_KEY` from the deployer's environment (a v5 stage run locally).
    pub api_key: Option<String>,
}

/// A local process's environment: the function's Lambda environment with stack
/// references resolved to the stack's physical ids, plus the emulator's endpoint
/// and dummy credentials. Pure; the error is a logical id the stack lacks.
pub fn process_env(
    vars: &[EnvVar],
    resources: &BTreeMap<String, String>,
    o: &LocalOverrides,
    is_api: bool,
) -> std::result::Result<Vec<(String, String)>, String> {
    let mut env = Vec::new();
    for v in vars {
        let value = match &v.stack_ref {
            Some(id) => resources.get(id).cloned().ok_or_else(|| id.clone())?,
            None => v.value.clone(),
        };
        let value = match (v.name.as_str(), &o.upstream) {
            ("UPSTREAM_BASE_URL", Some(url)) => url.clone(),
            _ => value,
        };
        if v.name == "UPSTREAM_API_KEY_PARAMETER" && o.api_key.is_some() {
            continue; // the emulator has no such parameter; the key comes from the environment
        }
        env.push((v.name.clone(), value));
    }
    if let (false, Some(key)) = (is_api, &o.api_key) {
        env.push(("UPSTREAM_API_KEY".into(), key.clone()));
    }
    if is_api {
        env.push(("PORT".into(), o.api_port.to_string()));
    }
    for (k, v) in [
        ("AWS_ENDPOINT_URL", o.endpoint.as_str()),
        ("AWS_REGION", o.region.as_str()),
        ("AWS_DEFAULT_REGION", o.region.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        env.push((k.to_string(), v.to_string()));
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: &str, r: Option<&str>) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: value.into(),
            stack_ref: r.map(str::to_string),
        }
    }

    fn overrides(upstream: Option<&str>) -> LocalOverrides {
        LocalOverrides {
            endpoint: "http://127.0.0.1:4599".into(),
            region: "us-east-1".into(),
            api_port: 3001,
            upstream: upstream.map(str::to_string),
            api_key: None,
        }
    }

    #[test]
    fn stack_references_resolve_to_physical_ids() {
        let vars = [
            var("STAGE", "local", None),
            var("QUEUE_URL", "derived", Some("FetchQueue")),
            var("UPSTREAM_BASE_URL", "http://127.0.0.1:8081", None),
        ];
        let resources: BTreeMap<String, String> =
            [("FetchQueue".to_string(), "http://q".to_string())].into();
        let env = process_env(
            &vars,
            &resources,
            &overrides(Some("http://127.0.0.1:9")),
            true,
        )
        .unwrap();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("QUEUE_URL"), Some("http://q"));
        assert_eq!(get("UPSTREAM_BASE_URL"), Some("http://127.0.0.1:9"));
        assert_eq!(get("PORT"), Some("3001"));
        assert_eq!(get("AWS_ENDPOINT_URL"), Some("http://127.0.0.1:4599"));
        assert_eq!(get("AWS_ACCESS_KEY_ID"), Some("testing"));
    }

    #[test]
    fn a_missing_resource_is_named() {
        let vars = [var("COUNTRIES_TABLE", "x", Some("CountriesTable"))];
        assert_eq!(
            process_env(&vars, &BTreeMap::new(), &overrides(None), false),
            Err("CountriesTable".to_string())
        );
    }
}
