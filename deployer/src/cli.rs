//! The command line: flags and subcommands (clap derive).
//!
//! Kept in the library so tests can check the definitions and later commands
//! (package, plan, up, local) slot in beside `render` and `validate`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Renders, validates (and later deploys) the countries service's stages.
#[derive(Debug, Parser)]
#[command(
    name = "deployer",
    version,
    about = "Renders, validates and deploys the countries service's stages",
    after_help = "Exit codes: 0 ok, 1 a check failed, 2 usage or configuration error.\n\nExample:\n  deployer render --all --check"
)]
pub struct Cli {
    /// Flags every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by all commands.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// AWS profile to use (commands that call AWS).
    #[arg(long, global = true, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region; defaults to the stage file's region.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send AWS calls to this endpoint (an emulator).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Answer yes to confirmations (non-interactive runs).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// More output; repeat for more.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Repository root (the folder with stages/ and templates/); found from the current folder by default.
    #[arg(long, global = true, env = "DEPLOYER_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Read every cloud stage's Terraform outputs from this `terraform output -json` file instead of its stage file's source.
    #[arg(
        long,
        global = true,
        env = "DEPLOYER_OUTPUTS_FILE",
        value_name = "FILE"
    )]
    pub outputs_file: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render templates/ for a stage into generated/<stage>/ (or check that it is up to date).
    #[command(
        after_help = "Examples:\n  deployer render dev\n  deployer render --all --check     # CI: fail with a diff if generated/ is stale\n  deployer render prod --out /tmp/gen"
    )]
    Render(RenderArgs),
    /// Lint generated/<stage>/stack.yaml with cfn-lint and checkov.
    #[command(
        after_help = "Examples:\n  deployer validate --all\n  deployer validate dev\n\nThe linters come from .countries/venv-lint; create it with:\n  python3 -m venv .countries/venv-lint && .countries/venv-lint/bin/pip install -r tools/requirements-lint.txt"
    )]
    Validate(StageSelection),
}

/// One stage by name, or all of them.
#[derive(Debug, Args)]
pub struct StageSelection {
    /// The stage (a file in stages/).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub stage: Option<String>,
    /// Every stage in stages/.
    #[arg(long)]
    pub all: bool,
}

/// `render` arguments.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Which stages.
    #[command(flatten)]
    pub selection: StageSelection,
    /// Do not write; exit 1 with a unified diff if the files differ from a fresh render.
    #[arg(long)]
    pub check: bool,
    /// Write (or check) <DIR>/<stage>/ instead of generated/<stage>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn stage_or_all_is_required() {
        assert!(Cli::try_parse_from(["deployer", "render"]).is_err());
        assert!(Cli::try_parse_from(["deployer", "render", "dev", "--all"]).is_err());
        assert!(Cli::try_parse_from(["deployer", "render", "--all", "--check"]).is_ok());
        assert!(Cli::try_parse_from(["deployer", "-v", "validate", "dev", "--json"]).is_ok());
    }
}
