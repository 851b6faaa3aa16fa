//! Helpers shared by the integration tests: temporary repository roots and running the binary.
#![allow(dead_code)]

pub mod proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod recorded_lambda;

/// The repository root (the workspace folder), or the copy `COUNTRIES_TEST_REPO_ROOT`
/// names: tests/bootstrap.rs runs the tests that read the repository against a
/// bootstrapped copy of it.
pub fn repo_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("COUNTRIES_TEST_REPO_ROOT") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// cargo's target folder, as the packager computes it: `CARGO_TARGET_DIR`
/// (relative to the repository root) or `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => repo_root().join(dir),
        _ => repo_root().join("target"),
    }
}

/// deployer/tests/fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// Copies a folder recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy file");
        }
    }
}

/// A temporary root with the fixture stages and outputs and the repository's templates.
pub fn fixture_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixtures().join("stages"), &dir.path().join("stages"));
    copy_dir(
        &repo_root().join("templates"),
        &dir.path().join("templates"),
    );
    std::fs::copy(
        fixtures().join("outputs.json"),
        dir.path().join("outputs.json"),
    )
    .expect("copy outputs");
    dir
}

/// The account and region of the fixture foundation `repo_copy` points the stages at.
pub const FIXTURE_ACCOUNT: &str = "111111111111";
/// See [`FIXTURE_ACCOUNT`].
pub const FIXTURE_REGION: &str = "us-east-1";

/// A temporary copy of the repository's stages and templates, rendered, that does
/// not depend on where the committed stage files take their outputs from or which
/// account they name (the bootstrap changes both): each cloud stage is pointed at
/// a fixture foundation, `outputs.json` in FIXTURE_ACCOUNT / FIXTURE_REGION.
pub fn repo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = repo_root();
    for sub in ["stages", "templates"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    let stages = deployer::stage::load_all(dir.path()).expect("the repository's stage files");
    let cloud: Vec<&str> = stages
        .iter()
        .filter(|s| s.spec.terraform_outputs.is_some())
        .map(|s| s.name.as_str())
        .collect();
    for stage in &cloud {
        let path = dir.path().join(format!("stages/{stage}.yaml"));
        let text = std::fs::read_to_string(&path).expect("read stage");
        let pointed = point_stage(&text, FIXTURE_ACCOUNT, FIXTURE_REGION, "outputs.json");
        std::fs::write(&path, pointed).expect("write stage");
    }
    let outputs = foundation_outputs(FIXTURE_ACCOUNT, FIXTURE_REGION, &cloud);
    std::fs::write(dir.path().join("outputs.json"), outputs.to_string()).expect("outputs");
    ok(
        &run(dir.path(), &["render", "--all"]),
        "render --all of the copy",
    );
    dir
}

/// A stage file's text with its `account`, `region` and `terraform_outputs` (a
/// block or a one-line map) replaced: what bootstrap step 4 does by hand.
pub fn point_stage(text: &str, account: &str, region: &str, outputs_file: &str) -> String {
    let mut out = Vec::new();
    let mut in_outputs = false;
    for line in text.lines() {
        if in_outputs && (line.starts_with([' ', '\t']) || line.trim().is_empty()) {
            continue;
        }
        in_outputs = false;
        if line.starts_with("account:") {
            out.push(format!("account: \"{account}\""));
        } else if line.starts_with("region:") {
            out.push(format!("region: {region}"));
        } else if line.starts_with("terraform_outputs:") {
            out.push(format!("terraform_outputs:\n  file: {outputs_file}\n"));
            in_outputs = true;
        } else {
            out.push(line.to_string());
        }
    }
    out.join("\n") + "\n"
}

/// `terraform output -json` of infrastructure/ applied in `account` / `region`
/// with the default names (infrastructure/locals.tf, outputs.tf), roles for `stages`.
pub fn foundation_outputs(account: &str, region: &str, stages: &[&str]) -> serde_json::Value {
    let roles = |role: &str| -> serde_json::Map<String, serde_json::Value> {
        stages
            .iter()
            .map(|s| {
                let arn = format!("arn:aws:iam::{account}:role/countries-delivery-{s}-{role}");
                (s.to_string(), arn.into())
            })
            .collect()
    };
    serde_json::json!({
        "artifact_bucket": {"sensitive": false, "type": "string", "value": format!("countries-artifacts-{account}-{region}")},
        "alarm_topic_arn": {"sensitive": false, "type": "string", "value": format!("arn:aws:sns:{region}:{account}:countries-notifications")},
        "cloudformation_execution_role_arns": {"sensitive": false, "type": ["map", "string"], "value": roles("cloudformation")},
        "codedeploy_role_arns": {"sensitive": false, "type": ["map", "string"], "value": roles("codedeploy")},
        "pipeline_name": {"sensitive": false, "type": "string", "value": "countries"},
    })
}

/// Replaces `from` by `to` in a file, failing loudly if `from` is not there.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

/// Runs the deployer binary with `--root root` and no outputs override from the environment.
pub fn run(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deployer"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("DEPLOYER_OUTPUTS_FILE")
        .env_remove("DEPLOYER_ROOT")
        .output()
        .expect("run deployer")
}

/// stdout and stderr as text.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `out` succeeded (else fails with `what`, stdout and stderr); its stdout and stderr.
pub fn ok(out: &Output, what: &str) -> (String, String) {
    let (stdout, stderr) = texts(out);
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// A temporary repository root with the repository's templates and an empty `stages` folder.
pub fn templates_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(
        &repo_root().join("templates"),
        &dir.path().join("templates"),
    );
    std::fs::create_dir_all(dir.path().join("stages")).expect("mkdir");
    dir
}

/// A package folder `root/package-{seed}` with tiny zips and a manifest; `seed` makes different digests.
pub fn artifacts(root: &Path, seed: &str) -> PathBuf {
    use deployer::package::manifest::{FORMAT, FunctionArtifact, MANIFEST_FILE, Manifest};
    use deployer::package::zip::{artifact_key, sha256_hex, zip_bootstrap};

    let dir = root.join(format!("package-{seed}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut functions = std::collections::BTreeMap::new();
    for name in ["api", "worker"] {
        let bytes = zip_bootstrap(format!("#!/bin/sh\n# {name} {seed}\n").as_bytes()).expect("zip");
        let digest = sha256_hex(&bytes);
        std::fs::write(dir.join(format!("{name}.zip")), &bytes).expect("write zip");
        functions.insert(
            name.to_string(),
            FunctionArtifact {
                file: format!("{name}.zip"),
                key: artifact_key(name, &digest),
                digest,
                size: bytes.len() as u64,
                glibc: None,
            },
        );
    }
    let manifest = Manifest {
        format: FORMAT,
        git_commit: format!("test-{seed}"),
        architecture: "x86_64".into(),
        build: "test fixture".into(),
        glibc_max: None,
        functions,
    };
    std::fs::write(dir.join(MANIFEST_FILE), manifest.to_json()).expect("manifest");
    dir
}

/// The deployer binary with `--root root`, AWS at the emulator (moto), no outputs override,
/// no profile and no stdin; the caller adds what else it needs and runs it.
pub fn emulator_command(root: &Path, args: &[&str]) -> Command {
    let moto = testkit::moto();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deployer"));
    cmd.arg("--root")
        .arg(root)
        .arg("--endpoint-url")
        .arg(&moto.endpoint)
        .args(args);
    for (k, v) in testkit::aws_env(&moto.endpoint) {
        cmd.env(k, v);
    }
    cmd.env_remove("DEPLOYER_OUTPUTS_FILE")
        .env_remove("DEPLOYER_ROOT")
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null());
    // What a pipeline run (the tests run inside CodeBuild's Build too) would add.
    for var in PIPELINE_VARIABLES {
        cmd.env_remove(var);
    }
    cmd
}

/// Variables CodeBuild sets that change what the deployer does; the tests set
/// them themselves where they mean to.
pub const PIPELINE_VARIABLES: &[&str] = &[
    "PIPELINE_NAME",
    "PIPELINE_EXECUTION_ID",
    "SMOKE_BASE_URL",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ENDPOINT_URL_CODEPIPELINE",
];

/// The arguments of `up stage --yes --no-smoke-test --artifacts artifacts`.
pub fn up_args<'a>(stage: &'a str, artifacts: &'a Path) -> Vec<&'a str> {
    vec![
        "up",
        stage,
        "--yes",
        "--no-smoke-test",
        "--artifacts",
        artifacts.to_str().unwrap(),
    ]
}

/// A single-threaded tokio runtime for calling the emulator directly.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// SDK configuration for the emulator at `endpoint`.
pub async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

/// An S3 client for the emulator at `endpoint` (path-style addressing).
pub async fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk(endpoint).await)
            .force_path_style(true)
            .build(),
    )
}

/// Creates `bucket` in the emulator.
pub fn create_bucket(bucket: &str) {
    let moto = testkit::moto();
    runtime().block_on(async {
        s3(&moto.endpoint)
            .await
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("create bucket");
    });
}

/// The names a function's config reads (asked of the app itself, through its
/// lookup, so the list cannot drift from app/src/config.rs), and whether it
/// accepted the environment.
pub fn read_by_app(
    function: &str,
    env: &[(String, String)],
) -> (std::collections::BTreeSet<String>, bool) {
    let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let lookup = |k: &str| {
        asked.borrow_mut().insert(k.to_string());
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    };
    let ok = match function {
        "api" => countries::config::ApiConfig::from_lookup(lookup).is_ok(),
        _ => countries::config::WorkerConfig::from_lookup(lookup).is_ok(),
    };
    (asked.into_inner(), ok)
}

/// Extra lines for [`cloud_stage_file`], each a run of whole lines (ending in
/// a newline), indented for where it goes.
#[derive(Default)]
pub struct StageExtras<'a> {
    /// Top-level keys before `app:` (`promote_from`, a deploy role).
    pub top: &'a str,
    /// Under `app.api`.
    pub api: &'a str,
    /// Under `app.worker`.
    pub worker: &'a str,
    /// Under `app.upstream`.
    pub upstream: &'a str,
    /// Top-level keys after `app` (`release`).
    pub tail: &'a str,
}

/// The cloud stage file the deploy tests start from: `account`, us-east-1,
/// Terraform outputs from `outputs.json`, a v3 upstream, plus `extras`.
pub fn cloud_stage_file(account: &str, extras: StageExtras) -> String {
    let StageExtras {
        top,
        api,
        worker,
        upstream,
        tail,
    } = extras;
    format!(
        "account: \"{account}\"
region: us-east-1
terraform_outputs:
  file: outputs.json
{top}app:
  architecture: x86_64
  log_level: info
  api:
    memory_mb: 256
    timeout_seconds: 10
{api}  worker:
    memory_mb: 256
    timeout_seconds: 30
{worker}  upstream:
    provider: v3
    base_url: https://countries.example.com
{upstream}{tail}"
    )
}
