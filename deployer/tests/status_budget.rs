//! `deployer status` shows a stage's monthly upstream budget: the counter the
//! worker spends (through the app's own store code, against the emulator),
//! read back from the stage's status table after `up` deployed it there.

use crate::common;

use countries::store::UpstreamBudget;
use countries::store::budget::DynamoBudget;
use serde_json::Value;

const STAGE: &str = "budgeted";

fn stage_file() -> String {
    let upstream = "    monthly_budget: 7\n";
    common::cloud_stage_file(
        "123456789012",
        common::StageExtras {
            upstream,
            ..Default::default()
        },
    )
}

#[test]
fn status_shows_the_months_upstream_calls_against_the_budget() {
    let dir = common::templates_root();
    let root = dir.path();
    std::fs::write(root.join(format!("stages/{STAGE}.yaml")), stage_file()).expect("stage");
    let outputs = serde_json::json!({
        "artifact_bucket": {"value": format!("artifacts-{STAGE}"), "type": "string"},
        "alarm_topic_arn": {"value": "arn:aws:sns:us-east-1:123456789012:alarms", "type": "string"},
        "cloudformation_execution_role_arns": {"value": {STAGE: format!("arn:aws:iam::123456789012:role/cfn-{STAGE}")}, "type": ["map", "string"]},
        "pipeline_name": {"value": "countries", "type": "string"},
    });
    std::fs::write(root.join("outputs.json"), outputs.to_string()).expect("outputs");
    common::ok(&common::run(root, &["render", STAGE]), "render");
    common::create_bucket(&format!("artifacts-{STAGE}"));
    let artifacts = common::artifacts(root, "a");
    let up = common::emulator_command(root, &common::up_args(STAGE, &artifacts))
        .output()
        .expect("up");
    common::ok(&up, "up");

    let status = || {
        let out = common::emulator_command(root, &["status", STAGE, "--json"])
            .output()
            .expect("status");
        let (stdout, _) = common::ok(&out, "status");
        let v: Value = serde_json::from_str(&stdout).expect("status JSON");
        v["stages"][0]["upstream_budget"].clone()
    };
    let month = countries::guard::budget_month(countries::timestamp::now_millis()).key;
    let before = status();
    assert_eq!(
        (
            before["month"].as_str(),
            before["used"].as_u64(),
            before["limit"].as_u64()
        ),
        (Some(month.as_str()), Some(0), Some(7)),
        "{before}"
    );

    // Three upstream calls' worth, spent the way the worker spends them.
    let moto = testkit::moto();
    common::runtime().block_on(async {
        let dynamo = aws_sdk_dynamodb::Client::new(&common::sdk(&moto.endpoint).await);
        let budget = DynamoBudget::new(dynamo, format!("status-{STAGE}"));
        for _ in 0..3 {
            assert!(budget.spend(&month, 7).await.expect("spend").is_some());
        }
    });
    let after = status();
    assert_eq!(after["used"].as_u64(), Some(3), "{after}");
    assert!(after["error"].is_null(), "{after}");

    let out = common::emulator_command(root, &["status", STAGE])
        .output()
        .expect("status");
    let (stdout, _) = common::ok(&out, "status");
    assert!(stdout.contains("UPSTREAM CALLS"), "{stdout}");
    assert!(stdout.contains(&format!("3/7 in {month}")), "{stdout}");
}
