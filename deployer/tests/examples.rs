//! examples/multi-account: a stage per account. Its `generated/` must be what
//! the templates make from its stage files and the tooling account's example
//! outputs (infrastructure/outputs.multi-account.example.json, which the
//! Terraform tests check against what infrastructure/ renders with
//! stage_accounts), byte for byte. After an intended template change,
//! refresh with `UPDATE_EXAMPLES=1 cargo test -p deployer --test integration examples::`
//! and review the diff like any other.

use crate::common;

use std::path::{Path, PathBuf};

use deployer::render::unified_diff;
use serde_json::Value;

const EXAMPLE: &str = "examples/multi-account";
const OUTPUTS: &str = "infrastructure/outputs.multi-account.example.json";

/// A repository root laid out like the real one, with the example's stages.
fn example_root() -> tempfile::TempDir {
    let repo = common::repo_root();
    let dir = common::templates_root();
    std::fs::remove_dir_all(dir.path().join("stages")).expect("empty stages");
    common::copy_dir(
        &repo.join(EXAMPLE).join("stages"),
        &dir.path().join("stages"),
    );
    std::fs::create_dir_all(dir.path().join("infrastructure")).expect("mkdir");
    std::fs::copy(repo.join(OUTPUTS), dir.path().join(OUTPUTS)).expect("copy outputs");
    dir
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for stage in std::fs::read_dir(dir).expect("read dir") {
        let stage = stage.expect("entry").path();
        for f in std::fs::read_dir(&stage).expect("read stage dir") {
            out.push(
                f.expect("entry")
                    .path()
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_path_buf(),
            );
        }
    }
    out.sort();
    out
}

#[test]
fn the_multi_account_example_is_rendered_and_fresh() {
    let root = example_root();
    let out = root.path().join("out");
    let (_, stderr) = common::ok(
        &common::run(
            root.path(),
            &["render", "--all", "--out", out.to_str().expect("utf-8")],
        ),
        "render the example",
    );
    let committed = common::repo_root().join(EXAMPLE).join("generated");
    if std::env::var_os("UPDATE_EXAMPLES").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        common::copy_dir(&out, &committed);
        return;
    }
    let rendered = files(&out);
    assert_eq!(
        rendered,
        files(&committed),
        "{EXAMPLE}/generated has other files than a render makes (UPDATE_EXAMPLES=1 to accept)\n{stderr}"
    );
    let stale: Vec<String> = rendered
        .iter()
        .filter_map(|f| {
            let got = std::fs::read_to_string(out.join(f)).expect("rendered");
            let want = std::fs::read_to_string(committed.join(f)).unwrap_or_default();
            (got != want)
                .then(|| unified_diff(&format!("{EXAMPLE}/generated/{}", f.display()), &want, &got))
        })
        .collect();
    assert!(
        stale.is_empty(),
        "{EXAMPLE}/generated is stale (UPDATE_EXAMPLES=1 to accept):\n{}",
        stale.concat()
    );

    // Each stack uses its own account's alarm topic and queue URLs, and the tooling bucket.
    for (stage, account) in [
        ("dev", "222222222222"),
        ("staging", "333333333333"),
        ("prod", "444444444444"),
    ] {
        let stack =
            std::fs::read_to_string(committed.join(stage).join("stack.yaml")).expect("stack");
        assert!(
            stack.contains(&format!(
                "arn:aws:sns:us-east-1:{account}:countries-{stage}-alarms"
            )) && stack.contains("countries-artifacts-111111111111-us-east-1")
                && !stack.contains(":111111111111:"),
            "{stage}: the stack must point at its own account's topic and the tooling bucket only"
        );
    }
    // The canary stages' deployment groups use their own account's CodeDeploy role.
    for (stage, account) in [("staging", "333333333333"), ("prod", "444444444444")] {
        let stack =
            std::fs::read_to_string(committed.join(stage).join("stack.yaml")).expect("stack");
        let role = format!("arn:aws:iam::{account}:role/countries-delivery-{stage}-codedeploy");
        assert!(
            stack.contains("AWS::CodeDeploy::DeploymentGroup") && stack.contains(&role),
            "{stage}: the deployment group must use {role}"
        );
    }
}

#[test]
fn the_multi_account_example_has_every_value_it_needs() {
    let root = example_root();
    let (stdout, _) = common::ok(
        &common::run(root.path(), &["outputs", "--json"]),
        "deployer outputs of the example",
    );
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["missing"], serde_json::json!([]), "{report:#}");
    for stage in report["stages"].as_array().expect("stages") {
        let row = |name: &str| {
            stage["outputs"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r["name"] == name)
                .cloned()
                .unwrap_or_else(|| panic!("no {name} row: {stage:#}"))
        };
        assert!(
            row("stage_alarm_topic_arns")["value"].as_str().is_some(),
            "{stage:#}"
        );
        assert!(
            row("deploy_role_arn")["value"]
                .as_str()
                .is_some_and(|v| v.starts_with("arn:aws:iam::")),
            "{stage:#}"
        );
    }

    // Without its stage_alarm_topic_arns entry and its deploy role, a stage shows both
    // missing; with its CodeDeploy role in the tooling account, that one unusable.
    let outputs = root.path().join(OUTPUTS);
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&outputs).unwrap()).unwrap();
    json["stage_alarm_topic_arns"]["value"]
        .as_object_mut()
        .unwrap()
        .remove("staging");
    common::edit(
        &root.path().join("stages/staging.yaml"),
        "deploy_role_arn: arn:aws:iam::333333333333:role/countries-delivery-staging-deployer\n",
        "",
    );
    common::edit(
        &root.path().join("stages/staging.yaml"),
        "reader_role_arn: arn:aws:iam::333333333333:role/countries-delivery-staging-reader\n",
        "",
    );
    json["codedeploy_role_arns"]["value"]["staging"] =
        "arn:aws:iam::111111111111:role/countries-delivery-staging-codedeploy".into();
    std::fs::write(&outputs, json.to_string()).unwrap();
    let out = common::run(root.path(), &["outputs", "staging"]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("staging  deploy_role_arn")
            && stdout.contains("MISSING: stage staging runs in account 333333333333 and the foundation in 111111111111")
            && stdout.contains("UNUSABLE: is in account 111111111111 but stage staging runs in account 333333333333"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.contains("codedeploy_role_arns")
            && l.contains("UNUSABLE: is in account 111111111111 but stage staging runs in account 333333333333")),
        "{stdout}"
    );
}
