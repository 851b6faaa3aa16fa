//! `render --check` on the committed tree, and on copies made stale on purpose.

mod common;

#[test]
fn committed_generated_files_are_up_to_date() {
    let out = common::run(&common::repo_root(), &["render", "--all", "--check"]);
    let (stdout, stderr) = common::texts(&out);
    assert!(
        out.status.success(),
        "generated/ is stale: run `cargo run -p deployer -- render --all` and commit it\n{stdout}\n{stderr}"
    );
    for stage in ["local", "dev", "staging", "prod"] {
        assert!(
            stdout.contains(&format!("generated/{stage}: up to date")),
            "{stdout}"
        );
    }
}

#[test]
fn a_changed_stage_value_makes_check_fail_with_a_diff() {
    let root = common::repo_copy();
    common::edit(
        &root.path().join("stages/dev.yaml"),
        "memory_mb: 256",
        "memory_mb: 384",
    );
    let out = common::run(root.path(), &["render", "--all", "--check"]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("--- a/generated/dev/stack.yaml (committed)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-      MemorySize: 256\n+      MemorySize: 384"),
        "{stdout}"
    );
    assert!(stdout.contains("generated/staging: up to date"), "{stdout}");
    assert!(
        stderr.contains("error: generated files are stale: ")
            && stderr.contains("generated/dev/stack.yaml"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: run `deployer render --all`"),
        "{stderr}"
    );

    // Rendering brings the tree back in line.
    let out = common::run(root.path(), &["render", "dev"]);
    assert!(out.status.success(), "{:?}", common::texts(&out));
    let out = common::run(root.path(), &["render", "--all", "--check"]);
    assert!(out.status.success(), "{:?}", common::texts(&out));
}

#[test]
fn stray_files_and_folders_are_stale_too() {
    let root = common::repo_copy();
    std::fs::write(root.path().join("generated/dev/old.yaml"), "x").expect("write");
    std::fs::create_dir_all(root.path().join("generated/qa")).expect("mkdir");
    let out = common::run(root.path(), &["render", "--all", "--check"]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("generated/dev/old.yaml: no template makes this file"),
        "{stdout}"
    );
    assert!(
        stdout.contains("generated/qa: no stage file makes this folder"),
        "{stdout}"
    );

    // `render` removes stray files in a stage folder.
    let out = common::run(root.path(), &["render", "dev"]);
    assert!(
        common::texts(&out)
            .0
            .contains("generated/dev/old.yaml: removed")
    );
    assert!(!root.path().join("generated/dev/old.yaml").exists());
}

#[test]
fn outputs_file_env_overrides_every_cloud_stage() {
    let root = common::repo_copy();
    let example = std::fs::read_to_string(root.path().join("infrastructure/outputs.example.json"))
        .expect("read");
    let other = root.path().join("ci-outputs.json");
    std::fs::write(
        &other,
        example.replace("countries-artifacts-111111111111-us-east-1", "ci-bucket"),
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deployer"))
        .args([
            "--root",
            root.path().to_str().expect("utf-8"),
            "render",
            "--all",
            "--check",
        ])
        .env("DEPLOYER_OUTPUTS_FILE", &other)
        .output()
        .expect("run");
    let (stdout, _) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("+        S3Bucket: \"ci-bucket\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("generated/local: up to date"),
        "the local stage ignores the override: {stdout}"
    );
}

#[test]
fn json_summary() {
    let out = common::run(
        &common::repo_root(),
        &["render", "dev", "--check", "--json"],
    );
    let (stdout, _) = common::texts(&out);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(v["ok"], true);
    assert_eq!(v["stages"][0]["stage"], "dev");
}
