//! The subcommands' drivers: they do the I/O and printing around the pure modules.

pub mod completions;
pub mod down;
pub mod logs;
pub mod outputs;
pub mod package;
pub mod plan;
pub mod promote;
pub mod render;
pub mod status;
pub mod up;
pub mod validate;

use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::error::{Error, Result};
use crate::render::templates::TEMPLATES_DIR;
use crate::stage::STAGES_DIR;

/// Runs the parsed command line.
pub fn run(cli: &Cli) -> Result<()> {
    // Completions need no repository.
    if let Command::Completions(args) = &cli.command {
        return completions::run(args);
    }
    let root = find_root(cli.global.root.as_deref())?;
    let mut global = cli.global.clone();
    // An outputs file given on the command line or in the environment is relative to
    // the current folder (stage files' paths are relative to the repository root).
    if let Some(file) = &global.outputs_file {
        global.outputs_file = Some(std::path::absolute(file).map_err(|source| Error::Read {
            path: file.clone(),
            source,
        })?);
    }
    match &cli.command {
        Command::Render(args) => render::run(&root, &global, args),
        Command::Validate(args) => validate::run(&root, &global, args),
        Command::Package(args) => package::run(&root, &global, args),
        Command::Plan(args) => plan::run(&root, &global, args),
        Command::Up(args) => up::run(&root, &global, args),
        Command::Down(args) => down::run(&root, &global, args),
        Command::Status(args) => status::run(&root, &global, args),
        Command::Promote(args) => promote::run(&root, &global, args),
        Command::Outputs(args) => outputs::run(&root, &global, args),
        Command::Logs(args) => logs::run(&root, &global, args),
        Command::Completions(args) => completions::run(args),
    }
}

/// The clients for a stage, once the caller's account is checked against the
/// stage's: `plan` and `up` call this first, so wrong credentials fail in a
/// second rather than after a release build.
pub fn checked_clients(
    runtime: &tokio::runtime::Runtime,
    stage: &crate::stage::Stage,
    global: &GlobalArgs,
) -> Result<crate::aws::Clients> {
    runtime.block_on(async {
        let clients = crate::aws::Clients::new(target_for(stage, global)).await;
        crate::deploy::account_guard(&clients.sts, &stage.name, &stage.spec.account).await?;
        Ok(clients)
    })
}

/// The async runtime the AWS commands run on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime {
            detail: e.to_string(),
        })
}

/// Loads the stage files and picks one by name.
pub fn one_stage(root: &Path, name: &str) -> Result<crate::stage::Stage> {
    let stages = crate::stage::load_all(root)?;
    let stage = crate::stage::select(&stages, Some(name))?
        .into_iter()
        .next()
        .cloned();
    stage.ok_or_else(|| Error::UnknownStage {
        name: name.to_string(),
        available: stages.iter().map(|s| s.name.clone()).collect(),
    })
}

/// Where a stage's AWS calls go: the stage's region (or --region), and for a local
/// stage the emulator with its dummy credentials.
pub fn target_for(stage: &crate::stage::Stage, global: &GlobalArgs) -> crate::aws::Target {
    let region = global
        .region
        .clone()
        .unwrap_or_else(|| stage.spec.region.clone());
    match &stage.spec.local {
        Some(local) => {
            let port = std::env::var("DEPLOYER_LOCAL_EMULATOR_PORT")
                .ok()
                .and_then(|p| p.parse::<u16>().ok())
                .unwrap_or(local.emulator_port);
            crate::aws::Target {
                region,
                profile: None,
                endpoint_url: Some(format!("http://127.0.0.1:{port}")),
                emulator_credentials: true,
            }
        }
        None => crate::aws::Target {
            region,
            profile: global.profile.clone(),
            endpoint_url: global.endpoint_url.clone(),
            emulator_credentials: false,
        },
    }
}

/// For a local stage, fails unless the emulator answers (plan, down and status need it running).
pub fn emulator_running(target: &crate::aws::Target, stage: &str) -> Result<()> {
    let port = target
        .endpoint_url
        .as_deref()
        .and_then(|u| u.rsplit(':').next())
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_default();
    if crate::local::emulator::probe(port) == crate::local::emulator::Listener::Http {
        Ok(())
    } else {
        Err(Error::EmulatorNotRunning {
            port,
            stage: stage.to_string(),
        })
    }
}

/// Asks `question` on the terminal unless `yes`; without a terminal, refuses.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::ConfirmationNeeded {
            action: question.to_string(),
        });
    }
    eprint!("{question}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::Declined {
            action: question.to_string(),
        })
    }
}

/// Progress messages go to stderr, so stdout stays the command's result.
pub fn say(message: &str) {
    eprintln!("{message}");
}

/// The repository root: the given folder, or the nearest folder from the
/// current one upwards that holds both stages/ and templates/.
pub fn find_root(given: Option<&Path>) -> Result<PathBuf> {
    let is_root = |p: &Path| p.join(STAGES_DIR).is_dir() && p.join(TEMPLATES_DIR).is_dir();
    if let Some(dir) = given {
        return if is_root(dir) {
            Ok(dir.to_path_buf())
        } else {
            Err(Error::RootNotFound {
                start: dir.to_path_buf(),
            })
        };
    }
    let start = std::env::current_dir().map_err(|source| Error::Read {
        path: PathBuf::from("."),
        source,
    })?;
    start
        .ancestors()
        .find(|p| is_root(p))
        .map(Path::to_path_buf)
        .ok_or(Error::RootNotFound { start })
}
