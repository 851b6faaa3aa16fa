//! The subcommands' drivers: they do the I/O and printing around the pure modules.

pub mod render;
pub mod validate;

use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command};
use crate::error::{Error, Result};
use crate::render::templates::TEMPLATES_DIR;
use crate::stage::STAGES_DIR;

/// Runs the parsed command line.
pub fn run(cli: &Cli) -> Result<()> {
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
    }
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
