//! `deployer completions <shell>`: the shell completion script, generated from
//! the clap definitions so it cannot drift from the real flags.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;

/// The completion script for `shell`, as text (tests check it).
pub fn script(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "deployer", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Prints the completion script on stdout.
pub fn run(args: &CompletionsArgs) -> Result<()> {
    print!("{}", script(args.shell));
    Ok(())
}
