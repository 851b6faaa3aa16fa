//! `deployer completions <shell>` and `--help`: completions generate for each
//! shell and know the subcommands; every command's help shows an example.

use crate::common;

use std::process::Command;

use clap::CommandFactory;
use deployer::cli::Cli;

#[test]
fn completions_generate_for_each_shell() {
    let subcommands: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|n| n != "help")
        .collect();
    for shell in ["bash", "zsh", "fish"] {
        // Outside any repository: completions need none.
        let out = Command::new(env!("CARGO_BIN_EXE_deployer"))
            .args(["completions", shell])
            .current_dir(std::env::temp_dir())
            .env_remove("DEPLOYER_ROOT")
            .output()
            .expect("run deployer");
        let (stdout, stderr) = common::texts(&out);
        assert!(out.status.success(), "{shell}: {stderr}");
        assert!(stdout.contains("deployer"), "{shell}");
        for name in &subcommands {
            assert!(
                stdout.contains(name.as_str()),
                "{shell} completions lack `{name}`"
            );
        }
        assert!(
            stdout.contains("request-id"),
            "{shell} completions lack logs' flags"
        );
    }
}

#[test]
fn every_command_help_has_an_example() {
    let cli = Cli::command();
    let top = cli
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    assert!(top.contains("Example"), "deployer --help has no example");
    for sub in cli.get_subcommands() {
        let help = sub
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(
            help.contains("Example") && help.contains(&format!("deployer {}", sub.get_name())),
            "`deployer {} --help` shows no example",
            sub.get_name()
        );
        // Built, so the global flags are propagated to each subcommand.
        let mut built = Cli::command();
        built.build();
        let long = built
            .find_subcommand_mut(sub.get_name())
            .expect("built subcommand")
            .render_long_help()
            .to_string();
        for flag in [
            "--profile",
            "--region",
            "--endpoint-url",
            "--json",
            "--yes",
            "--verbose",
        ] {
            assert!(
                long.contains(flag),
                "`deployer {} --help` lacks {flag}",
                sub.get_name()
            );
        }
    }
}
