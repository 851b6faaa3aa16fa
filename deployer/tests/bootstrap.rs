//! A bootstrap that keeps the build green: docs/delivery.md's one-time
//! bootstrap, applied step by step to a copy of the repository with made-up,
//! real-looking values (another account, another region), leaves the
//! project's checks green.
//!
//! Of scripts/test.sh's checks, this runs the ones the bootstrap's changes
//! (stage files, infrastructure/outputs.json, generated/) can break:
//! `deployer render --all --check` (also Build's own), `deployer validate --all`
//! (cfn-lint and checkov on the re-rendered stacks), tools/check_execution_roles.py
//! (the stacks' resource types in the new region against the roles Terraform
//! renders), and the deployer tests that read the repository's stages and
//! generated/ (render_check, golden, env_contract, outputs_usable, run with
//! COUNTRIES_TEST_REPO_ROOT pointing at the copy). The others cannot notice
//! the bootstrap: terraform fmt/validate/test and checkov read only
//! infrastructure/*.tf (the bootstrap adds a git-ignored terraform.tfvars and
//! outputs.json, which none of them reads), the app's tests use their own
//! tables and stages, and the benchmarks measure, they do not check.
//! (The pipeline simulation, deployer/tests/pipeline.rs, bootstraps its own
//! copy whatever the stage files say.)

use crate::common;

use std::path::Path;
use std::process::Command;

/// Made-up, real-looking values: what `aws sts get-caller-identity` would print, and the region.
const ACCOUNT: &str = "493817265014";
const REGION: &str = "eu-west-2";
const CLOUD_STAGES: [&str; 3] = ["dev", "staging", "prod"];

/// The tracked and new files of this checkout, copied (a clone of the working tree).
fn copy_checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::repo_root();
    let out = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .expect("git ls-files");
    assert!(
        out.status.success(),
        "git ls-files: {:?}",
        common::texts(&out)
    );
    for rel in String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|r| !r.is_empty())
    {
        let from = root.join(rel);
        if from.is_file() {
            let to = dir.path().join(rel);
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&from, &to).expect("copy");
        }
    }
    dir
}

/// docs/delivery.md must still say what this test does, so the two cannot drift.
fn docs_say(what: &[&str]) {
    let docs = std::fs::read_to_string(common::repo_root().join("docs/delivery.md")).expect("docs");
    for line in what {
        assert!(
            docs.contains(line),
            "docs/delivery.md's bootstrap no longer says {line:?}: update this test with it"
        );
    }
}

fn apply_bootstrap(root: &Path) {
    // Step 2: the account id, terraform.tfvars from the example.
    docs_say(&[
        "aws sts get-caller-identity --query Account --output text",
        "cp infrastructure/terraform.tfvars.example infrastructure/terraform.tfvars",
    ]);
    let example = std::fs::read_to_string(root.join("infrastructure/terraform.tfvars.example"))
        .expect("example");
    let tfvars: String = example
        .lines()
        .map(|l| match l.split('=').next().map(str::trim) {
            Some("aws_region") => format!("aws_region      = \"{REGION}\""),
            Some("connection_name") => "connection_name = \"acme-github\"".into(),
            Some("repository_id") => "repository_id   = \"acme-corp/countries\"".into(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(root.join("infrastructure/terraform.tfvars"), tfvars + "\n").expect("tfvars");

    // Step 3 (`terraform apply`) cannot run here; step 4 saves what it outputs.
    docs_say(&[
        "terraform -chdir=infrastructure output -json > infrastructure/outputs.json",
        "terraform_outputs: { file: infrastructure/outputs.json }",
        "deployer outputs",
        "deployer render --all",
        "`alarms.email`",
    ]);
    let outputs = common::foundation_outputs(ACCOUNT, REGION, &CLOUD_STAGES);
    std::fs::write(
        root.join("infrastructure/outputs.json"),
        format!("{outputs:#}\n"),
    )
    .expect("outputs");
    for stage in CLOUD_STAGES {
        let path = root.join(format!("stages/{stage}.yaml"));
        let text = std::fs::read_to_string(&path).expect("stage");
        let mut text = common::point_stage(&text, ACCOUNT, REGION, "infrastructure/outputs.json");
        if let Some(at) = text.find("  email: ") {
            let end = at + text[at..].find('\n').expect("line end");
            text.replace_range(at..end, "  email: countries-alerts@acme-corp.example");
        }
        std::fs::write(&path, text).expect("write stage");
    }
    common::ok(&common::run(root, &["outputs"]), "deployer outputs");
    common::ok(
        &common::run(root, &["render", "--all"]),
        "deployer render --all",
    );
    let prod = std::fs::read_to_string(root.join("generated/prod/stack.yaml")).expect("prod stack");
    assert!(
        prod.contains(&format!("countries-artifacts-{ACCOUNT}-{REGION}"))
            && prod.contains("countries-alerts@acme-corp.example"),
        "the re-render does not use the foundation's outputs"
    );
}

/// The venvs and the policies Terraform rendered (.countries/), from this checkout.
fn link_project_state(root: &Path) {
    let lint = testkit::python_tool("venv-lint", "tools/requirements-lint.txt", "checkov");
    let venv = lint.parent().and_then(Path::parent).expect("venv-lint");
    std::fs::create_dir_all(root.join(".countries")).expect("mkdir");
    std::os::unix::fs::symlink(venv, root.join(".countries/venv-lint")).expect("link venv-lint");
    let rendered = testkit::repo_root().join(".countries/terraform/rendered.json");
    assert!(
        rendered.is_file(),
        "{} is missing: run `bash scripts/terraform.sh` first (scripts/test.sh does, before `cargo test`)",
        rendered.display()
    );
    std::fs::create_dir_all(root.join(".countries/terraform")).expect("mkdir");
    std::fs::copy(&rendered, root.join(".countries/terraform/rendered.json"))
        .expect("copy rendered.json");
}

#[test]
fn the_checks_stay_green_after_the_bootstrap() {
    let copy = copy_checkout();
    let root = copy.path();
    apply_bootstrap(root);
    link_project_state(root);

    // What Build and scripts/test.sh run on generated/.
    let (stdout, _) = common::ok(
        &common::run(root, &["render", "--all", "--check"]),
        "render --check",
    );
    for stage in CLOUD_STAGES {
        assert!(
            stdout.contains(&format!("generated/{stage}: up to date")),
            "{stdout}"
        );
    }
    common::ok(&common::run(root, &["validate", "--all"]), "validate --all");
    let python = root.join(".countries/venv-lint/bin/python");
    let out = Command::new(&python)
        .arg("tools/check_execution_roles.py")
        .current_dir(root)
        .output()
        .expect("run tools/check_execution_roles.py");
    let (stdout, stderr) = common::texts(&out);
    assert!(
        out.status.success(),
        "check_execution_roles.py:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("execution roles: every handler permission is granted or excepted"),
        "{stdout}"
    );

    // The deployer's tests that read the repository, against the copy. The same
    // package selection and profile as this test binary's build (scripts/test.sh:
    // `--release`; plain `cargo test`: dev), so cargo builds nothing new.
    let profile: &[&str] = if cfg!(debug_assertions) {
        &[]
    } else {
        &["--release"]
    };
    let out = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["test", "--workspace", "--locked"])
        .args(profile)
        .args([
            "--test",
            "integration",
            "--",
            "render_check::",
            "golden::",
            "env_contract::",
            "outputs_usable::",
        ])
        .env("COUNTRIES_TEST_REPO_ROOT", root)
        .env_remove("DEPLOYER_OUTPUTS_FILE")
        .output()
        .expect("run cargo test");
    let (stdout, stderr) = common::texts(&out);
    assert!(
        out.status.success(),
        "the tests fail on a bootstrapped copy:\n{stdout}\n{stderr}"
    );
    for module in ["render_check", "golden", "env_contract", "outputs_usable"] {
        assert!(
            stdout.contains(&format!("test {module}::")),
            "no test of {module} ran:\n{stdout}"
        );
    }
}
