//! The command line: flags and subcommands (clap derive).
//!
//! Kept in the library so tests can check the definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Renders, validates, packages and deploys the countries service's stages.
#[derive(Debug, Parser)]
#[command(
    name = "deployer",
    version,
    about = "Renders, validates and deploys the countries service's stages",
    after_help = "Exit codes: 0 ok, 1 a check or deploy failed, 2 usage or configuration error.\n\nExamples:\n  deployer up local              # the whole system on this machine\n  deployer render --all --check\n  deployer plan dev"
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
    /// Build api and worker in release mode and zip each as `bootstrap` into target/lambda/ with a manifest.
    #[command(
        after_help = "Examples:\n  deployer package            # for this machine's architecture\n  deployer package dev        # for dev's architecture (cross builds need cargo-zigbuild)\n\nWrites target/lambda/{api,worker}.zip and target/lambda/manifest.json (digest, size, S3 key, git commit)."
    )]
    Package(PackageArgs),
    /// Show what `up` would change in a stage: a CloudFormation change set, created and then deleted.
    #[command(
        after_help = "Examples:\n  deployer plan dev\n  deployer plan dev --artifacts target/lambda --format markdown\n  deployer plan prod --json"
    )]
    Plan(PlanArgs),
    /// Deploy a stage (a local stage runs the whole system on this machine).
    #[command(
        after_help = "Examples:\n  deployer up local                         # emulator + stack + api/worker/upstream, in the foreground\n  deployer up dev                           # build, upload, deploy, smoke test\n  deployer up dev --yes --artifacts DIR     # CI: deploy a package built earlier\n\nNothing changed: says so and exits 0 without uploading or updating."
    )]
    Up(UpArgs),
    /// Delete a stage's stack (tables are retained outside the local stage).
    #[command(after_help = "Examples:\n  deployer down dev\n  deployer down local --yes")]
    Down(DownArgs),
    /// Show what each stage runs: stack status, digests, commit, deployed-at, API URL.
    #[command(after_help = "Examples:\n  deployer status\n  deployer status dev --json")]
    Status(StatusArgs),
}

/// `package` arguments.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Build for this stage's architecture; this machine's when omitted.
    pub stage: Option<String>,
}

/// `plan` arguments.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The stage to plan.
    pub stage: String,
    /// Use this package folder (manifest.json + zips) instead of building.
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Output format (--json is the same as --format json).
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::plan::render::Format,
}

/// `up` arguments.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The stage to deploy (`local` runs everything on this machine).
    pub stage: String,
    /// Use this package folder (manifest.json + zips) instead of building.
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Skip the GET /health check after the deploy.
    #[arg(long)]
    pub no_smoke_test: bool,
    /// Local stage: port of the api process (default: the stage file's).
    #[arg(long, env = "DEPLOYER_LOCAL_API_PORT", value_name = "PORT")]
    pub api_port: Option<u16>,
    /// Local stage: port of the emulator (reused if one answers there).
    #[arg(long, env = "DEPLOYER_LOCAL_EMULATOR_PORT", value_name = "PORT")]
    pub emulator_port: Option<u16>,
    /// Local stage: port of the offline REST Countries server.
    #[arg(long, env = "DEPLOYER_LOCAL_UPSTREAM_PORT", value_name = "PORT")]
    pub upstream_port: Option<u16>,
}

/// `down` arguments.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// The stage whose stack to delete.
    pub stage: String,
}

/// `status` arguments.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One stage; every stage when omitted.
    pub stage: Option<String>,
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

    #[test]
    fn deploy_commands_parse() {
        assert!(Cli::try_parse_from(["deployer", "package"]).is_ok());
        assert!(Cli::try_parse_from(["deployer", "plan", "dev", "--format", "markdown"]).is_ok());
        assert!(Cli::try_parse_from(["deployer", "plan"]).is_err());
        assert!(Cli::try_parse_from(["deployer", "up", "local", "--api-port", "3001"]).is_ok());
        assert!(
            Cli::try_parse_from(["deployer", "up", "dev", "--yes", "--artifacts", "x"]).is_ok()
        );
        assert!(Cli::try_parse_from(["deployer", "down", "dev", "-y"]).is_ok());
        assert!(Cli::try_parse_from(["deployer", "status", "--json"]).is_ok());
    }
}
