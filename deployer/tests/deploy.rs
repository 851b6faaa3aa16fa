//! plan, up, status and down against the emulator (moto, started by testkit on a
//! free port), through the cloud path: a cloud stage file whose account is the
//! emulator's, `--endpoint-url`, and small fake zips passed with `--artifacts`,
//! so no release build is needed. Every test uses its own stage (its own stack,
//! tables and queues), so they run in parallel against one emulator.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use deployer::package::zip::sha256_hex;
use serde_json::Value;

const ACCOUNT: &str = "123456789012";

/// A temporary repository root with one cloud stage named `stage` in the emulator's account.
struct Fixture {
    dir: tempfile::TempDir,
    stage: String,
}

fn stage_file(account: &str, memory: u32) -> String {
    format!(
        "account: \"{account}\"
region: us-east-1
terraform_outputs:
  file: outputs.json
app:
  architecture: x86_64
  log_level: info
  api:
    memory_mb: {memory}
    timeout_seconds: 10
  worker:
    memory_mb: 256
    timeout_seconds: 30
  upstream:
    provider: v3
    base_url: https://countries.example.com
tags:
  project: countries-test
"
    )
}

fn outputs_json(account: &str, stage: &str) -> String {
    serde_json::json!({
        "artifact_bucket": {"value": format!("artifacts-{stage}"), "type": "string"},
        "alarm_topic_arn": {"value": format!("arn:aws:sns:us-east-1:{account}:alarms"), "type": "string"},
        "cloudformation_execution_role_arns": {"value": {stage: format!("arn:aws:iam::{account}:role/cfn-{stage}")}, "type": ["map", "string"]},
        "pipeline_name": {"value": "countries", "type": "string"},
    })
    .to_string()
}

impl Fixture {
    fn new(stage: &str, account: &str) -> Fixture {
        let dir = common::templates_root();
        std::fs::write(
            dir.path().join(format!("stages/{stage}.yaml")),
            stage_file(account, 256),
        )
        .expect("stage");
        std::fs::write(
            dir.path().join("outputs.json"),
            outputs_json(account, stage),
        )
        .expect("outputs");
        let f = Fixture {
            dir,
            stage: stage.to_string(),
        };
        f.render();
        f
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn render(&self) {
        let out = common::run(self.root(), &["render", &self.stage]);
        assert!(out.status.success(), "render: {:?}", common::texts(&out));
    }

    /// A package folder with tiny zips; `seed` makes different digests.
    fn artifacts(&self, seed: &str) -> PathBuf {
        common::artifacts(self.root(), seed)
    }

    /// Runs the deployer against the emulator.
    fn deployer(&self, args: &[&str]) -> Output {
        common::emulator_command(self.root(), args)
            .env("GIT_COMMIT", "fixture-commit")
            .output()
            .expect("run deployer")
    }

    fn up(&self, artifacts: &Path) -> Output {
        self.deployer(&common::up_args(&self.stage, artifacts))
    }

    fn plan_json(&self, artifacts: &Path) -> Value {
        let out = self.deployer(&[
            "plan",
            &self.stage,
            "--json",
            "--artifacts",
            artifacts.to_str().unwrap(),
        ]);
        let (stdout, _) = common::ok(&out, "plan");
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("plan --json is not JSON ({e}):\n{stdout}"))
    }

    fn create_bucket(&self) {
        common::create_bucket(&format!("artifacts-{}", self.stage));
    }
}

fn table_exists(name: &str) -> bool {
    let moto = testkit::moto();
    common::runtime().block_on(async {
        let db = aws_sdk_dynamodb::Client::new(&common::sdk(&moto.endpoint).await);
        db.describe_table().table_name(name).send().await.is_ok()
    })
}

fn queue_exists(name: &str) -> bool {
    let moto = testkit::moto();
    common::runtime().block_on(async {
        let sqs = aws_sdk_sqs::Client::new(&common::sdk(&moto.endpoint).await);
        sqs.get_queue_url().queue_name(name).send().await.is_ok()
    })
}

fn stack_status(f: &Fixture) -> Value {
    let out = f.deployer(&["status", &f.stage, "--json"]);
    let (stdout, _) = common::ok(&out, "status");
    let v: Value = serde_json::from_str(&stdout).expect("status JSON");
    v["stages"][0].clone()
}

fn actions(plan: &Value) -> Vec<(String, String)> {
    plan["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_string(),
                r["logical_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn plan_on_a_fresh_stage_lists_the_adds_and_leaves_nothing_behind() {
    let f = Fixture::new("planfresh", ACCOUNT);
    f.create_bucket();
    let artifacts = f.artifacts("a");
    let plan = f.plan_json(&artifacts);
    assert_eq!(plan["changes"], true);
    assert_eq!(plan["change_set_type"], "CREATE");
    let acts = actions(&plan);
    for id in [
        "CountriesTable",
        "StatusTable",
        "BreakerTable",
        "FetchQueue",
        "FetchDeadLetterQueue",
        "ApiFunction",
        "WorkerFunction",
        "HttpApi",
    ] {
        assert!(
            acts.contains(&("Add".to_string(), id.to_string())),
            "{id} not added: {acts:?}"
        );
    }
    assert!(acts.iter().all(|(a, _)| a == "Add"), "{acts:?}");
    assert_eq!(plan["artifacts"][0]["upload"], "upload");
    // Each function's artifact key and CodeSha256 (which publishes its version).
    assert_eq!(plan["parameters"].as_array().unwrap().len(), 4);
    assert_eq!(plan["tags"]["countries:git-commit"], "test-a");
    // The plan discarded its change set and the empty stack.
    assert_eq!(stack_status(&f)["status"], "NOT_DEPLOYED");
    assert!(!table_exists("countries-planfresh"));

    // The text form is a table.
    let out = f.deployer(&[
        "plan",
        "planfresh",
        "--artifacts",
        artifacts.to_str().unwrap(),
    ]);
    let (stdout, _) = common::texts(&out);
    assert!(stdout.contains("ACTION  LOGICAL ID"), "{stdout}");
    assert!(stdout.contains("Add     ApiFunction"), "{stdout}");
}

#[test]
fn up_creates_the_stack_a_second_up_is_a_no_op_and_down_keeps_the_tables() {
    let f = Fixture::new("uptwice", ACCOUNT);
    f.create_bucket();
    let artifacts = f.artifacts("a");
    let out = f.up(&artifacts);
    let (stdout, stderr) = common::ok(&out, "up");
    assert!(stdout.contains("deployed countries-uptwice"), "{stdout}");
    assert!(stderr.contains("uploading api"), "{stderr}");
    for table in [
        "countries-uptwice",
        "status-uptwice",
        "circuit-breaker-state-uptwice",
    ] {
        assert!(table_exists(table), "{table} missing");
    }
    assert!(queue_exists("countries-fetch-uptwice") && queue_exists("countries-fetch-dlq-uptwice"));

    let status = stack_status(&f);
    assert_eq!(status["status"], "CREATE_COMPLETE");
    let api_zip = std::fs::read(artifacts.join("api.zip")).unwrap();
    assert_eq!(status["api_digest"], sha256_hex(&api_zip));
    assert_eq!(status["git_commit"], "test-a");

    // Nothing changed: a quick no-op with no upload and no change set.
    let started = Instant::now();
    let out = f.up(&artifacts);
    let (stdout, stderr) = common::ok(&out, "second up");
    assert!(
        stdout.contains("no changes") && stdout.contains("nothing to deploy"),
        "{stdout}"
    );
    assert!(!stderr.contains("uploading"), "{stderr}");
    assert!(
        started.elapsed().as_secs() < 20,
        "no-op took {:?}",
        started.elapsed()
    );

    // New artifacts: the plan is exactly the four parameter changes, and up applies them.
    let b = f.artifacts("b");
    let plan = f.plan_json(&b);
    assert_eq!(plan["changes"], true);
    let params: Vec<&str> = plan["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        params.join(" "),
        "ApiArtifactKey ApiCodeSha256 WorkerArtifactKey WorkerCodeSha256"
    );
    let out = f.up(&b);
    assert!(out.status.success(), "up b: {:?}", common::texts(&out));
    let status = stack_status(&f);
    assert_eq!(
        status["api_digest"],
        sha256_hex(&std::fs::read(b.join("api.zip")).unwrap())
    );
    let out = f.up(&b);
    assert!(
        common::texts(&out).0.contains("nothing to deploy"),
        "{:?}",
        common::texts(&out)
    );

    // down without --yes and without a terminal refuses.
    let out = f.deployer(&["down", "uptwice"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("hint: pass --yes"), "{stderr}");

    let out = f.deployer(&["down", "uptwice", "--yes"]);
    let (stdout, _) = common::ok(&out, "down");
    assert!(
        stdout.contains("kept") && stdout.contains("countries-uptwice"),
        "{stdout}"
    );
    assert_eq!(stack_status(&f)["status"], "NOT_DEPLOYED");
    for table in [
        "countries-uptwice",
        "status-uptwice",
        "circuit-breaker-state-uptwice",
    ] {
        assert!(
            table_exists(table),
            "{table} was deleted; it must be retained"
        );
    }
    assert!(
        !queue_exists("countries-fetch-uptwice"),
        "the queue should be gone with the stack"
    );
}

#[test]
fn a_changed_stage_value_gives_a_plan_with_exactly_that_modify() {
    let f = Fixture::new("modify", ACCOUNT);
    f.create_bucket();
    let artifacts = f.artifacts("a");
    let out = f.up(&artifacts);
    assert!(out.status.success(), "up: {:?}", common::texts(&out));

    std::fs::write(
        f.root().join("stages/modify.yaml"),
        stage_file(ACCOUNT, 512),
    )
    .unwrap();
    // Not yet rendered: the deployer says to render.
    let out = f.deployer(&["plan", "modify", "--artifacts", artifacts.to_str().unwrap()]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("deployer render modify"), "{stderr}");

    f.render();
    let plan = f.plan_json(&artifacts);
    // The function, and its version: new settings publish a new version.
    let modified: Vec<String> = actions(&plan)
        .iter()
        .map(|(a, id)| format!("{a} {id}"))
        .collect();
    assert_eq!(modified.join(", "), "Modify ApiFunction, Modify ApiVersion");
    assert!(plan["parameters"].as_array().unwrap().is_empty());
    assert_eq!(plan["change_set_type"], "UPDATE");

    // The pull-request comment (buildspec's pull-request step): the same change,
    // and the template diff against what the stack runs.
    let out = f.deployer(&[
        "plan",
        "modify",
        "--artifacts",
        artifacts.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    let (md, stderr) = common::texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        md.contains("| Modify | ApiFunction | AWS::Lambda::Function |"),
        "{md}"
    );
    assert!(
        md.contains(
            "<details><summary><code>generated/modify/stack.yaml</code>: deployed vs this change"
        ),
        "{md}"
    );
    assert!(
        md.contains("\n-      MemorySize: 256\n+      MemorySize: 512\n"),
        "{md}"
    );
}

#[test]
fn the_account_guard_refuses_a_stage_of_another_account() {
    let f = Fixture::new("otheracct", "210987654321");
    let out = f.up(&f.artifacts("a"));
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stage otheracct runs in account 210987654321, but these credentials are for account 123456789012"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
}

#[test]
fn a_template_the_emulator_rejects_is_a_readable_error() {
    let f = Fixture::new("rejected", ACCOUNT);
    f.create_bucket();
    // A reference to a resource the template does not define.
    common::edit(
        &f.root().join("templates/stack.yaml.hbs"),
        "deadLetterTargetArn: !GetAtt FetchDeadLetterQueue.Arn",
        "deadLetterTargetArn: !GetAtt NoSuchQueue.Arn",
    );
    f.render();
    let out = f.up(&f.artifacts("a"));
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.starts_with("error: ") || stderr.contains("\nerror: "),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
    assert!(
        stderr.contains("NoSuchQueue"),
        "the error should name what is wrong: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{stderr}"
    );
    eprintln!("the deployer said:\n{stderr}");
}

/// The emulator's fixes to moto (tools/moto_server.py) are applied when moto
/// loads each service, not at start: a fix that stopped applying would leave
/// DynamoDB without per-item atomicity or CloudFormation without Lambda aliases.
#[test]
fn the_emulator_patches_each_service_when_moto_loads_it() {
    let python = testkit::moto_server_path().with_file_name("python");
    let script = r#"
import gc, runpy, sys
runpy.run_path(sys.argv[1])  # registers the patches; main() runs only as __main__
assert "moto.cloudformation" not in sys.modules, "CloudFormation was loaded at start"
import moto.dynamodb.models as dynamodb
assert hasattr(dynamodb.DynamoDBBackend.update_item, "__wrapped__"), "DynamoDB writes are not atomic"
import moto.cloudformation.models as cloudformation
from moto.cloudformation.parsing import get_model_map
gc.collect()
assert "AWS::Lambda::Alias" in get_model_map(), "no AWS::Lambda::Alias"
import moto.awslambda.models as awslambda
assert awslambda.LambdaVersion.has_cfn_attr("Version"), "AWS::Lambda::Version has no Version attribute"
assert cloudformation.ChangeSet.apply.__name__ == "apply_and_keep_parameters", "change sets drop their parameters"
print("patched")
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script])
        .arg(testkit::repo_root().join("tools/moto_server.py"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.contains("patched"), "{stdout}\n{stderr}");
}
