//! The subcommands' drivers: they do the I/O and printing around the pure modules.

pub mod completions;
pub mod down;
pub mod drift;
pub mod logs;
pub mod metrics;
pub mod outputs;
pub mod package;
pub mod plan;
pub mod promote;
pub mod render;
pub mod status;
pub mod up;
pub mod validate;

use crate::cli::{Cli, Command};
use crate::error::{Error, FsError, Result};
use crate::session::find_root;

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
        global.outputs_file = Some(std::path::absolute(file).map_err(|source| {
            Error::from(FsError::Read {
                path: file.clone(),
                source,
            })
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
        Command::Drift(args) => drift::run(&root, &global, args),
        Command::Promote(args) => promote::run(&root, &global, args),
        Command::Outputs(args) => outputs::run(&root, &global, args),
        Command::Logs(args) => logs::run(&root, &global, args),
        Command::Completions(args) => completions::run(args),
    }
}
