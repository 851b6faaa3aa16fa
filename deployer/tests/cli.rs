//! The command line: help, exit codes, terraform outputs and the linters.

use crate::common;

use std::process::Command;

fn deployer() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deployer"));
    cmd.env_remove("DEPLOYER_OUTPUTS_FILE")
        .env_remove("DEPLOYER_ROOT");
    cmd
}

#[test]
fn usage_errors_exit_2() {
    let out = deployer().args(["render"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = deployer()
        .args(["render", "dev", "--all"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unknown_stage_exits_2_and_lists_stages() {
    let root = common::fixture_root();
    let out = common::run(root.path(), &["render", "qaa"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("error: unknown stage `qaa`; stages are: qa, sandbox"),
        "{stderr}"
    );
}

#[test]
fn missing_root_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = deployer()
        .current_dir(dir.path())
        .args(["render", "--all"])
        .output()
        .expect("run");
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("cannot find the repository root") && stderr.contains("hint: "),
        "{stderr}"
    );
}

/// A stage may read outputs by running `terraform -chdir=<dir> output -json`.
#[test]
fn outputs_from_terraform_chdir() {
    let found = Command::new("terraform").arg("version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "this test runs `terraform output`: install Terraform >= 1.6 and put it on PATH"
    );
    let root = common::fixture_root();
    let outputs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.path().join("outputs.json")).expect("read"),
    )
    .expect("json");
    let state = serde_json::json!({
        "version": 4, "terraform_version": "1.11.0", "serial": 1, "lineage": "test",
        "outputs": outputs, "resources": [], "check_results": null
    });
    std::fs::create_dir_all(root.path().join("tf")).expect("mkdir");
    std::fs::write(root.path().join("tf/terraform.tfstate"), state.to_string())
        .expect("write state");
    common::edit(
        &root.path().join("stages/qa.yaml"),
        "  file: outputs.json",
        "  chdir: tf",
    );

    let out = common::run(
        root.path(),
        &[
            "render",
            "qa",
            "--out",
            root.path().join("out").to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "{:?}", common::texts(&out));
    let stack = std::fs::read_to_string(root.path().join("out/qa/stack.yaml")).expect("read");
    assert!(stack.contains("S3Bucket: \"qa-artifacts\""));
}

#[test]
fn validate_without_the_lint_venv_says_how_to_install_it() {
    let root = common::fixture_root();
    assert!(common::run(root.path(), &["render", "qa"]).status.success());
    let out = common::run(root.path(), &["validate", "qa"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("hint: python3 -m venv .countries/venv-lint && .countries/venv-lint/bin/pip install -r tools/requirements-lint.txt"),
        "{stderr}"
    );
}

#[test]
fn validate_before_render_says_to_render() {
    let root = common::fixture_root();
    let out = common::run(root.path(), &["validate", "--all"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("generated/qa/stack.yaml does not exist")
            && stderr.contains("deployer render"),
        "{stderr}"
    );
}

/// A stack the linters reject fails `validate` with exit 1.
#[test]
fn validate_fails_on_a_bad_stack() {
    // Installs cfn-lint and checkov into .countries/venv-lint on first use, or
    // fails saying how to install them: never skips.
    let checkov = testkit::python_tool("venv-lint", "tools/requirements-lint.txt", "checkov");
    let venv = checkov
        .parent()
        .and_then(|bin| bin.parent())
        .expect("venv/bin/checkov");
    let root = common::fixture_root();
    assert!(common::run(root.path(), &["render", "qa"]).status.success());
    std::fs::create_dir_all(root.path().join(".countries")).expect("mkdir");
    std::os::unix::fs::symlink(venv, root.path().join(".countries/venv-lint")).expect("symlink");
    common::edit(
        &root.path().join("generated/qa/stack.yaml"),
        "Runtime: provided.al2023",
        "Runtime: provided.al1999",
    );
    let out = common::run(root.path(), &["validate", "qa"]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("cfn-lint: FAILED"), "{stdout}");
    assert!(
        stderr.contains("error: cfn-lint reported problems in: generated/qa/stack.yaml"),
        "{stderr}"
    );
}
