//! Golden test: the Markdown plan (`deployer plan <stage> --format markdown`,
//! the pull-request comment) for a fixture change matches
//! tests/fixtures/golden/plan/dev.md. The change: the status table is renamed
//! (CloudFormation replaces it), the api gets more memory and a new build, the
//! worker is unchanged. After an intended format change refresh with
//! `UPDATE_GOLDEN=1 cargo test -p deployer --test integration plan_markdown::` and review the diff.

use crate::common;

use deployer::plan::release::{FunctionRelease, Release};
use deployer::plan::render::{ConfigDiff, Format, markdown_with_diff, render};
use deployer::plan::{
    ArtifactStep, ChangeSetRef, ChangeSetType, ParameterChange, Plan, ResourceChange, Upload,
};
use deployer::render::unified_diff;

const OLD_API: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const NEW_API: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const WORKER: &str = "3333333333333333333333333333333333333333333333333333333333333333";

fn fixture_plan() -> Plan {
    let change = |action: &str, id: &str, ty: &str, replacement: Option<&str>, scope: &[&str]| {
        ResourceChange {
            action: action.into(),
            logical_id: id.into(),
            resource_type: ty.into(),
            replacement: replacement.map(str::to_string),
            scope: scope.iter().map(|s| s.to_string()).collect(),
        }
    };
    Plan {
        stage: "dev".into(),
        stack_name: "countries-dev".into(),
        account: "111111111111".into(),
        region: "eu-west-1".into(),
        stack_status: Some("UPDATE_COMPLETE".into()),
        change_set_type: ChangeSetType::Update,
        change_set: Some(ChangeSetRef {
            name: "countries-dev-1700000000".into(),
            id:
                "arn:aws:cloudformation:eu-west-1:111111111111:changeSet/countries-dev-1700000000/x"
                    .into(),
        }),
        execution_role_arn: Some("arn:aws:iam::111111111111:role/countries-cfn-dev".into()),
        bucket: "countries-artifacts-111111111111".into(),
        artifacts: vec![
            ArtifactStep {
                function: "api".into(),
                digest: NEW_API.into(),
                size: 2_831_155,
                key: format!("functions/api/{NEW_API}.zip"),
                upload: Upload::Upload,
            },
            ArtifactStep {
                function: "worker".into(),
                digest: WORKER.into(),
                size: 3_012_400,
                key: format!("functions/worker/{WORKER}.zip"),
                upload: Upload::Present,
            },
        ],
        parameters: vec![ParameterChange {
            name: "ApiArtifactKey".into(),
            old: Some(format!("functions/api/{OLD_API}.zip")),
            new: format!("functions/api/{NEW_API}.zip"),
        }],
        resources: vec![
            change(
                "Modify",
                "ApiFunction",
                "AWS::Lambda::Function",
                Some("False"),
                &["Properties"],
            ),
            change(
                "Modify",
                "StatusTable",
                "AWS::DynamoDB::Table",
                Some("True"),
                &["Properties"],
            ),
        ],
        tags: Default::default(),
        git_commit: "0a1b2c3d4e5f".into(),
        changes: true,
        release: Release {
            functions: vec![
                FunctionRelease {
                    function: "api".into(),
                    alias: "live".into(),
                    strategy: "canary 10 % for 5 min".into(),
                    codedeploy_config: Some(
                        "CodeDeployDefault.LambdaCanary10Percent5Minutes".into(),
                    ),
                    stops_on: vec!["ApiErrors".into(), "Api5xx".into()],
                    before: Some(OLD_API.into()),
                    after: NEW_API.into(),
                },
                FunctionRelease {
                    function: "worker".into(),
                    alias: "live".into(),
                    strategy: "all at once".into(),
                    codedeploy_config: None,
                    stops_on: vec![],
                    before: Some(WORKER.into()),
                    after: WORKER.into(),
                },
            ],
            rollback_triggers: ["api-errors", "api-5xx", "worker-errors"]
                .iter()
                .map(|a| {
                    format!("arn:aws:cloudwatch:eu-west-1:111111111111:alarm:countries-dev-{a}")
                })
                .collect(),
            monitoring_minutes: 10,
            note: None,
        },
    }
}

#[test]
fn markdown_plan_matches_the_golden_file() {
    let dir = common::fixtures().join("plan");
    let deployed = std::fs::read_to_string(dir.join("deployed-stack.yaml")).expect("deployed");
    let rendered = std::fs::read_to_string(dir.join("rendered-stack.yaml")).expect("rendered");
    let diff = ConfigDiff::new("generated/dev/stack.yaml", Some(&deployed), &rendered);
    let got = markdown_with_diff(&fixture_plan(), Some(&diff));

    let golden_path = common::fixtures()
        .join("golden")
        .join("plan")
        .join("dev.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&golden_path, &got).expect("write golden");
        return;
    }
    let golden = std::fs::read_to_string(&golden_path).unwrap_or_default();
    assert!(
        got == golden,
        "the Markdown plan differs from golden/plan/dev.md (UPDATE_GOLDEN=1 to accept):\n{}",
        unified_diff("golden/plan/dev.md", &golden, &got)
    );
}

#[test]
fn markdown_flags_replacements_and_digests() {
    let md = render(&fixture_plan(), Format::Markdown);
    assert!(md.contains(":warning: **Replaced**"), "{md}");
    assert!(
        md.contains("| StatusTable | AWS::DynamoDB::Table | **yes** :warning: |"),
        "{md}"
    );
    assert!(
        md.contains("| api | `111111111111` | `222222222222` |"),
        "{md}"
    );
    assert!(
        md.contains("| worker | (unchanged) | `333333333333` |"),
        "{md}"
    );
}

#[test]
fn markdown_says_how_a_release_shifts_and_what_rolls_it_back() {
    let md = render(&fixture_plan(), Format::Markdown);
    assert!(
        md.contains("**Release:** api: canary 10 % for 5 min, rollback on ApiErrors, Api5xx; worker: all at once; monitoring 10 min."),
        "{md}"
    );
    assert!(
        md.contains("| api | `live` | `111111111111` | `222222222222` | canary 10 % for 5 min (CodeDeploy `CodeDeployDefault.LambdaCanary10Percent5Minutes`), shifted back on ApiErrors, Api5xx |"),
        "{md}"
    );
    assert!(
        md.contains("| worker | `live` | `333333333333` | (unchanged) | all at once |"),
        "{md}"
    );
    assert!(
        md.contains("in the 10 min after it: countries-dev-api-errors, countries-dev-api-5xx, countries-dev-worker-errors."),
        "{md}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&render(&fixture_plan(), Format::Json)).unwrap();
    assert_eq!(
        json["release"]["functions"][0]["strategy"],
        "canary 10 % for 5 min"
    );
    assert_eq!(json["release"]["monitoring_minutes"], 10);
}

#[test]
fn a_new_stack_and_an_unchanged_template_say_so() {
    let mut plan = fixture_plan();
    plan.stack_status = None;
    plan.change_set_type = ChangeSetType::Create;
    let md = markdown_with_diff(
        &plan,
        Some(&ConfigDiff::new("generated/dev/stack.yaml", None, "x")),
    );
    assert!(md.contains("will be **created**"), "{md}");
    assert!(md.contains("new stack, the whole file is new"), "{md}");
    let same = ConfigDiff::new("generated/dev/stack.yaml", Some("a\n"), "a");
    let md = markdown_with_diff(&fixture_plan(), Some(&same));
    assert!(md.contains("the same as what the stack runs"), "{md}");
}
