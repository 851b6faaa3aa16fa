//! Promotion, the promotion guard of `up`, the pipeline in `status`, and
//! `deployer outputs`.
//!
//! CloudFormation, S3 and STS run against moto (`testkit::moto()`). moto does
//! not implement CodePipeline's GetPipelineState, PutApprovalResult or
//! ListActionExecutions (FIELD-NOTES), so those calls, and ListPipelineExecutions
//! with them, are tested at the HTTP boundary: `Recorded` is a small local HTTP
//! server that replays RECORDED AWS JSON 1.1 answers (the documented response
//! shapes, trimmed to the fields the deployer reads) and records the requests,
//! reached through the standard `AWS_ENDPOINT_URL_CODEPIPELINE` variable.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use common::{ok, runtime};
use deployer::package::zip::{artifact_key, sha256_hex};
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";

/// A temporary repository root with two cloud stages, `to` promoted from `from`.
struct Fixture {
    dir: tempfile::TempDir,
    bucket: String,
    pipeline_endpoint: Option<String>,
}

fn stage_file(extra: &str) -> String {
    common::cloud_stage_file(
        ACCOUNT,
        common::StageExtras {
            top: extra,
            ..Default::default()
        },
    )
}

impl Fixture {
    /// `approval`: whether `to` waits for a manual approval (pipeline stage `to`, action `Approve`).
    fn new(from: &str, to: &str, approval: bool) -> Fixture {
        let dir = common::templates_root();
        std::fs::write(
            dir.path().join(format!("stages/{from}.yaml")),
            stage_file(""),
        )
        .expect("stage");
        std::fs::write(
            dir.path().join(format!("stages/{to}.yaml")),
            stage_file(&format!("promote_from: {from}\napproval: {approval}\n")),
        )
        .expect("stage");
        let bucket = format!("artifacts-{from}");
        let outputs = json!({
            "artifact_bucket": {"value": bucket, "type": "string"},
            "alarm_topic_arn": {"value": format!("arn:aws:sns:us-east-1:{ACCOUNT}:alarms"), "type": "string"},
            "cloudformation_execution_role_arns": {"value": {
                from: format!("arn:aws:iam::{ACCOUNT}:role/cfn-{from}"),
                to: format!("arn:aws:iam::{ACCOUNT}:role/cfn-{to}"),
            }, "type": ["map", "string"]},
            "pipeline_name": {"value": "countries", "type": "string"},
        });
        std::fs::write(dir.path().join("outputs.json"), outputs.to_string()).expect("outputs");
        let f = Fixture {
            dir,
            bucket,
            pipeline_endpoint: None,
        };
        let out = common::run(f.root(), &["render", "--all"]);
        assert!(out.status.success(), "render: {:?}", common::texts(&out));
        f.create_bucket();
        f
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A package folder with tiny zips; `seed` makes different digests.
    fn artifacts(&self, seed: &str) -> PathBuf {
        common::artifacts(self.root(), seed)
    }

    fn digest(dir: &Path, function: &str) -> String {
        sha256_hex(&std::fs::read(dir.join(format!("{function}.zip"))).expect("zip"))
    }

    /// Runs the deployer: AWS at moto, CodePipeline at the recorded server if there is one.
    fn deployer(&self, args: &[&str]) -> Output {
        let mut cmd = common::emulator_command(self.root(), args);
        // Without a recorded server, CodePipeline calls go to a closed port (and must not be made).
        let pipeline = self
            .pipeline_endpoint
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{}", testkit::free_port()));
        cmd.env("AWS_ENDPOINT_URL_CODEPIPELINE", pipeline)
            .output()
            .expect("run deployer")
    }

    fn up(&self, stage: &str, artifacts: &Path, extra: &[&str]) -> Output {
        let mut args = common::up_args(stage, artifacts);
        args.extend_from_slice(extra);
        self.deployer(&args)
    }

    fn create_bucket(&self) {
        common::create_bucket(&self.bucket);
    }
}

/// The stack's parameters, straight from the emulator (none when it does not exist).
fn parameters(stage: &str) -> Option<BTreeMap<String, String>> {
    let moto = testkit::moto();
    runtime().block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&common::sdk(&moto.endpoint).await);
        let out = cfn
            .describe_stacks()
            .stack_name(format!("countries-{stage}"))
            .send()
            .await
            .ok()?;
        let stack = out.stacks().first()?;
        if stack.stack_status().map(|s| s.as_str()) == Some("DELETE_COMPLETE") {
            return None;
        }
        Some(
            stack
                .parameters()
                .iter()
                .map(|p| {
                    (
                        p.parameter_key().unwrap_or_default().to_string(),
                        p.parameter_value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        )
    })
}

/// Replays RECORDED CodePipeline answers (AWS JSON 1.1) on a local port and records
/// each request as (operation, body). moto lacks these operations (FIELD-NOTES).
struct Recorded {
    endpoint: String,
    /// The commit the execution waiting at the approval built (changeable mid-test).
    commit: Arc<Mutex<String>>,
    calls: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Recorded {
    /// An execution `e-waiting` waits at pipeline stage `stage`, action Approve, with token `tok-123`.
    fn start(from: &str, stage: &str, commit: &str) -> Recorded {
        let commit = Arc::new(Mutex::new(commit.to_string()));
        let calls: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let (c, k, from, stage) = (
            commit.clone(),
            calls.clone(),
            from.to_string(),
            stage.to_string(),
        );
        std::thread::spawn(move || {
            let rt = runtime();
            rt.block_on(async move {
                let app = axum::Router::new().route(
                    "/",
                    axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                        let (c, k, from, stage) =
                            (c.clone(), k.clone(), from.clone(), stage.clone());
                        async move {
                            let op = headers
                                .get("x-amz-target")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .rsplit('.')
                                .next()
                                .unwrap_or_default()
                                .to_string();
                            let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                            k.lock().unwrap().push((op.clone(), request));
                            let commit = c.lock().unwrap().clone();
                            let answer = recorded_answer(&op, &from, &stage, &commit);
                            (
                                [(
                                    axum::http::header::CONTENT_TYPE,
                                    "application/x-amz-json-1.1",
                                )],
                                answer.to_string(),
                            )
                        }
                    }),
                );
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app).await.expect("serve");
            });
        });
        Recorded {
            endpoint,
            commit,
            calls,
        }
    }

    fn calls(&self, op: &str) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(o, _)| o == op)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The recorded bodies, one per operation (shapes as CodePipeline returns them).
fn recorded_answer(op: &str, from: &str, stage: &str, commit: &str) -> Value {
    let t = 1_764_300_000.0;
    match op {
        "GetPipelineState" => json!({
            "pipelineName": "countries",
            "pipelineVersion": 4,
            "created": t, "updated": t,
            "stageStates": [
                {"stageName": "Source",
                 "latestExecution": {"pipelineExecutionId": "e-waiting", "status": "Succeeded"},
                 "actionStates": [{"actionName": "Source",
                    "currentRevision": {"revisionId": commit},
                    "latestExecution": {"actionExecutionId": "a-1", "status": "Succeeded", "lastStatusChange": t}}]},
                {"stageName": "Build",
                 "latestExecution": {"pipelineExecutionId": "e-waiting", "status": "Succeeded"},
                 "actionStates": [{"actionName": "Build",
                    "latestExecution": {"actionExecutionId": "a-2", "status": "Succeeded", "lastStatusChange": t,
                                        "externalExecutionId": "countries-build:1"}}]},
                {"stageName": from,
                 "latestExecution": {"pipelineExecutionId": "e-waiting", "status": "Succeeded"},
                 "actionStates": [{"actionName": "Deploy",
                    "latestExecution": {"actionExecutionId": "a-3", "status": "Succeeded", "lastStatusChange": t}}]},
                {"stageName": stage,
                 "latestExecution": {"pipelineExecutionId": "e-waiting", "status": "InProgress"},
                 "actionStates": [
                    {"actionName": "Approve",
                     "latestExecution": {"actionExecutionId": "a-4", "status": "InProgress", "lastStatusChange": t,
                                         "token": "tok-123"}},
                    {"actionName": "Promote"}]},
            ]
        }),
        "ListPipelineExecutions" => json!({
            "pipelineExecutionSummaries": [
                {"pipelineExecutionId": "e-waiting", "status": "InProgress", "startTime": t, "lastUpdateTime": t,
                 "executionMode": "SUPERSEDED",
                 "sourceRevisions": [{"actionName": "Source", "revisionId": commit, "revisionSummary": "a change"}],
                 "trigger": {"triggerType": "CloudWatchEvent"}},
                {"pipelineExecutionId": "e-older", "status": "Succeeded", "startTime": t - 3600.0, "lastUpdateTime": t,
                 "sourceRevisions": [{"actionName": "Source", "revisionId": "0ld"}]},
            ]
        }),
        "ListActionExecutions" => json!({
            "actionExecutionDetails": [
                {"pipelineExecutionId": "e-waiting", "actionExecutionId": "a-2", "pipelineVersion": 4,
                 "stageName": "Build", "actionName": "Build", "startTime": t, "lastUpdateTime": t, "status": "Succeeded",
                 "output": {"outputVariables": {"PACKAGE_DIGEST": "f".repeat(64)},
                            "executionResult": {"externalExecutionId": "countries-build:1"}}},
            ]
        }),
        "PutApprovalResult" => json!({"approvedAt": t + 60.0}),
        _ => json!({}),
    }
}

#[test]
fn promote_copies_the_digests_exactly_and_up_refuses_an_unpromoted_artifact() {
    let f = Fixture::new("pdev", "pstg", false);
    let a = f.artifacts("a");
    ok(&f.up("pdev", &a, &[]), "up pdev");

    // Nothing runs in pstg yet: a dry run plans the create and changes nothing.
    let (stdout, _) = ok(
        &f.deployer(&["promote", "pdev", "pstg", "--dry-run", "--json"]),
        "promote --dry-run",
    );
    let dry: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(dry["plan"]["changes"], true);
    assert_eq!(dry["plan"]["change_set_type"], "CREATE");
    assert_eq!(dry["approval"]["action"], "nothing");
    assert_eq!(parameters("pstg"), None, "a dry run created the stack");

    // The real promote: same keys, no upload (the zips are in the bucket), no rebuild.
    let (stdout, stderr) = ok(
        &f.deployer(&[
            "promote",
            "pdev",
            "pstg",
            "--yes",
            "--no-smoke-test",
            "--json",
        ]),
        "promote",
    );
    assert!(!stderr.contains("uploading"), "{stderr}");
    assert!(!stderr.contains("building"), "{stderr}");
    let result: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(result["plan"]["artifacts"][0]["upload"], "present");
    assert!(
        result["plan"]["artifacts"][0]["size"].as_u64().unwrap() > 0,
        "{result}"
    );
    let dev = parameters("pdev").expect("pdev stack");
    let stg = parameters("pstg").expect("pstg stack");
    assert_eq!(dev, stg);
    assert_eq!(
        stg["ApiArtifactKey"],
        artifact_key("api", &Fixture::digest(&a, "api"))
    );

    // Again: nothing to deploy.
    let (stdout, _) = ok(
        &f.deployer(&["promote", "pdev", "pstg", "--yes", "--no-smoke-test"]),
        "second promote",
    );
    assert!(stdout.contains("nothing to deploy"), "{stdout}");

    // The wrong order is refused before anything is read or changed.
    let out = f.deployer(&["promote", "pstg", "pdev", "--yes"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot promote pstg to pdev") && stderr.contains("hint: "),
        "{stderr}"
    );

    // up of an artifact pdev does not run: refused, nothing changed.
    let b = f.artifacts("b");
    let out = f.up("pstg", &b, &[]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing to deploy to pstg an artifact that pdev does not run"),
        "{stderr}"
    );
    assert!(stderr.contains("deployer promote pdev pstg"), "{stderr}");
    assert_eq!(parameters("pstg").unwrap(), dev);

    // The artifact pdev runs is accepted (here: a no-op).
    ok(&f.up("pstg", &a, &[]), "up pstg with pdev's artifact");

    // --force lets it through, loudly.
    let (_, stderr) = ok(&f.up("pstg", &b, &["--force"]), "up --force");
    assert!(stderr.contains("WARNING: --force"), "{stderr}");
    assert_eq!(
        parameters("pstg").unwrap()["ApiArtifactKey"],
        artifact_key("api", &Fixture::digest(&b, "api"))
    );

    // Rollback by digest: pdev moves on to c, then goes back to b, whose zips are in the
    // bucket (moto compares a change set with the stack's *creation* parameters, so the
    // rollback target here differs from those; real CloudFormation has no such limit).
    let c = f.artifacts("c");
    ok(&f.up("pdev", &c, &[]), "up pdev c");
    let digests = format!(
        "api={},worker={}",
        Fixture::digest(&b, "api"),
        Fixture::digest(&b, "worker")
    );
    let (stdout, stderr) = ok(
        &f.deployer(&[
            "up",
            "pdev",
            "--yes",
            "--no-smoke-test",
            "--artifact-digest",
            &digests,
        ]),
        "up --artifact-digest",
    );
    assert!(!stderr.contains("uploading"), "{stderr}");
    assert_eq!(
        parameters("pdev").unwrap()["WorkerArtifactKey"],
        artifact_key("worker", &Fixture::digest(&b, "worker")),
        "{stdout}\n{stderr}"
    );
    // A digest that was never uploaded is refused (never rebuilt, never an empty zip).
    let missing = format!("api={},worker={}", "0".repeat(64), "1".repeat(64));
    let out = f.deployer(&[
        "up",
        "pdev",
        "--yes",
        "--no-smoke-test",
        "--artifact-digest",
        &missing,
    ]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn promote_answers_only_an_approval_that_carries_the_same_artifact() {
    let mut f = Fixture::new("adev", "aprd", true);
    let a = f.artifacts("a");
    ok(&f.up("adev", &a, &[]), "up adev");
    // adev's stack is tagged with commit test-a; the waiting execution built another commit.
    let recorded = Recorded::start("adev", "aprd", "test-other");
    f.pipeline_endpoint = Some(recorded.endpoint.clone());

    let out = f.deployer(&["promote", "adev", "aprd", "--yes", "--no-smoke-test"]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("e-waiting") && stderr.contains("test-other") && stderr.contains("test-a"),
        "{stderr}"
    );
    assert_eq!(parameters("aprd"), None, "a refused promote deployed");
    assert!(recorded.calls("PutApprovalResult").is_empty());

    // status shows the pipeline: each stage's latest execution, commit, package digest, the waiting approval.
    let (stdout, _) = ok(&f.deployer(&["status", "--json"]), "status");
    let status: Value = serde_json::from_str(&stdout).expect("JSON");
    let pipeline = &status["pipeline"];
    assert_eq!(pipeline["name"], "countries");
    let aprd = pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "aprd")
        .expect("aprd row")
        .clone();
    assert_eq!(aprd["commit"], "test-other");
    assert_eq!(aprd["package_digest"], "f".repeat(64));
    assert_eq!(aprd["action"], "Approve: InProgress");
    assert_eq!(
        pipeline["waiting_approvals"][0]["execution_id"],
        "e-waiting"
    );
    let (stdout, _) = ok(&f.deployer(&["status"]), "status text");
    assert!(
        stdout.contains("pipeline countries:")
            && stdout.contains("waiting for approval: aprd/Approve"),
        "{stdout}"
    );

    // Now the waiting execution built the commit adev runs.
    *recorded.commit.lock().unwrap() = "test-a".into();
    // Dry run: prints the approval it would answer, answers nothing.
    let (stdout, _) = ok(
        &f.deployer(&["promote", "adev", "aprd", "--dry-run"]),
        "promote --dry-run",
    );
    assert!(
        stdout.contains("would approve aprd/Approve") && stdout.contains("tok-123"),
        "{stdout}"
    );
    eprintln!("promote --dry-run said:\n{stdout}");
    assert!(recorded.calls("PutApprovalResult").is_empty());
    assert_eq!(parameters("aprd"), None);

    // Without --yes and without a terminal, an approval stage is not deployed.
    let out = f.deployer(&["promote", "adev", "aprd", "--no-smoke-test"]);
    assert_eq!(out.status.code(), Some(2), "{:?}", common::texts(&out));
    assert!(recorded.calls("PutApprovalResult").is_empty());

    let (stdout, _) = ok(
        &f.deployer(&["promote", "adev", "aprd", "--yes", "--no-smoke-test"]),
        "promote",
    );
    assert!(
        stdout.contains("approval: approved aprd/Approve for execution e-waiting"),
        "{stdout}"
    );
    assert_eq!(parameters("aprd").unwrap(), parameters("adev").unwrap());
    let answers = recorded.calls("PutApprovalResult");
    assert_eq!(answers.len(), 1, "{answers:?}");
    let answer = &answers[0];
    assert_eq!(answer["pipelineName"], "countries");
    assert_eq!(answer["stageName"], "aprd");
    assert_eq!(answer["actionName"], "Approve");
    assert_eq!(answer["token"], "tok-123");
    assert_eq!(answer["result"]["status"], "Approved");
}

#[test]
fn outputs_lists_what_is_there_and_what_is_missing() {
    let f = Fixture::new("odev", "ostg", false);
    let (stdout, _) = ok(&f.deployer(&["outputs"]), "outputs");
    assert!(
        stdout.contains("pipeline_name") && stdout.contains("countries"),
        "{stdout}"
    );
    assert!(!stdout.contains("MISSING"), "{stdout}");

    // Drop one output and the staging role: both are reported, exit 2.
    let mut outputs: Value =
        serde_json::from_str(&std::fs::read_to_string(f.root().join("outputs.json")).unwrap())
            .unwrap();
    outputs.as_object_mut().unwrap().remove("pipeline_name");
    outputs["cloudformation_execution_role_arns"]["value"]
        .as_object_mut()
        .unwrap()
        .remove("ostg");
    std::fs::write(f.root().join("outputs.json"), outputs.to_string()).unwrap();

    let out = f.deployer(&["outputs"]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("MISSING") && stdout.contains("UNUSABLE: has no entry for stage `ostg`"),
        "{stdout}"
    );
    assert!(
        stderr.contains("stage odev: `pipeline_name` missing")
            && stderr.contains(
                "stage ostg: `cloudformation_execution_role_arns` has no entry for stage `ostg`"
            ),
        "{stderr}"
    );
    let out = f.deployer(&["outputs", "odev", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    // The first JSON value is the report (an error object may follow it).
    let v: Value = serde_json::Deserializer::from_str(&common::texts(&out).0)
        .into_iter()
        .next()
        .expect("a JSON value")
        .expect("JSON");
    assert_eq!(v["missing"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["stages"][0]["outputs"][3]["name"], "pipeline_name");

    // With no pipeline output, status says so instead of failing.
    let (stdout, _) = ok(&f.deployer(&["status", "odev"]), "status");
    assert!(stdout.contains("pipeline: no pipeline"), "{stdout}");
}

#[test]
fn artifact_digest_flag_needs_both_functions_as_sha256() {
    use deployer::cli::ArtifactDigests;
    let (a, w) = ("A".repeat(64), "b".repeat(64));
    let ok: ArtifactDigests = format!("api={a},worker={w}").parse().expect("parses");
    assert_eq!(ok.0["api"], "a".repeat(64));
    assert!(format!("api={a}").parse::<ArtifactDigests>().is_err());
    assert!(
        format!("api={a},worker=xyz")
            .parse::<ArtifactDigests>()
            .is_err()
    );
    assert!(
        format!("api={a},db={w}")
            .parse::<ArtifactDigests>()
            .is_err()
    );
    // clap turns a bad value into a usage error (exit 2) before anything runs.
    let out = common::run(
        &common::repo_root(),
        &["up", "dev", "--artifact-digest", "api=1"],
    );
    assert_eq!(out.status.code(), Some(2), "{:?}", common::texts(&out));
}
