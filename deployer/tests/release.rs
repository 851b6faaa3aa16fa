//! Releases against the emulator (moto, started by testkit; its CloudFormation
//! gains AWS::Lambda::Alias in tools/moto_server.py): the `live` alias moves
//! to a new version per digest; a failed smoke test redeploys what the stage
//! ran before (`--no-rollback` keeps the failed release); each change set
//! carries the stage's rollback triggers and monitoring window.
//!
//! moto accepts CreateChangeSet's RollbackConfiguration but neither stores nor
//! returns it, so the request is read on its way to moto: CloudFormation calls
//! go through `common::proxy::Proxy`, a local HTTP server that records each
//! request body and forwards it unchanged (AWS_ENDPOINT_URL_CLOUDFORMATION).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use deployer::package::zip::sha256_hex;
use serde_json::Value;

const ACCOUNT: &str = "123456789012";

struct Fixture {
    dir: tempfile::TempDir,
    stage: String,
}

impl Fixture {
    /// A cloud stage in the emulator's account, with `release` as its release section.
    fn new(stage: &str, release: &str) -> Fixture {
        let dir = common::templates_root();
        let text = common::cloud_stage_file(
            ACCOUNT,
            common::StageExtras {
                tail: release,
                ..Default::default()
            },
        );
        std::fs::write(dir.path().join(format!("stages/{stage}.yaml")), text).unwrap();
        let outputs = serde_json::json!({
            "artifact_bucket": {"value": format!("artifacts-{stage}"), "type": "string"},
            "alarm_topic_arn": {"value": format!("arn:aws:sns:us-east-1:{ACCOUNT}:alarms"), "type": "string"},
            "cloudformation_execution_role_arns": {"value": {stage: format!("arn:aws:iam::{ACCOUNT}:role/cfn-{stage}")}, "type": ["map", "string"]},
            "codedeploy_role_arns": {"value": {stage: format!("arn:aws:iam::{ACCOUNT}:role/codedeploy-{stage}")}, "type": ["map", "string"]},
            "pipeline_name": {"value": "countries", "type": "string"},
        });
        std::fs::write(dir.path().join("outputs.json"), outputs.to_string()).unwrap();
        common::ok(&common::run(dir.path(), &["render", stage]), "render");
        common::create_bucket(&format!("artifacts-{stage}"));
        Fixture {
            dir,
            stage: stage.into(),
        }
    }

    fn artifacts(&self, seed: &str) -> PathBuf {
        common::artifacts(self.dir.path(), seed)
    }

    fn deployer(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = common::emulator_command(self.dir.path(), args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run deployer")
    }

    /// `up --yes --artifacts <dir>` plus `extra`.
    fn up(&self, artifacts: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let dir = artifacts.to_str().unwrap();
        let mut args = vec!["up", self.stage.as_str(), "--yes", "--artifacts", dir];
        args.extend_from_slice(extra);
        self.deployer(&args, env)
    }

    /// The api digest the stack runs (`status --json`).
    fn api_digest(&self) -> String {
        let (out, _) = common::ok(
            &self.deployer(&["status", &self.stage, "--json"], &[]),
            "status",
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        v["stages"][0]["api_digest"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// What the emulator's Lambda says: the version `live` points at, and the versions published.
    fn alias(&self, function: &str) -> (String, usize) {
        let base = format!(
            "{}/2015-03-31/functions/countries-{function}-{}",
            testkit::moto().endpoint,
            self.stage
        );
        // moto routes by the credential scope of the Authorization header (never checked).
        let get = |url: String| -> Value {
            reqwest::blocking::Client::new()
                .get(url)
                .header(
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0",
                )
                .send()
                .unwrap()
                .json()
                .unwrap()
        };
        let alias = get(format!("{base}/aliases/live"));
        let versions = get(format!("{base}/versions"));
        (
            alias["FunctionVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            versions["Versions"].as_array().map_or(0, Vec::len),
        )
    }
}

fn digest(dir: &Path) -> String {
    sha256_hex(&std::fs::read(dir.join("api.zip")).unwrap())
}

#[test]
fn the_live_alias_moves_to_a_version_per_digest() {
    let f = Fixture::new("relalias", "");
    let (a, b) = (f.artifacts("a"), f.artifacts("b"));
    common::ok(&f.up(&a, &["--no-smoke-test"], &[]), "up a");
    // $LATEST and version 1; live points at 1.
    assert_eq!(f.alias("api"), ("1".into(), 2));
    assert_eq!(f.alias("worker"), ("1".into(), 2));
    // The same zips: nothing to deploy, no new version.
    let (out, _) = common::ok(&f.up(&a, &["--no-smoke-test"], &[]), "up a again");
    assert!(out.contains("nothing to deploy"), "{out}");
    assert_eq!(f.alias("api"), ("1".into(), 2));
    // New zips: version 2, and live points at it.
    let (out, _) = common::ok(&f.up(&b, &["--no-smoke-test"], &[]), "up b");
    assert!(
        out.contains(&format!(
            "api     live  {} -> {}",
            &digest(&a)[..12],
            &digest(&b)[..12]
        )),
        "{out}"
    );
    assert_eq!(f.alias("api"), ("2".into(), 3));
    assert_eq!(f.alias("worker"), ("2".into(), 3));
}

/// An api on a free port that answers every request with a 500 in the error shape.
fn broken_api() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        common::runtime().block_on(async move {
            let app = axum::Router::new().fallback(|| async {
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    r#"{"Code":"GetStatusFailure","Message":"broken release"}"#,
                )
            });
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        })
    });
    url
}

#[test]
fn a_failed_smoke_test_redeploys_what_ran_before_unless_no_rollback() {
    let f = Fixture::new("relsmoke", "");
    let (a, b) = (f.artifacts("a"), f.artifacts("b"));
    common::ok(&f.up(&a, &["--no-smoke-test"], &[]), "up a");
    let api = broken_api();
    let smoke = [
        ("SMOKE_BASE_URL", api.as_str()),
        ("DEPLOYER_SMOKE_PATIENCE_SECONDS", "1"),
    ];

    let out = f.up(&b, &[], &smoke);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // Both deploys are reported: the failed release, then the rollback.
    assert!(
        stdout.contains(&format!(
            "api     live  {} -> {}",
            &digest(&a)[..12],
            &digest(&b)[..12]
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "error: smoke test failed: GET {api}/health: it answered 500"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "rolled back: redeployed api {}",
            &digest(&a)[..12]
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("its smoke test failed too"),
        "the rollback is smoke tested too: {stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("rollback triggers: none (a rollback"),
        "{stdout}"
    );
    assert_eq!(
        f.api_digest(),
        digest(&a),
        "the stage runs what it ran before"
    );
    // The rollback published a version of the old zip, and live points at it.
    assert_eq!(f.alias("api"), ("3".into(), 4));

    // --no-rollback keeps the failed release.
    let out = f.up(&b, &["--no-rollback"], &smoke);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("error: smoke test failed"), "{stderr}");
    assert!(!stderr.contains("rolled back"), "{stderr}");
    assert_eq!(
        f.api_digest(),
        digest(&b),
        "--no-rollback keeps the failed release"
    );
}

fn value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[test]
fn each_change_set_carries_the_rollback_triggers_and_the_monitoring_window() {
    let f = Fixture::new(
        "relcfg",
        "release:\n  api_traffic: canary_10_percent_5_minutes\n  monitoring_minutes: 10\n",
    );
    let proxy = common::proxy::Proxy::start();
    let via = [("AWS_ENDPOINT_URL_CLOUDFORMATION", proxy.endpoint.as_str())];
    let (a, b) = (f.artifacts("a"), f.artifacts("b"));

    // The first deploy creates the alarms: nothing to watch yet, no window.
    let (out, _) = common::ok(&f.up(&a, &["--no-smoke-test"], &via), "up a");
    assert!(
        out.contains("release: api: canary 10 % for 5 min, rollback on ApiErrors, Api5xx; worker: all at once; monitoring 0 min"),
        "{out}"
    );
    let first = &proxy.change_sets()[0];
    assert_eq!(value(first, "ChangeSetType"), Some("CREATE"));
    assert_eq!(
        value(first, "RollbackConfiguration.MonitoringTimeInMinutes"),
        Some("0")
    );
    assert_eq!(
        value(first, "RollbackConfiguration.RollbackTriggers.member.1.Arn"),
        None
    );

    // An update: the stage's three release alarms, and its 10 minutes.
    let (out, _) = common::ok(&f.up(&b, &["--no-smoke-test"], &via), "up b");
    assert!(out.contains("monitoring 10 min"), "{out}");
    assert!(
        out.contains(
            "rollback triggers: relcfg-api-errors"
                .replace("relcfg", "countries-relcfg")
                .as_str()
        ),
        "{out}"
    );
    let update = proxy.change_sets().pop().unwrap();
    assert_eq!(value(&update, "ChangeSetType"), Some("UPDATE"));
    assert_eq!(
        value(&update, "RollbackConfiguration.MonitoringTimeInMinutes"),
        Some("10")
    );
    for (i, alarm) in ["api-errors", "api-5xx", "worker-errors"]
        .iter()
        .enumerate()
    {
        let member = format!("RollbackConfiguration.RollbackTriggers.member.{}", i + 1);
        assert_eq!(
            value(&update, &format!("{member}.Arn")),
            Some(
                format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:countries-relcfg-{alarm}")
                    .as_str()
            ),
            "{update:?}"
        );
        assert_eq!(
            value(&update, &format!("{member}.Type")),
            Some("AWS::CloudWatch::Alarm")
        );
    }

    // A rollback (`--artifact-digest`): no triggers, so a firing alarm cannot stop it.
    let rollback = format!(
        "api={},worker={}",
        digest(&a),
        sha256_hex(&std::fs::read(a.join("worker.zip")).unwrap())
    );
    let out = f.deployer(
        &[
            "up",
            "relcfg",
            "--yes",
            "--no-smoke-test",
            "--artifact-digest",
            &rollback,
        ],
        &via,
    );
    common::ok(&out, "rollback up");
    let back = proxy.change_sets().pop().unwrap();
    assert_eq!(
        value(&back, "RollbackConfiguration.RollbackTriggers.member.1.Arn"),
        None,
        "{back:?}"
    );
    assert_eq!(
        value(&back, "RollbackConfiguration.MonitoringTimeInMinutes"),
        Some("0")
    );
}
