//! `deployer outputs` tells the truth: outputs that are there but unusable for
//! a stage (made in another account or region, a bucket in another region)
//! make it exit 2, exactly when `render` refuses them too; and the example
//! Terraform variables agree with the stage files on the region.

use crate::common;

use serde_json::{Value, json};

/// A root with one cloud stage `dev` in 111111111111 / us-east-1 and `outputs.json`.
fn root_with(outputs: &Value) -> tempfile::TempDir {
    let dir = common::templates_root();
    std::fs::write(
        dir.path().join("stages/dev.yaml"),
        "account: \"111111111111\"
region: us-east-1
terraform_outputs:
  file: outputs.json
app:
  architecture: arm64
  log_level: info
  api: {memory_mb: 256, timeout_seconds: 10}
  worker: {memory_mb: 256, timeout_seconds: 30}
  upstream: {provider: v3, base_url: 'https://countries.example.com'}
",
    )
    .expect("stage");
    std::fs::write(dir.path().join("outputs.json"), outputs.to_string()).expect("outputs");
    dir
}

/// Terraform's outputs for a foundation in `account` / `region`.
fn foundation(account: &str, region: &str) -> Value {
    common::foundation_outputs(account, region, &["dev"])
}

#[test]
fn outputs_of_another_account_or_region_exit_2_as_render_does() {
    let out_dir = |root: &tempfile::TempDir| root.path().join("out").display().to_string();
    let fine = root_with(&foundation("111111111111", "us-east-1"));
    common::ok(&common::run(fine.path(), &["outputs"]), "outputs");
    common::ok(
        &common::run(fine.path(), &["render", "dev", "--out", &out_dir(&fine)]),
        "render",
    );

    let mut bucket_elsewhere = foundation("111111111111", "us-east-1");
    bucket_elsewhere["artifact_bucket"]["value"] =
        json!("countries-artifacts-111111111111-eu-west-1");
    // What `outputs` shows, and what render's error (about the first problem) says too.
    for (outputs, says, runs) in [
        (
            foundation("222222222222", "us-east-1"),
            "is in account 222222222222 but stage dev runs in account 111111111111",
            "stage dev runs in account 111111111111",
        ),
        (
            foundation("111111111111", "eu-west-1"),
            "is in region eu-west-1 but stage dev runs in us-east-1",
            "stage dev runs in us-east-1",
        ),
        (
            bucket_elsewhere,
            "a bucket in region eu-west-1, but stage dev runs in us-east-1",
            "stage dev runs in us-east-1",
        ),
    ] {
        let root = root_with(&outputs);
        let out = common::run(root.path(), &["outputs"]);
        let (stdout, stderr) = common::texts(&out);
        assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
        assert!(
            stdout.contains("UNUSABLE: ") && stdout.contains(says),
            "{stdout}"
        );
        assert!(
            stderr.contains("Terraform outputs missing or unusable")
                && stderr.contains("aws sts get-caller-identity"),
            "{stderr}"
        );
        let out = common::run(root.path(), &["render", "dev", "--out", &out_dir(&root)]);
        let (_, stderr) = common::texts(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "render accepted what outputs refused: {stderr}"
        );
        assert!(stderr.contains(runs), "{stderr}");
    }
}

/// The shipped examples agree: `aws_region` in terraform.tfvars.example is the
/// region of the foundation that infrastructure/outputs.example.json describes,
/// which the stage files render from until the bootstrap points them at the
/// real outputs (and `outputs`/`render` then refuse outputs of another region,
/// above). Both examples stay as they are through the bootstrap.
#[test]
fn the_terraform_variables_example_names_the_example_outputs_region() {
    let root = common::repo_root();
    let tfvars = std::fs::read_to_string(root.join("infrastructure/terraform.tfvars.example"))
        .expect("terraform.tfvars.example");
    let region = tfvars
        .lines()
        .find_map(|l| l.trim().strip_prefix("aws_region"))
        .and_then(|rest| rest.trim_start().strip_prefix('='))
        .and_then(|rest| rest.split('"').nth(1))
        .expect("aws_region = \"...\" in terraform.tfvars.example");
    let outputs: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("infrastructure/outputs.example.json")).expect("read"),
    )
    .expect("outputs.example.json");
    let topic = outputs["alarm_topic_arn"]["value"].as_str().expect("topic");
    assert_eq!(
        topic.split(':').nth(3),
        Some(region),
        "terraform.tfvars.example says aws_region = {region}, outputs.example.json's topic is {topic}"
    );
    let bucket = outputs["artifact_bucket"]["value"]
        .as_str()
        .expect("bucket");
    assert!(bucket.ends_with(&format!("-{region}")), "{bucket}");
}
