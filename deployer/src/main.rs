//! `deployer`: renders, validates, packages, deploys and promotes the countries service.

use std::process::ExitCode;

use clap::Parser;
use deployer::cli::Cli;

fn main() -> ExitCode {
    // A bug must still read like an error, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error: {info}");
        eprintln!("hint: this is a bug in the deployer; please report it with the command you ran");
        std::process::exit(1);
    }));
    let cli = Cli::parse();
    match deployer::commands::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The offending line with a caret for stage-file and template errors
            // (deployer::diagnostics); with --json the same on stdout as JSON.
            use std::io::IsTerminal;
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", deployer::diagnostics::report(&err, color));
            if cli.global.json && !err.in_json_summary() {
                println!("{:#}", deployer::diagnostics::json(&err));
            }
            ExitCode::from(err.exit_code())
        }
    }
}
