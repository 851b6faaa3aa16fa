//! What every command shares: the async runtime, progress lines, the
//! confirmation question, the repository root, picking a stage, and the AWS
//! clients for a stage (its role in its own account assumed, then the account
//! guard).
//!
//! Both `commands` and `local` use these; this module imports neither, so the
//! imports between them point one way.

use std::path::{Path, PathBuf};

use crate::aws::sts::StageRole;
use crate::aws::{Clients, Target};
use crate::cli::GlobalArgs;
use crate::error::{Error, FsError, Result, SessionError, StageError};
use crate::render::templates::TEMPLATES_DIR;
use crate::stage::{STAGES_DIR, Stage};

/// The clients for a stage, once the caller's account is checked against the
/// stage's: `plan` and `up` call this first, so wrong credentials fail in a
/// second rather than after a release build.
pub fn checked_clients(
    runtime: &tokio::runtime::Runtime,
    stage: &Stage,
    global: &GlobalArgs,
) -> Result<Clients> {
    runtime.block_on(guarded_clients(stage, target_for(stage, global)))
}

/// The clients for `target`, once the caller's account is checked against the
/// stage's: the one place that pairs `Clients::new` with the account guard, so
/// nothing that changes a stage can skip it (`up local` passes its emulator
/// target). A stage in its own account is reached through its deploy role,
/// assumed here before any other call; the guard then checks the account of
/// that role's session.
pub async fn guarded_clients(stage: &Stage, target: Target) -> Result<Clients> {
    let clients = clients(stage, target, Access::Deploy).await?;
    crate::aws::sts::account_guard(&clients.sts, &stage.name, &stage.spec.account).await?;
    Ok(clients)
}

/// Clients without the account guard, for reads that must work whatever the
/// credentials (`status` of every stage, `logs`, the predecessor stage `up`
/// and `promote` read): they change nothing, and a wrong account shows as an
/// error in the row. A stage in its own account is still reached through its
/// role (`access`), assumed here first.
pub async fn clients(stage: &Stage, target: Target, access: Access) -> Result<Clients> {
    let role = stage_role(stage, access);
    let clients = Clients::new(target, role.as_ref()).await;
    if let Some(role) = &role {
        crate::aws::sts::assume_now(&clients.stage_config, &stage.name, role).await?;
    }
    Ok(clients)
}

/// Clients for what lives in the tooling account only (the pipeline), with
/// the caller's own credentials.
pub async fn tooling_clients(target: Target) -> Clients {
    Clients::new(target, None).await
}

/// Which of a stage's roles in its own account a command works through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `deploy_role_arn`: every command on the stage itself.
    Deploy,
    /// `reader_role_arn` (else `deploy_role_arn`): reading what a predecessor runs.
    Read,
}

/// The role to assume for `stage`: none for a stage in the caller's own
/// account (no `deploy_role_arn`) and for the local stage.
pub fn stage_role(stage: &Stage, access: Access) -> Option<StageRole> {
    let s = &stage.spec;
    let arn = match access {
        Access::Deploy => s.deploy_role_arn.clone(),
        Access::Read => s
            .reader_role_arn
            .clone()
            .or_else(|| s.deploy_role_arn.clone()),
    }?;
    Some(StageRole {
        arn,
        external_id: s.external_id.clone(),
        session_name: format!("countries-deployer-{}", stage.name),
    })
}

/// The async runtime the AWS commands run on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            Error::from(SessionError::Runtime {
                detail: e.to_string(),
            })
        })
}

/// Loads the stage files and picks one by name.
pub fn one_stage(root: &Path, name: &str) -> Result<Stage> {
    let stages = crate::stage::load_all(root)?;
    let stage = crate::stage::select(&stages, Some(name))?
        .into_iter()
        .next()
        .cloned();
    stage.ok_or_else(|| {
        Error::from(StageError::UnknownStage {
            name: name.to_string(),
            available: stages.iter().map(|s| s.name.clone()).collect(),
        })
    })
}

/// Where a stage's AWS calls go: the stage's region (or --region), and for a local
/// stage the emulator with its dummy credentials.
pub fn target_for(stage: &Stage, global: &GlobalArgs) -> Target {
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
            Target {
                region,
                profile: None,
                endpoint_url: Some(format!("http://127.0.0.1:{port}")),
                emulator_credentials: true,
            }
        }
        None => Target {
            region,
            profile: global.profile.clone(),
            endpoint_url: global.endpoint_url.clone(),
            emulator_credentials: false,
        },
    }
}

/// Asks `question` on the terminal unless `yes`; without a terminal, refuses.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(SessionError::ConfirmationNeeded {
            action: question.to_string(),
        }
        .into());
    }
    eprint!("{question}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(SessionError::Declined {
            action: question.to_string(),
        }
        .into())
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
            Err(SessionError::RootNotFound {
                start: dir.to_path_buf(),
            }
            .into())
        };
    }
    let start = std::env::current_dir().map_err(|source| {
        Error::from(FsError::Read {
            path: PathBuf::from("."),
            source,
        })
    })?;
    start
        .ancestors()
        .find(|p| is_root(p))
        .map(Path::to_path_buf)
        .ok_or(Error::from(SessionError::RootNotFound { start }))
}
