//! The command line: flags and subcommands (clap derive).
//!
//! Kept in the library so tests can check the definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod digests;
pub use digests::ArtifactDigests;

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
    #[arg(long, global = true, value_name = "REGION", value_parser = region)]
    pub region: Option<String>,
    /// Send AWS calls to this endpoint (an emulator).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL", value_parser = endpoint_url)]
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
    /// Build api and worker (cloud profile: small) and zip each as `bootstrap` into target/lambda/ with a manifest.
    #[command(
        after_help = "Examples:\n  deployer package            # for this machine's architecture\n  deployer package dev        # for dev's architecture (cross builds need cargo-zigbuild)\n  deployer package local      # what `up local` runs: the fast release profile, into target/lambda-local/\n\nWrites target/lambda/{api,worker}.zip and target/lambda/manifest.json (digest, size, S3 key, git commit)."
    )]
    Package(PackageArgs),
    /// Show what `up` would change in a stage: a CloudFormation change set, created and then deleted.
    #[command(
        after_help = "Examples:\n  deployer plan dev\n  deployer plan dev --artifacts target/lambda --format markdown > plan.md   # the pull-request comment\n  deployer plan prod --json\n\nMarkdown: resource changes (replacements flagged), digests deployed -> new, and a collapsed diff of generated/<stage>/stack.yaml against what the stack runs."
    )]
    Plan(PlanArgs),
    /// Deploy a stage (a local stage runs the whole system on this machine).
    #[command(
        after_help = "Examples:\n  deployer up local                         # emulator + stack + api/worker/upstream, in the foreground\n  deployer up local --watch                 # ... and rebuild + restart api/worker on every saved change\n  deployer up dev                           # build, upload, deploy, smoke test\n  deployer up dev --yes --artifacts DIR     # CI: deploy a package built earlier\n  deployer up prod --artifact-digest api=<sha256>,worker=<sha256> --force   # roll back to zips in the bucket\n\nA stage with promote_from refuses an artifact its predecessor does not run, unless --force.\nNothing changed: says so and exits 0 without uploading or updating."
    )]
    Up(UpArgs),
    /// Delete a stage's stack (tables are retained outside the local stage).
    #[command(after_help = "Examples:\n  deployer down dev\n  deployer down local --yes")]
    Down(DownArgs),
    /// Show what each stage runs: stack status, digests, commit, deployed-at, API URL.
    #[command(
        after_help = "Examples:\n  deployer status\n  deployer status dev --json\n  deployer status local --metrics              # outcomes, latencies, breaker, requests: last hour\n  deployer status prod --metrics --since 1d --json"
    )]
    Status(StatusArgs),
    /// Detect drift: list each resource of the stage's stack that no longer matches its template (exit 1 when one does).
    #[command(
        after_help = "Examples:\n  deployer drift prod\n  deployer drift prod --json      # the same, as JSON\n\nRuns CloudFormation drift detection (DetectStackDrift) and lists each modified or deleted\nresource with its property differences. Exit 0 in sync, 1 drifted (or detection failed).\nDrift detection reads each resource with your credentials: use a role that can read them."
    )]
    Drift(DriftArgs),
    /// Deploy to <TO> exactly the artifact <FROM> runs (never a rebuild) and answer the pipeline's waiting approval.
    #[command(
        after_help = "Examples:\n  deployer promote dev staging\n  deployer promote staging prod --dry-run      # the plan and the approval it would answer\n  deployer promote staging prod --yes          # CI: deploy, then approve the waiting execution\n\nRefuses (exit 2, nothing changed) unless <TO>'s stage file says `promote_from: <FROM>`,\nand when the execution waiting at <TO>'s approval carries another commit than <FROM> runs.\nWithout --yes it asks before deploying an approval stage and only prints the approval."
    )]
    Promote(PromoteArgs),
    /// Print the Terraform outputs the deployer uses, per stage, and which are missing (exit 2 if any).
    #[command(
        after_help = "Examples:\n  deployer outputs\n  deployer outputs prod --json\n  DEPLOYER_OUTPUTS_FILE=outputs.json deployer outputs dev"
    )]
    Outputs(OutputsArgs),
    /// Show a stage's function logs (CloudWatch Logs; the local stage's log files), readably or raw.
    #[command(
        after_help = "Examples:\n  deployer logs local --request-id 6f1c...   # one request across api and worker\n  deployer logs dev --function worker --since 1h\n  deployer logs dev --follow\n  deployer logs prod --since 30m --json      # raw JSON lines, one per event\n\nThe request id is the `request_id` that POST /fetch-data/{code} returned."
    )]
    Logs(LogsArgs),
    /// Print a shell completion script for bash, zsh or fish.
    #[command(
        after_help = "Examples:\n  deployer completions bash > ~/.local/share/bash-completion/completions/deployer\n  deployer completions zsh > ~/.zfunc/_deployer     # with fpath+=~/.zfunc in ~/.zshrc\n  deployer completions fish > ~/.config/fish/completions/deployer.fish"
    )]
    Completions(CompletionsArgs),
}

/// `logs` arguments.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The stage whose logs to read (`local` reads .countries/local/logs/).
    pub stage: String,
    /// Only this function's logs; both when omitted.
    #[arg(long, value_enum)]
    pub function: Option<crate::logs::Function>,
    /// How far back to start: e.g. 30s, 10m, 2h, 1d.
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    pub since: String,
    /// Keep printing new lines as they arrive (Ctrl-C stops).
    #[arg(long)]
    pub follow: bool,
    /// Only the lines of this request (the id POST /fetch-data returned).
    #[arg(long, value_name = "ID", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub request_id: Option<String>,
}

/// `completions` arguments.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
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
    /// Also post the Markdown plan on this pull request (`auto`: the open one whose head is the planned commit): one comment per pull request, updated in place (needs --format markdown).
    #[arg(long, value_name = "NUMBER|auto")]
    pub post_to_pr: Option<crate::github::PullRequest>,
    /// The pull request's repository, owner/name.
    #[arg(
        long,
        env = "DEPLOYER_GITHUB_REPOSITORY",
        value_name = "OWNER/NAME",
        requires = "post_to_pr"
    )]
    pub repository: Option<String>,
}

/// `up` arguments.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The stage to deploy (`local` runs everything on this machine).
    pub stage: String,
    /// Use this package folder (manifest.json + zips) instead of building.
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Deploy these zips, already in the artifact bucket (a rollback): api=<sha256>,worker=<sha256>.
    #[arg(long, value_name = "api=SHA,worker=SHA", conflicts_with = "artifacts")]
    pub artifact_digest: Option<ArtifactDigests>,
    /// Deploy to a stage with promote_from an artifact its predecessor does not run (logged loudly).
    #[arg(long)]
    pub force: bool,
    /// Skip the smoke test after the deploy (GET /health, /status/PY?limit=1, /view-data/PY).
    #[arg(long)]
    pub no_smoke_test: bool,
    /// Keep a release that fails its smoke test (for debugging) instead of redeploying the digests the stage ran before.
    #[arg(long)]
    pub no_rollback: bool,
    /// Smoke test this base URL instead of the stack's ApiUrl output (a custom domain, a proxy).
    #[arg(long, env = "SMOKE_BASE_URL", value_name = "URL", value_parser = endpoint_url, conflicts_with = "no_smoke_test")]
    pub smoke_base_url: Option<String>,
    /// Local stage: port of the api process (default: the stage file's).
    #[arg(long, env = "DEPLOYER_LOCAL_API_PORT", value_name = "PORT")]
    pub api_port: Option<u16>,
    /// Local stage: port of the emulator (reused if one answers there).
    #[arg(long, env = "DEPLOYER_LOCAL_EMULATOR_PORT", value_name = "PORT")]
    pub emulator_port: Option<u16>,
    /// Local stage: port of the offline REST Countries server.
    #[arg(long, env = "DEPLOYER_LOCAL_UPSTREAM_PORT", value_name = "PORT")]
    pub upstream_port: Option<u16>,
    /// Local stage: on a change to app/, the stage file or templates/, rebuild, redeploy
    /// and restart api and worker (the emulator and its data stay).
    #[arg(long)]
    pub watch: bool,
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
    /// The functions' key numbers instead: fetch outcomes, upstream latency, breaker,
    /// api requests, view-data cache and latency (CloudWatch; the local stage's log files).
    #[arg(long)]
    pub metrics: bool,
    /// With --metrics: how far back, e.g. 30m, 1h, 1d.
    #[arg(
        long,
        default_value = "1h",
        value_name = "DURATION",
        requires = "metrics"
    )]
    pub since: String,
}

/// `drift` arguments.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The stage whose stack to check.
    pub stage: String,
}

/// `promote` arguments.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The stage whose running artifact is promoted.
    pub from: String,
    /// The stage that gets it (its stage file must say `promote_from: <FROM>`).
    pub to: String,
    /// Print the plan and the approval it would answer, then discard the change set.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip the smoke test after the deploy (GET /health, /status/PY?limit=1, /view-data/PY).
    #[arg(long)]
    pub no_smoke_test: bool,
    /// Keep a release that fails its smoke test (for debugging) instead of redeploying the digests the stage ran before.
    #[arg(long)]
    pub no_rollback: bool,
    /// Smoke test this base URL instead of the stack's ApiUrl output (a custom domain, a proxy).
    #[arg(long, env = "SMOKE_BASE_URL", value_name = "URL", value_parser = endpoint_url, conflicts_with = "no_smoke_test")]
    pub smoke_base_url: Option<String>,
}

/// `outputs` arguments.
#[derive(Debug, Args)]
pub struct OutputsArgs {
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

/// `--region`: checked here so a typo is a usage error, not an SDK error deep in a call.
fn region(text: &str) -> Result<String, String> {
    let well_formed = text.starts_with(|c: char| c.is_ascii_lowercase())
        && text.contains('-')
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if well_formed {
        Ok(text.to_string())
    } else {
        Err("expected an AWS region such as eu-west-1".into())
    }
}

/// `--endpoint-url` / `AWS_ENDPOINT_URL`: an http(s) URL with a host.
fn endpoint_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !text.contains(char::is_whitespace) =>
        {
            Ok(text.trim_end_matches('/').to_string())
        }
        _ => Err("expected an http(s) URL, e.g. http://127.0.0.1:4599".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn region_and_endpoint_are_checked_before_any_call() {
        for ok in ["eu-west-1", "us-gov-west-1", "cn-north-1"] {
            assert_eq!(region(ok).as_deref(), Ok(ok));
        }
        for bad in ["", "xx nope", "EU-WEST-1", "euwest1", "-eu-1"] {
            assert!(region(bad).is_err(), "{bad}");
        }
        assert_eq!(
            endpoint_url("http://127.0.0.1:4599/").as_deref(),
            Ok("http://127.0.0.1:4599")
        );
        assert!(endpoint_url("https://s3.example.com").is_ok());
        assert!(Cli::try_parse_from(["deployer", "logs", "local", "--request-id", ""]).is_err());
        for bad in [
            "not a url",
            "127.0.0.1:9",
            "http://",
            "ftp://host",
            "http:// host",
        ] {
            assert!(endpoint_url(bad).is_err(), "{bad}");
        }
    }

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
