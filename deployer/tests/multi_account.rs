//! One account per stage, against the emulator: moto's STS AssumeRole into a
//! role of another account id returns credentials whose calls land in that
//! account (moto keeps every account's resources apart; it does not evaluate
//! trust policies, which infrastructure/stage-account's Terraform tests check).
//!
//! The tooling account is moto's default, 123456789012: it holds the artifact
//! bucket. dev runs in 222222222222 and staging in 333333333333, each reached
//! through the `deploy_role_arn` its stage file names; staging's promotion
//! reads dev through dev's `reader_role_arn`.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use aws_config::SdkConfig;
use deployer::aws::Target;
use deployer::aws::sts::{StageRole, assumed_config};
use deployer::error::{AwsError, Error};
use serde_json::{Value, json};

const TOOLING: &str = "123456789012";
const DEV: &str = "222222222222";
const STAGING: &str = "333333333333";
const BUCKET: &str = "countries-artifacts-tooling";

fn role(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

fn stage_file(account: &str, extra: &str) -> String {
    common::cloud_stage_file(
        account,
        common::StageExtras {
            top: extra,
            ..Default::default()
        },
    )
}

/// The tooling account's outputs, as infrastructure/ writes them with both stages in stage_accounts.
fn outputs() -> Value {
    json!({
        "artifact_bucket": {"value": BUCKET, "type": "string"},
        "alarm_topic_arn": {"value": format!("arn:aws:sns:us-east-1:{TOOLING}:countries-notifications"), "type": "string"},
        "cloudformation_execution_role_arns": {"value": {
            "dev": role(DEV, "countries-delivery-dev-cloudformation"),
            "staging": role(STAGING, "countries-delivery-staging-cloudformation"),
        }, "type": ["map", "string"]},
        "pipeline_name": {"value": "countries", "type": "string"},
        "stage_alarm_topic_arns": {"value": {
            "dev": format!("arn:aws:sns:us-east-1:{DEV}:countries-dev-alarms"),
            "staging": format!("arn:aws:sns:us-east-1:{STAGING}:countries-staging-alarms"),
        }, "type": ["map", "string"]},
    })
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = common::templates_root();
        let stages = dir.path().join("stages");
        std::fs::write(
            stages.join("dev.yaml"),
            stage_file(
                DEV,
                &format!(
                    "deploy_role_arn: {}\nreader_role_arn: {}\nexternal_id: countries-test-1\n",
                    role(DEV, "countries-delivery-dev-deployer"),
                    role(DEV, "countries-delivery-dev-reader")
                ),
            ),
        )
        .expect("dev");
        std::fs::write(
            stages.join("staging.yaml"),
            stage_file(
                STAGING,
                &format!(
                    "promote_from: dev\ndeploy_role_arn: {}\nexternal_id: countries-test-1\n",
                    role(STAGING, "countries-delivery-staging-deployer")
                ),
            ),
        )
        .expect("staging");
        std::fs::write(dir.path().join("outputs.json"), outputs().to_string()).expect("outputs");
        let f = Fixture { dir };
        let out = common::run(f.root(), &["render", "--all"]);
        assert!(out.status.success(), "render: {:?}", common::texts(&out));
        f
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn deployer(&self, args: &[&str]) -> Output {
        common::emulator_command(self.root(), args)
            .env("GIT_COMMIT", "multi-account-commit")
            .output()
            .expect("run deployer")
    }

    fn json(&self, args: &[&str], what: &str) -> Value {
        let (stdout, _) = common::ok(&self.deployer(args), what);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{stdout}"))
    }
}

/// The emulator's SDK configuration with the default (tooling) credentials.
async fn tooling_config() -> SdkConfig {
    common::sdk(&testkit::moto().endpoint).await
}

/// The same, as `role` (assumed through moto's STS).
async fn as_role(arn: &str) -> SdkConfig {
    let role = StageRole {
        arn: arn.to_string(),
        external_id: None,
        session_name: "multi-account-test".into(),
    };
    assumed_config(&tooling_config().await, &role).await
}

/// The stacks named `name` that the account of `config` holds (status), if any.
async fn stack_in(config: &SdkConfig, name: &str) -> Option<String> {
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let out = cfn.describe_stacks().stack_name(name).send().await.ok()?;
    out.stacks()
        .first()
        .and_then(|s| s.stack_status())
        .map(|s| s.as_str().to_string())
}

async fn parameter(config: &SdkConfig, stack: &str, key: &str) -> Option<String> {
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let out = cfn.describe_stacks().stack_name(stack).send().await.ok()?;
    out.stacks().first()?.parameters().iter().find_map(|p| {
        (p.parameter_key() == Some(key))
            .then(|| p.parameter_value().unwrap_or_default().to_string())
    })
}

async fn function_zips() -> Vec<String> {
    let s3 = common::s3(&testkit::moto().endpoint).await;
    let out = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("functions/")
        .send()
        .await
        .expect("list the tooling bucket");
    let mut keys: Vec<String> = out
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    keys.sort();
    keys
}

#[test]
fn up_and_promote_land_in_each_stage_account_and_the_zips_stay_in_the_tooling_bucket() {
    let f = Fixture::new();
    common::create_bucket(BUCKET);
    let artifacts: PathBuf = common::artifacts(f.root(), "multi");

    // dev: up through dev's deploy role.
    let out = f.deployer(&common::up_args("dev", &artifacts));
    let (stdout, stderr) = common::ok(&out, "up dev");
    assert!(
        stdout.contains("deployed countries-dev"),
        "{stdout}\n{stderr}"
    );
    assert!(stderr.contains("uploading api"), "{stderr}");

    let rt = common::runtime();
    let (in_dev, in_tooling, in_staging, zips, dev_key) = rt.block_on(async {
        let dev = as_role(&role(DEV, "countries-delivery-dev-deployer")).await;
        let staging = as_role(&role(STAGING, "countries-delivery-staging-deployer")).await;
        (
            stack_in(&dev, "countries-dev").await,
            stack_in(&tooling_config().await, "countries-dev").await,
            stack_in(&staging, "countries-dev").await,
            function_zips().await,
            parameter(&dev, "countries-dev", "ApiArtifactKey").await,
        )
    });
    assert_eq!(
        in_dev.as_deref(),
        Some("CREATE_COMPLETE"),
        "the stack is in dev's account"
    );
    assert_eq!(in_tooling, None, "the tooling account holds no dev stack");
    assert_eq!(in_staging, None, "staging's account holds no dev stack");
    // The zips went to the tooling account's bucket, with the caller's credentials.
    assert_eq!(zips.len(), 2, "{zips:?}");
    let dev_key = dev_key.expect("dev's stack names its api zip");
    assert!(zips.contains(&dev_key), "{dev_key} not in {zips:?}");

    // staging: promoted from dev (read through dev's reader role), deployed through staging's role.
    let promoted = f.json(
        &[
            "promote",
            "dev",
            "staging",
            "--yes",
            "--no-smoke-test",
            "--json",
        ],
        "promote dev staging",
    );
    assert_eq!(promoted["changes"], true, "{promoted:#}");
    let uploads: Vec<&Value> = promoted["plan"]["artifacts"]
        .as_array()
        .expect("artifacts")
        .iter()
        .filter(|a| a["upload"] == "upload")
        .collect();
    assert!(
        uploads.is_empty(),
        "promote copied or uploaded zips: {uploads:?}"
    );

    let (in_staging, in_tooling, staging_key) = rt.block_on(async {
        let staging = as_role(&role(STAGING, "countries-delivery-staging-deployer")).await;
        (
            stack_in(&staging, "countries-staging").await,
            stack_in(&tooling_config().await, "countries-staging").await,
            parameter(&staging, "countries-staging", "ApiArtifactKey").await,
        )
    });
    assert_eq!(
        in_staging.as_deref(),
        Some("CREATE_COMPLETE"),
        "the stack is in staging's account"
    );
    assert_eq!(
        in_tooling, None,
        "the tooling account holds no staging stack"
    );
    assert_eq!(
        staging_key.as_deref(),
        Some(dev_key.as_str()),
        "same zip, same digest"
    );
    assert_eq!(
        rt.block_on(function_zips()),
        zips,
        "no zip was copied or rebuilt"
    );

    // status reads each stage in its own account.
    let status = f.json(&["status", "--json"], "status");
    let rows = status["stages"].as_array().expect("rows");
    for stage in ["dev", "staging"] {
        let row = rows.iter().find(|r| r["stage"] == stage).expect("row");
        assert_eq!(row["status"], "CREATE_COMPLETE", "{row:#}");
        assert_eq!(row["git_commit"], "test-multi", "{row:#}");
    }
    assert_eq!(rows[0]["api_digest"], rows[1]["api_digest"]);
}

#[test]
fn the_account_guard_checks_the_assumed_session() {
    let endpoint = testkit::moto().endpoint.clone();
    let target = Target {
        region: "us-east-1".into(),
        profile: None,
        endpoint_url: Some(endpoint.clone()),
        emulator_credentials: true,
    };
    let stage = |account: &str, extra: &str| {
        let text = stage_file(account, extra);
        let file = PathBuf::from("stages/guarded.yaml");
        let spec = deployer::stage::load::parse(&file, &text).expect("parses");
        deployer::stage::Stage {
            name: "guarded".into(),
            file,
            text,
            spec,
        }
    };
    let rt = common::runtime();

    // The role's session is in DEV: a stage file that says DEV passes ...
    let good = stage(
        DEV,
        &format!(
            "deploy_role_arn: {}\n",
            role(DEV, "countries-delivery-guarded-deployer")
        ),
    );
    let clients = rt
        .block_on(deployer::session::guarded_clients(&good, target.clone()))
        .unwrap_or_else(|e| panic!("the guard refused a session in the stage's account: {e}"));
    use deployer::aws::sts::Identity;
    assert_eq!(rt.block_on(clients.sts.account()).expect("identity"), DEV);

    // ... one that says another account is refused before anything else (a
    // stage file cannot pass validation so; this is the guard's own check).
    let mismatch = stage(
        STAGING,
        &format!(
            "deploy_role_arn: {}\n",
            role(DEV, "countries-delivery-guarded-deployer")
        ),
    );
    match rt.block_on(deployer::session::guarded_clients(
        &mismatch,
        target.clone(),
    )) {
        Err(Error::Aws(AwsError::AccountMismatch {
            expected, actual, ..
        })) => {
            assert_eq!((expected.as_str(), actual.as_str()), (STAGING, DEV));
        }
        Err(e) => panic!("expected an account mismatch, got: {e}"),
        Ok(_) => panic!("the guard let a session of {DEV} act for a stage of {STAGING}"),
    }

    // Without a role, the caller's own (tooling) account is what the guard sees.
    let no_role = stage(DEV, "");
    match rt.block_on(deployer::session::guarded_clients(&no_role, target)) {
        Err(Error::Aws(AwsError::AccountMismatch { actual, .. })) => assert_eq!(actual, TOOLING),
        Err(e) => panic!("expected an account mismatch, got: {e}"),
        Ok(_) => panic!("the guard let the tooling account act for a stage of {DEV}"),
    }

    // Resources made through the role are not the tooling account's.
    let (as_dev, as_tooling) = rt.block_on(async {
        let dev = as_role(&role(DEV, "countries-delivery-guarded-deployer")).await;
        let sqs = aws_sdk_sqs::Client::new(&dev);
        sqs.create_queue()
            .queue_name("only-in-dev")
            .send()
            .await
            .expect("create queue as dev");
        let dev_has = sqs
            .get_queue_url()
            .queue_name("only-in-dev")
            .send()
            .await
            .is_ok();
        let tooling = aws_sdk_sqs::Client::new(&tooling_config().await);
        let tooling_has = tooling
            .get_queue_url()
            .queue_name("only-in-dev")
            .send()
            .await
            .is_ok();
        (dev_has, tooling_has)
    });
    assert!(
        as_dev && !as_tooling,
        "dev's queue must exist in dev's account only"
    );
}

#[test]
fn a_stage_in_another_account_without_its_role_is_refused_with_a_hint() {
    let f = Fixture::new();
    common::edit(
        &f.root().join("stages/dev.yaml"),
        &format!(
            "deploy_role_arn: {}\nreader_role_arn: {}\nexternal_id: countries-test-1\n",
            role(DEV, "countries-delivery-dev-deployer"),
            role(DEV, "countries-delivery-dev-reader")
        ),
        "",
    );
    let artifacts = common::artifacts(f.root(), "norole");
    let out = f.deployer(&["plan", "dev", "--artifacts", artifacts.to_str().unwrap()]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stage dev runs in account 222222222222, but these credentials are for account 123456789012")
            && stderr.contains("deploy_role_arn"),
        "{stderr}"
    );
}
