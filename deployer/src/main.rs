//! `deployer`: renders, validates (and later deploys) the countries service.

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
            for line in err.to_string().lines() {
                eprintln!("error: {line}");
            }
            eprintln!("hint: {}", err.hint());
            ExitCode::from(err.exit_code())
        }
    }
}
