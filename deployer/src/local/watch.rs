//! `deployer up local --watch`: after a change to the app's source (`app/`,
//! the workspace's Cargo.toml and Cargo.lock), the stage file or the
//! templates, rebuild the functions (the fast local profile), package them,
//! re-render and redeploy the local stack through the deploy engine (a no-op
//! deploy when neither the template nor the digests changed), and restart
//! `api` and `worker` when what they run changed. The emulator, its tables,
//! queues and data, and the offline upstream keep running. A failed build or
//! deploy is printed and the running processes keep serving.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use tokio::sync::mpsc;

use super::bring_up::{self, Functions, Ports};
use super::processes::Supervisor;
use crate::cli::GlobalArgs;
use crate::deploy::Deployment;
use crate::error::{Error, LocalError, Result};
use crate::render::{self, Templates};
use crate::session::{self, say};

/// How long the file system must be quiet before a burst of events counts as one change.
const QUIET: Duration = Duration::from_millis(200);

/// What a change touches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Change {
    /// The functions' source: rebuild.
    pub code: bool,
    /// The stage file or the templates: re-render and redeploy.
    pub stack: bool,
}

impl Change {
    fn any(self) -> bool {
        self.code || self.stack
    }
}

/// What changed, from the paths the watcher reported (absolute, under `root`). Pure.
/// Editor leftovers (dot files, `~` backups, swap files) do not count.
pub fn classify(root: &Path, stage: &str, paths: &[PathBuf]) -> Change {
    let mut change = Change::default();
    for path in paths {
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.is_empty() || name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp")
        {
            continue;
        }
        let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
        match parts.as_slice() {
            ["app", ..] | ["Cargo.toml" | "Cargo.lock"] => change.code = true,
            ["templates", ..] => change.stack = true,
            ["stages", file] if *file == format!("{stage}.yaml") => change.stack = true,
            _ => {}
        }
    }
    change
}

/// The file-system watcher (notify, debounced): app/, templates/, stages/ and
/// the workspace's manifests.
pub struct Watcher {
    root: PathBuf,
    stage: String,
    _debouncer: Debouncer<RecommendedWatcher>,
    events: mpsc::UnboundedReceiver<Vec<PathBuf>>,
    /// Paths written (or removed) after this count; reads do not (a build
    /// reading every source file must not look like a change).
    since: SystemTime,
}

impl Watcher {
    /// Starts watching `root` for changes that concern `stage`.
    pub fn start(root: &Path, stage: &str) -> Result<Self> {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let failed = |what: &str, e: notify_debouncer_mini::notify::Error| {
            Error::from(LocalError::WatchFailed {
                detail: format!("{what}: {e}"),
            })
        };
        let (tx, events) = mpsc::unbounded_channel();
        let mut debouncer = new_debouncer(QUIET, move |result: DebounceEventResult| {
            if let Ok(events) = result {
                let _ = tx.send(events.into_iter().map(|e| e.path).collect());
            }
        })
        .map_err(|e| failed("cannot start the file watcher", e))?;
        for (dir, mode) in [
            ("app", RecursiveMode::Recursive),
            ("templates", RecursiveMode::Recursive),
            ("stages", RecursiveMode::NonRecursive),
            (".", RecursiveMode::NonRecursive),
        ] {
            let path = root.join(dir);
            debouncer
                .watcher()
                .watch(&path, mode)
                .map_err(|e| failed(&format!("cannot watch {}", path.display()), e))?;
        }
        Ok(Watcher {
            root,
            stage: stage.to_string(),
            _debouncer: debouncer,
            events,
            since: SystemTime::now(),
        })
    }

    /// The next change that matters, and when its newest file was written.
    pub async fn next(&mut self) -> (Change, SystemTime) {
        loop {
            let Some(paths) = self.events.recv().await else {
                return std::future::pending().await;
            };
            // Written since the last change, or gone (a removed file); not merely read.
            let written: Vec<(PathBuf, Option<SystemTime>)> = paths
                .into_iter()
                .map(|p| {
                    let modified = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
                    (p, modified)
                })
                .filter(|(_, modified)| modified.is_none_or(|m| m > self.since))
                .collect();
            let paths: Vec<PathBuf> = written.iter().map(|(p, _)| p.clone()).collect();
            let change = classify(&self.root, &self.stage, &paths);
            if change.any() {
                let newest = written.iter().filter_map(|(_, m)| *m).max();
                self.since = SystemTime::now().max(newest.unwrap_or(self.since));
                return (change, newest.unwrap_or_else(SystemTime::now));
            }
        }
    }
}

/// Waits for the next change, forever when not watching.
pub(super) async fn next(watcher: &mut Option<Watcher>) -> (Change, SystemTime) {
    match watcher {
        Some(w) => w.next().await,
        None => std::future::pending().await,
    }
}

/// What a `--watch` run needs to redo a deploy.
pub(super) struct Context<'a> {
    /// The repository root.
    pub root: &'a Path,
    /// The global flags.
    pub global: &'a GlobalArgs,
    /// The stage's name (its file is read again on each change).
    pub stage: &'a str,
    /// The run's ports.
    pub ports: Ports,
    /// The emulator's endpoint.
    pub emulator: &'a str,
}

/// Applies one change; failures are printed, never fatal: the processes that
/// run keep serving. Returns true when api and worker were restarted.
pub(super) async fn apply(
    cx: &Context<'_>,
    change: Change,
    written: SystemTime,
    sup: &mut Supervisor,
    running: &mut Functions,
) -> bool {
    let started = Instant::now();
    let what = match (change.code, change.stack) {
        (true, true) => "app/ and the stack",
        (true, false) => "app/",
        _ => "the stage file or templates",
    };
    say(&format!(
        "watch: {what} changed: rebuilding and redeploying"
    ));
    let result = redeploy(cx, change).await;
    let functions = match result {
        Ok(f) => f,
        Err(err) => {
            eprint!("{}", crate::diagnostics::report(&err, false));
            say("watch: api and worker keep serving the previous build; save a fix to try again");
            return false;
        }
    };
    if &functions == running {
        say(&format!(
            "watch: what api and worker run did not change ({:.1}s)",
            started.elapsed().as_secs_f64()
        ));
        return false;
    }
    sup.stop("worker", Duration::from_secs(5)).await;
    sup.stop("api", Duration::from_secs(5)).await;
    if let Err(err) = bring_up::start_functions(sup, &functions).await {
        eprint!("{}", crate::diagnostics::report(&err, false));
        say("watch: the new build does not start; fix and save to try again");
        *running = functions;
        return true;
    }
    *running = functions;
    let since = written.elapsed().unwrap_or(started.elapsed());
    say(&format!(
        "watch: change → serving in {:.1}s (api and worker restarted; the emulator and its data kept)",
        since.as_secs_f64()
    ));
    true
}

/// Re-reads the stage, re-renders generated/<stage> when the stack's inputs
/// changed, builds and packages, and deploys through the deploy engine.
async fn redeploy(cx: &Context<'_>, change: Change) -> Result<Functions> {
    let stage = session::one_stage(cx.root, cx.stage)?;
    if change.stack {
        let outputs = crate::outputs::local();
        let files = render::render_stage(&Templates::load(cx.root)?, &stage, &outputs)?;
        let dir = cx.root.join(render::GENERATED_DIR).join(&stage.name);
        let report = render::write(&dir, &files)?;
        for file in &report.changed {
            say(&format!(
                "watch: rendered {}",
                Path::new(render::GENERATED_DIR)
                    .join(&stage.name)
                    .join(file)
                    .display()
            ));
        }
    }
    let d = tokio::task::block_in_place(|| {
        Deployment::gather(cx.root, &stage, None, None, &["offline-upstream"], &say)
    })?;
    bring_up::deploy(cx.root, cx.global, &stage, cx.ports, cx.emulator, d).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_told_apart() {
        let root = Path::new("/r");
        let c = |p: &str| classify(root, "local", &[root.join(p)]);
        assert_eq!(
            c("app/src/api/mod.rs"),
            Change {
                code: true,
                stack: false
            }
        );
        assert!(c("Cargo.lock").code);
        assert!(c("templates/stack.yaml.hbs").stack);
        assert!(c("stages/local.yaml").stack);
        assert!(!c("stages/dev.yaml").any());
        assert!(!c("app/src/.api.rs.swp").any());
        assert!(!c("app/src/api.rs~").any());
        assert!(!c("README.md").any());
        assert!(!c("deployer/Cargo.toml").any());
    }
}
