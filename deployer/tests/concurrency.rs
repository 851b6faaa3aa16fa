//! Account limits before CloudFormation: `plan` and `up` read the account's
//! Lambda concurrency (GetAccountSettings) and refuse, with the numbers and
//! what to do, a stage whose reservations cannot fit, before any change set
//! or upload.
//!
//! CloudFormation, S3 and STS run against moto; moto does not implement
//! GetAccountSettings, so `common::recorded_lambda` answers it with a
//! recorded response of the documented shape (numbers set per test).

use crate::common;

use std::path::Path;
use std::process::Output;

use common::recorded_lambda::RecordedLambda;

const ACCOUNT: &str = "123456789012";

fn stage_file(api_reserved: Option<u32>, worker: &str) -> String {
    let api = api_reserved
        .map(|n| format!("    reserved_concurrency: {n}\n"))
        .unwrap_or_default();
    common::cloud_stage_file(
        ACCOUNT,
        common::StageExtras {
            api: &api,
            worker,
            ..Default::default()
        },
    )
}

/// A repository root with one cloud stage `stage` in the emulator's account.
fn fixture(stage: &str, api_reserved: Option<u32>, worker: &str) -> tempfile::TempDir {
    let dir = common::templates_root();
    std::fs::write(
        dir.path().join(format!("stages/{stage}.yaml")),
        stage_file(api_reserved, worker),
    )
    .expect("stage");
    let outputs = serde_json::json!({
        "artifact_bucket": {"value": format!("artifacts-{stage}"), "type": "string"},
        "alarm_topic_arn": {"value": format!("arn:aws:sns:us-east-1:{ACCOUNT}:alarms"), "type": "string"},
        "cloudformation_execution_role_arns": {"value": {stage: format!("arn:aws:iam::{ACCOUNT}:role/cfn-{stage}")}, "type": ["map", "string"]},
        "pipeline_name": {"value": "countries", "type": "string"},
    });
    std::fs::write(dir.path().join("outputs.json"), outputs.to_string()).expect("outputs");
    let out = common::run(dir.path(), &["render", stage]);
    assert!(out.status.success(), "render: {:?}", common::texts(&out));
    common::create_bucket(&format!("artifacts-{stage}"));
    dir
}

fn deployer(root: &Path, lambda: &RecordedLambda, args: &[&str]) -> Output {
    common::emulator_command(root, args)
        .env("AWS_ENDPOINT_URL_LAMBDA", &lambda.endpoint)
        .env("GIT_COMMIT", "fixture-commit")
        .output()
        .expect("run deployer")
}

fn stack_exists(stage: &str) -> bool {
    let moto = testkit::moto();
    common::runtime().block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&common::sdk(&moto.endpoint).await);
        cfn.describe_stacks()
            .stack_name(format!("countries-{stage}"))
            .send()
            .await
            .is_ok_and(|o| {
                o.stacks()
                    .iter()
                    .any(|s| s.stack_status().map(|s| s.as_str()) != Some("DELETE_COMPLETE"))
            })
    })
}

fn bucket_keys(bucket: &str) -> usize {
    let moto = testkit::moto();
    common::runtime().block_on(async {
        let s3 = common::s3(&moto.endpoint).await;
        s3.list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .expect("list")
            .key_count()
            .unwrap_or(0) as usize
    })
}

#[test]
fn a_new_account_with_a_quota_of_ten_is_refused_with_the_numbers_before_anything_changes() {
    let root = fixture("cnew", Some(10), "    reserved_concurrency: 5\n");
    let lambda = RecordedLambda::start(10, 10);
    let artifacts = common::artifacts(root.path(), "a");
    for args in [
        vec!["plan", "cnew", "--artifacts", artifacts.to_str().unwrap()],
        common::up_args("cnew", &artifacts),
    ] {
        let out = deployer(root.path(), &lambda, &args);
        let (stdout, stderr) = common::texts(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{stdout}\n{stderr}");
        assert!(
            stderr.contains(
                "stage cnew reserves 15 concurrent Lambda executions (now 0), but the account's quota in us-east-1 is 10 and other functions reserve 0: 0 would stay unreserved, and Lambda keeps at least 10; nothing was changed"
            ),
            "{stderr}"
        );
        assert!(
            stderr.contains("request a quota increase to at least 115")
                && stderr.contains("L-B99A9384")
                && stderr.contains("remove `reserved_concurrency` in stages/cnew.yaml"),
            "{stderr}"
        );
    }
    assert_eq!(lambda.settings_calls(), 2);
    assert!(!stack_exists("cnew"), "a refused deploy created the stack");
    assert_eq!(
        bucket_keys("artifacts-cnew"),
        0,
        "a refused deploy uploaded"
    );
}

#[test]
fn the_stages_own_reservation_is_given_back_before_a_change_is_checked() {
    let root = fixture("cfit", Some(10), "    reserved_concurrency: 5\n");
    // Other functions hold 80 of 200: 120 unreserved, room for 20 more.
    let lambda = RecordedLambda::start(200, 120);
    let a = common::artifacts(root.path(), "a");
    let (_, stderr) = common::ok(
        &deployer(root.path(), &lambda, &common::up_args("cfit", &a)),
        "up",
    );
    assert!(
        stderr.contains("Lambda concurrency: the stage reserves 15 (now 0), other functions 80, of the account's 200; 105 stay unreserved (at least 100 must)"),
        "{stderr}"
    );
    // Lambda now has 15 of the 120 reserved for this stage.
    *lambda.concurrency.lock().unwrap() = (200, 105);

    // 15 -> 20 leaves 100: accepted (the stage's 15 count as given back).
    common::edit(
        &root.path().join("stages/cfit.yaml"),
        "reserved_concurrency: 10",
        "reserved_concurrency: 15",
    );
    assert!(
        common::run(root.path(), &["render", "cfit"])
            .status
            .success()
    );
    let plan = &["plan", "cfit", "--artifacts", a.to_str().unwrap()];
    let (_, stderr) = common::ok(&deployer(root.path(), &lambda, plan), "plan 20");
    assert!(
        stderr.contains("the stage reserves 20 (now 15), other functions 80, of the account's 200; 100 stay unreserved"),
        "{stderr}"
    );
    // 15 -> 21 would leave 99: refused.
    common::edit(
        &root.path().join("stages/cfit.yaml"),
        "reserved_concurrency: 15",
        "reserved_concurrency: 16",
    );
    assert!(
        common::run(root.path(), &["render", "cfit"])
            .status
            .success()
    );
    let out = deployer(root.path(), &lambda, plan);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("99 would stay unreserved, and Lambda keeps at least 100")
            && stderr.contains("at least 201"),
        "{stderr}"
    );
}

#[test]
fn a_stage_that_reserves_nothing_makes_no_lambda_call() {
    // The worker's upstream cap comes from the queue trigger alone.
    let root = fixture("cnone", None, "    max_concurrency: 3\n");
    let stack = std::fs::read_to_string(root.path().join("generated/cnone/stack.yaml")).unwrap();
    assert!(!stack.contains("ReservedConcurrentExecutions"), "{stack}");
    assert!(stack.contains("MaximumConcurrency: 3"), "{stack}");
    let lambda = RecordedLambda::start(10, 10);
    let a = common::artifacts(root.path(), "a");
    common::ok(
        &deployer(root.path(), &lambda, &common::up_args("cnone", &a)),
        "up",
    );
    assert_eq!(lambda.settings_calls(), 0);
    assert!(stack_exists("cnone"));
}
