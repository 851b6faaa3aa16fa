//! The deployer's one error type.
//!
//! Every failure a user can meet is a variant here, so `main` can print it the
//! same way (`error: ...` then `hint: ...`) and map it to an exit code:
//! 1 when a check ran and failed, 2 when the input or setup is wrong.

use std::fmt;
use std::path::PathBuf;

/// A problem in a stage file, pinned to the place a person must edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stage file, as given (relative to the repository root when found there).
    pub file: PathBuf,
    /// 1-based line of the offending key (or of the nearest key that exists).
    pub line: usize,
    /// 1-based column of that key.
    pub column: usize,
    /// Dotted path of the field, e.g. `app.api.memory_mb`.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// The text of that line, for the snippet under the error (none when unknown).
    pub source_line: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: field `{}`: {}",
            self.file.display(),
            self.line,
            self.column,
            self.field,
            self.message
        )
    }
}

/// Everything that can go wrong in the deployer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository root (the folder holding `stages/` and `templates/`) was not found.
    #[error("cannot find the repository root (a folder with stages/ and templates/) from {start}")]
    RootNotFound { start: PathBuf },

    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A file or folder could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    /// One or more stage files are invalid (syntax, types or meaning).
    #[error("{}", join_lines(diagnostics))]
    InvalidStage { diagnostics: Vec<Diagnostic> },

    /// `stages/` holds no stage file.
    #[error("{} holds no stage files (*.yaml)", dir.display())]
    NoStages { dir: PathBuf },

    /// The stage named on the command line has no file.
    #[error("unknown stage `{name}`; stages are: {}", available.join(", "))]
    UnknownStage {
        name: String,
        available: Vec<String>,
    },

    /// The Terraform outputs could not be obtained.
    #[error("stage {stage}: cannot read Terraform outputs from {source_desc}: {detail}")]
    OutputsUnreadable {
        stage: String,
        source_desc: String,
        detail: String,
    },

    /// A Terraform output the templates need is absent.
    #[error("stage {stage}: Terraform output `{name}` is missing from {source_desc}")]
    OutputMissing {
        stage: String,
        name: String,
        source_desc: String,
    },

    /// A Terraform output has the wrong JSON type or content.
    #[error("stage {stage}: Terraform output `{name}` in {source_desc} {problem}")]
    OutputInvalid {
        stage: String,
        name: String,
        source_desc: String,
        problem: String,
    },

    /// `terraform` is needed (a stage reads outputs with `chdir:`) but is not on PATH.
    #[error(
        "stage {stage}: `terraform` is not installed or not on PATH (needed to read outputs from {dir})"
    )]
    TerraformMissing { stage: String, dir: PathBuf },

    /// A template does not parse or does not render (strict mode: a missing value is an error).
    #[error("template {template}{}: {message}", position(*line, *column))]
    Template {
        template: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
        /// The text of that line, for the snippet under the error.
        source_line: Option<String>,
    },

    /// `templates/` holds no `*.hbs` file: rendering would make nothing (and remove earlier renders).
    #[error("{} holds no templates (*.hbs); nothing was rendered", dir.display())]
    NoTemplates { dir: PathBuf },

    /// `render --check` found committed files that differ from a fresh render.
    #[error("generated files are stale: {}", paths.join(", "))]
    Stale { paths: Vec<String> },

    /// `validate` needs a rendered stack that is not there.
    #[error("stage {stage}: {path} does not exist")]
    NotRendered { stage: String, path: PathBuf },

    /// A linter is not installed in the project's lint virtualenv.
    #[error("{tool} is not installed at {path}")]
    LintToolMissing { tool: String, path: PathBuf },

    /// A linter could not be started.
    #[error("cannot run {tool}: {source}")]
    LintToolFailedToStart {
        tool: String,
        source: std::io::Error,
    },

    /// A linter reported problems.
    #[error("{tool} reported problems in: {}", files.join(", "))]
    LintFailed { tool: String, files: Vec<String> },

    /// A binary could not be read as a Linux ELF executable (or zipped).
    #[error("cannot package {path}: {problem}")]
    BinaryUnreadable { path: PathBuf, problem: String },

    /// A binary needs a glibc newer than Lambda's provided.al2023 has.
    #[error("{function} needs a newer glibc than Lambda's provided.al2023 (2.34) has: {}", needs.join("; "))]
    GlibcTooNew {
        function: String,
        needs: Vec<String>,
    },

    /// `--artifacts DIR` is not a usable package folder.
    #[error("the package folder {dir} cannot be used: {problem}")]
    ArtifactsInvalid { dir: PathBuf, problem: String },

    /// A cross build is needed and cargo-zigbuild is not installed.
    #[error(
        "the stage runs on {wanted} but this machine is {host}, and a cross build needs cargo-zigbuild, which is not on PATH"
    )]
    CrossToolMissing {
        wanted: String,
        host: String,
        target: String,
    },

    /// rustup lacks the standard library of a target.
    #[error("the Rust target {target} is not installed")]
    RustTargetMissing { target: String },

    /// cargo failed.
    #[error("the build failed: `{command}`: {detail}")]
    BuildFailed { command: String, detail: String },

    /// An AWS call failed.
    #[error("{action} failed: {message}")]
    Aws { action: String, message: String },

    /// The in-memory render differs from the committed generated/.
    #[error("stage {stage}: the committed files differ from a fresh render: {}", files.join(", "))]
    RenderStale { stage: String, files: Vec<String> },

    /// The credentials belong to another account than the stage's.
    #[error(
        "stage {stage} runs in account {expected}, but these credentials are for account {actual}; nothing was changed"
    )]
    AccountMismatch {
        stage: String,
        expected: String,
        actual: String,
    },

    /// The stack is in a state that takes no change set.
    #[error("stack {stack} cannot be deployed now: {problem}")]
    StackNotReady { stack: String, problem: String },

    /// CloudFormation could not build the change set.
    #[error("the change set for {stack} failed: {reason}")]
    ChangeSetFailed { stack: String, reason: String },

    /// The stack vanished between two calls.
    #[error("stack {stack} does not exist")]
    StackMissing { stack: String },

    /// The local emulator refused to create or update the stack.
    #[error("the local emulator could not deploy {stack}: {message}")]
    EmulatorRejected { stack: String, message: String },

    /// The stack ended in a failure or a rollback.
    #[error("deploying {stack} failed; it is now {status}:\n{}", failures.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n"))]
    DeployFailed {
        stack: String,
        status: String,
        failures: Vec<String>,
    },

    /// The deployed API did not answer its smoke test (health, then two read routes) as it should.
    #[error("smoke test failed: GET {url}: {detail}")]
    SmokeTestFailed { url: String, detail: String },

    /// The stack has no ApiUrl output to smoke test.
    #[error("stack {stack} has no ApiUrl output, so the deploy cannot be smoke tested")]
    NoApiUrl { stack: String },

    /// A confirmation is needed and there is no terminal to ask on.
    #[error("{action} needs confirmation, and there is no terminal to ask on")]
    ConfirmationNeeded { action: String },

    /// The person answered no.
    #[error("{action}: not confirmed; nothing was changed")]
    Declined { action: String },

    /// Another `deployer up local` holds the lock.
    #[error("`deployer up local` is already running (pid {pid}, lock {lock})")]
    LocalAlreadyRunning { pid: u32, lock: PathBuf },

    /// A port the local stage needs is taken.
    #[error("port {port} on 127.0.0.1 ({what}) is already in use")]
    PortBusy {
        port: u16,
        what: String,
        flag: String,
    },

    /// A flag that only a local stage takes was given for another stage.
    #[error("{flag} applies only to a stage with `local:` settings; {stage} has none")]
    LocalOnly { flag: String, stage: String },

    /// A flag that a local stage does not take.
    #[error("{flag} does not apply to a local stage: `deployer up local` builds from source")]
    NotForLocal { flag: String },

    /// The emulator could not be installed or started.
    #[error("the local AWS emulator (moto) is not available: {detail}")]
    EmulatorUnavailable { detail: String },

    /// A command that needs the running local stage found no emulator.
    #[error("the local stage is not running: nothing answers on 127.0.0.1:{port}")]
    EmulatorNotRunning { port: u16, stage: String },

    /// A local process failed to start or stopped on its own.
    #[error("{name} {detail}; its log: {}", log.display())]
    ProcessFailed {
        name: String,
        detail: String,
        log: PathBuf,
    },

    /// `promote <from> <to>` against the order the stage files set.
    #[error("cannot promote {from} to {to}: {}; nothing was changed", match promote_from {
        Some(p) => format!("{to} is promoted from {p} (its stage file's promote_from), not from {from}"),
        None => format!("{to}'s stage file has no promote_from, so nothing is promoted to it"),
    })]
    PromoteOrder {
        from: String,
        to: String,
        promote_from: Option<String>,
    },

    /// The stage to promote from runs no usable artifact.
    #[error("cannot promote from {stage}: {problem}; nothing was changed")]
    NothingToPromote { stage: String, problem: String },

    /// `up` of an artifact the stage's predecessor does not run.
    #[error(
        "refusing to deploy to {stage} an artifact that {from} does not run: {problem}; nothing was changed"
    )]
    NotPromoted {
        stage: String,
        from: String,
        problem: String,
    },

    /// The pipeline execution waiting at the approval carries another artifact.
    #[error(
        "{waiting} with commit {carries}, but {from} runs {runs}; refusing to deploy or approve (nothing was changed)"
    )]
    ApprovalMismatch {
        /// e.g. `pipeline countries: execution <id> waits at prod/Approve`.
        waiting: String,
        /// Where a person answers it: `countries > prod > Approve`.
        console: String,
        carries: String,
        from: String,
        runs: String,
    },

    /// A zip that must already be in the artifact bucket is not there.
    #[error("s3://{bucket}/{key} does not exist; the deployer never rebuilds a digest")]
    ArtifactNotInBucket { bucket: String, key: String },

    /// `deployer outputs` found required outputs missing (or unreadable).
    #[error("Terraform outputs missing or unusable: {}", missing.join("; "))]
    OutputsIncomplete { missing: Vec<String> },

    /// The async runtime could not start.
    #[error("cannot start the async runtime: {detail}")]
    Runtime { detail: String },

    /// A flag's value does not parse.
    #[error("{flag} {value}: expected {expected}")]
    InvalidArgument {
        flag: String,
        value: String,
        expected: String,
    },

    /// The local stage has no log files yet.
    #[error("no local logs in {}", dir.display())]
    NoLocalLogs { dir: PathBuf },

    /// A CloudWatch log group does not exist (the function never ran, or no stack).
    #[error("log group {group} does not exist")]
    NoLogGroup { group: String },
}

impl Error {
    /// The process exit code: 1 when a check ran and failed, 2 for usage or configuration errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            // Missing credentials are set-up, not a failed deploy (aws::message words it so).
            Error::Aws { message, .. } if message.starts_with("no usable AWS credentials") => 2,
            Error::Stale { .. }
            | Error::LintFailed { .. }
            | Error::Write { .. }
            | Error::BinaryUnreadable { .. }
            | Error::GlibcTooNew { .. }
            | Error::BuildFailed { .. }
            | Error::Aws { .. }
            | Error::StackNotReady { .. }
            | Error::ChangeSetFailed { .. }
            | Error::StackMissing { .. }
            | Error::EmulatorRejected { .. }
            | Error::DeployFailed { .. }
            | Error::SmokeTestFailed { .. }
            | Error::NoApiUrl { .. }
            | Error::Declined { .. }
            | Error::ProcessFailed { .. }
            | Error::Runtime { .. } => 1,
            _ => 2,
        }
    }

    /// True when the failing command already printed its `--json` summary
    /// (with `"ok": false`), so stdout must not get a second JSON document.
    pub fn in_json_summary(&self) -> bool {
        matches!(self, Error::Stale { .. } | Error::LintFailed { .. })
    }

    /// One line telling the user what to do next.
    pub fn hint(&self) -> String {
        match self {
            Error::RootNotFound { .. } => {
                "run the deployer inside the repository, or pass --root DIR".into()
            }
            Error::Read { .. } => "check that the path exists and is readable".into(),
            Error::Write { .. } => "check that the output folder is writable".into(),
            Error::InvalidStage { .. } => {
                "fix the stage file at the line shown; docs/stages.md lists every field and its allowed values".into()
            }
            Error::NoStages { .. } => {
                "restore stages/ (`git checkout -- stages`) or add stages/<name>.yaml (docs/stages.md)".into()
            }
            Error::UnknownStage { .. } => {
                "pass one of the stages listed, or add stages/<name>.yaml (see docs/stages.md)".into()
            }
            Error::OutputsUnreadable { .. } | Error::OutputMissing { .. } | Error::OutputInvalid { .. } => {
                "check `terraform_outputs` in the stage file, or the --outputs-file / DEPLOYER_OUTPUTS_FILE given; the file must be `terraform output -json` output and declare every output in deployer/src/outputs.rs REQUIRED".into()
            }
            Error::TerraformMissing { .. } => {
                "install Terraform >= 1.11, or point DEPLOYER_OUTPUTS_FILE at a saved `terraform output -json`".into()
            }
            Error::Template { .. } => {
                "fix the template at the line shown; the values it may use are the fields of render::context::Context".into()
            }
            Error::NoTemplates { .. } => {
                "restore templates/ (`git checkout -- templates`); the deployer renders each templates/<name>.hbs into generated/<stage>/<name>".into()
            }
            Error::Stale { paths } if paths.iter().any(|p| p.ends_with("(no stage file)")) => {
                "`git rm -r` the folders of stages that no longer exist, run `deployer render --all`, and commit generated/".into()
            }
            Error::Stale { .. } => {
                "run `deployer render --all` and commit generated/ with the change that caused it".into()
            }
            Error::NotRendered { .. } => "run `deployer render <stage>` first".into(),
            Error::LintToolMissing { .. } | Error::LintToolFailedToStart { .. } => {
                "python3 -m venv .countries/venv-lint && .countries/venv-lint/bin/pip install -r tools/requirements-lint.txt".into()
            }
            Error::LintFailed { .. } => {
                "fix templates/stack.yaml.hbs and re-render; skip a checkov check only with a reason in the resource's Metadata".into()
            }
            Error::BinaryUnreadable { .. } => {
                "package Linux binaries built by `cargo build --release -p countries` (or pass --artifacts with a package folder)".into()
            }
            Error::GlibcTooNew { .. } => {
                "install cargo-zigbuild (`pip install ziglang cargo-zigbuild`): the deployer then builds with `cargo zigbuild --target <arch>-unknown-linux-gnu.2.34`, which links against glibc 2.34".into()
            }
            Error::ArtifactsInvalid { .. } => {
                "pass the folder `deployer package <stage>` wrote (target/lambda), unchanged, built for the stage's architecture".into()
            }
            Error::CrossToolMissing { target, .. } => format!(
                "pip install ziglang cargo-zigbuild && rustup target add {target}  (or build on a {target} machine and give `up`/`plan` its package with --artifacts DIR)"
            ),
            Error::RustTargetMissing { target } => format!("rustup target add {target}"),
            Error::BuildFailed { .. } => {
                "fix the build error above; `cargo build --release -p countries` shows it on its own".into()
            }
            Error::Aws { message, .. } => {
                if message.contains("credential") || message.contains("Credential") {
                    "configure AWS credentials (`aws configure`, AWS_PROFILE or --profile) for the stage's account; a profile that ~/.aws/config does not define falls through to the instance metadata service, which is what the message above then reports".into()
                } else if message.contains("dispatch failure") || message.contains("connect") || message.contains("timed out") {
                    "check the network and --endpoint-url / AWS_ENDPOINT_URL; the AWS endpoint could not be reached".into()
                } else if message.contains("AccessDenied") || message.contains("not authorized") {
                    "the credentials lack a permission (docs/delivery.md lists what each role may do)".into()
                } else {
                    "read AWS's message above; `deployer status <stage>` shows the stack's state".into()
                }
            }
            Error::RenderStale { stage, .. } => format!(
                "run `deployer render {stage}` and commit generated/ with the change that caused it, then retry"
            ),
            Error::AccountMismatch { .. } => {
                "use credentials of the stage's account (--profile NAME or AWS_PROFILE), or fix `account` in the stage file".into()
            }
            Error::StackNotReady { .. } => {
                "`deployer status <stage>` shows the stack's state; the message above says what it needs".into()
            }
            Error::ChangeSetFailed { .. } => {
                "fix the template or the stage file the reason points at, re-render, and retry".into()
            }
            Error::StackMissing { .. } => "run `deployer up <stage>` to create it".into(),
            Error::EmulatorRejected { .. } => {
                "the emulator (moto) lacks or rejects something in the template (see ../shared/FIELD-NOTES.md); the next `deployer up local` removes the half-made stack and tries again".into()
            }
            Error::DeployFailed { .. } => {
                "fix what the failing events above say and run `deployer up` again; CloudFormation has rolled the stack back".into()
            }
            Error::SmokeTestFailed { .. } => {
                "the stack is deployed but the API failed its smoke test (GET /health, /status/PY?limit=1, /view-data/PY): check the api function's logs and its role's DynamoDB permissions".into()
            }
            Error::NoApiUrl { .. } => {
                "the template must output ApiUrl; pass --no-smoke-test to deploy without the check".into()
            }
            Error::ConfirmationNeeded { .. } => "pass --yes to confirm in a non-interactive run".into(),
            Error::Declined { .. } => "run it again and answer y, or pass --yes".into(),
            Error::LocalAlreadyRunning { pid, .. } => format!(
                "use the running one (see its `api:` line), or stop it with Ctrl-C in its terminal or `kill {pid}`"
            ),
            Error::PortBusy { flag, .. } => format!(
                "stop what listens there, or choose another port with {flag}"
            ),
            Error::LocalOnly { .. } => "drop the flag, or use it with `deployer up local`".into(),
            Error::NotForLocal { .. } => "drop the flag".into(),
            Error::EmulatorUnavailable { .. } => {
                "install it by hand: python3 -m venv .countries/venv && .countries/venv/bin/pip install -r tools/requirements-moto.txt (needs Python 3 and the PyPI registry)".into()
            }
            Error::EmulatorNotRunning { stage, .. } => format!(
                "start it with `deployer up {stage}` (it starts the emulator and deploys the stack), then retry in another terminal"
            ),
            Error::ProcessFailed { .. } => {
                "read the log shown; `cargo build --release -p countries --bins` rebuilds the binaries".into()
            }
            Error::PromoteOrder { to, promote_from, .. } => match promote_from {
                Some(p) => format!("run `deployer promote {p} {to}`; the order is dev -> staging -> prod (docs/delivery.md)"),
                None => format!("deploy {to} with `deployer up {to}`, or set promote_from in stages/{to}.yaml"),
            },
            Error::NothingToPromote { stage, .. } => format!(
                "deploy {stage} first (`deployer up {stage}` or its own promote); `deployer status {stage}` shows what it runs"
            ),
            Error::NotPromoted { stage, from, .. } => format!(
                "deploy it to {from} first and then `deployer promote {from} {stage}`; or pass --force to bypass the order (an emergency rollback)"
            ),
            Error::ApprovalMismatch { console, .. } => format!(
                "check `deployer status`; reject that approval (console: CodePipeline > {console}) or wait until the run that carries this artifact reaches it, then promote again"
            ),
            Error::ArtifactNotInBucket { .. } => {
                "deploy a digest that was uploaded before (`aws s3 ls s3://<bucket>/functions/api/` lists them), or deploy a package with --artifacts DIR".into()
            }
            Error::OutputsIncomplete { .. } => {
                "declare them in infrastructure/outputs.tf and `terraform apply`, then save `terraform output -json` where the stage file's terraform_outputs points (docs/delivery.md, bootstrap)".into()
            }
            Error::Runtime { .. } => "this is a problem of the machine (threads, file descriptors); retry".into(),
            Error::InvalidArgument { .. } => "see the command's --help for the accepted values".into(),
            Error::NoLocalLogs { .. } => {
                "run `deployer up local` first; its processes write their logs there".into()
            }
            Error::NoLogGroup { .. } => {
                "deploy the stage (`deployer up <stage>`) and call the API once; Lambda creates the group on the first run".into()
            }
        }
    }
}

fn join_lines(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" line {l}, column {c}"),
        (Some(l), None) => format!(" line {l}"),
        _ => String::new(),
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
