//! Golden test: the fixture stages rendered with the real templates must match
//! tests/fixtures/golden/ byte for byte. After an intended template change,
//! refresh with `UPDATE_GOLDEN=1 cargo test -p deployer --test golden` and
//! review the diff like any other.

mod common;

use std::path::Path;

use deployer::render::unified_diff;

const FILES: &[&str] = &["app-config.json", "stack.yaml"];
const STAGES: &[&str] = &["qa", "sandbox"];

fn render_into(root: &Path, out: &Path) {
    let output = common::run(
        root,
        &[
            "render",
            "--all",
            "--out",
            out.to_str().expect("utf-8 path"),
        ],
    );
    let (stdout, stderr) = common::texts(&output);
    assert!(
        output.status.success(),
        "render failed:\n{stdout}\n{stderr}"
    );
}

#[test]
fn fixture_stages_match_the_golden_files() {
    let root = common::fixture_root();
    let out = root.path().join("out");
    render_into(root.path(), &out);
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for stage in STAGES {
        for file in FILES {
            let got = std::fs::read_to_string(out.join(stage).join(file)).expect("rendered file");
            let golden_path = common::fixtures().join("golden").join(stage).join(file);
            if update {
                std::fs::create_dir_all(golden_path.parent().expect("parent")).expect("mkdir");
                std::fs::write(&golden_path, &got).expect("write golden");
                continue;
            }
            let golden = std::fs::read_to_string(&golden_path).unwrap_or_default();
            if got != golden {
                failures.push(unified_diff(
                    &format!("golden/{stage}/{file}"),
                    &golden,
                    &got,
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "rendered output differs from the golden files (UPDATE_GOLDEN=1 to accept):\n{}",
        failures.concat()
    );
}

#[test]
fn rendering_is_deterministic() {
    let root = common::fixture_root();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    render_into(root.path(), &a);
    render_into(root.path(), &b);
    for stage in STAGES {
        for file in FILES {
            let x = std::fs::read(a.join(stage).join(file)).expect("a");
            let y = std::fs::read(b.join(stage).join(file)).expect("b");
            assert_eq!(x, y, "{stage}/{file} differs between two renders");
        }
    }
}

/// The stack's Lambda environments and app-config.json list the same variables.
#[test]
fn app_config_lists_the_stack_environment() {
    let root = common::fixture_root();
    let out = root.path().join("out");
    render_into(root.path(), &out);
    for stage in STAGES {
        let config: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(stage).join("app-config.json")).expect("read"),
        )
        .expect("app-config.json is JSON");
        let stack: yaml_serde::Value = yaml_serde::from_str(
            &std::fs::read_to_string(out.join(stage).join("stack.yaml")).expect("read"),
        )
        .expect("stack.yaml is YAML");
        for (function, logical_id) in [("api", "ApiFunction"), ("worker", "WorkerFunction")] {
            let in_stack: Vec<String> = stack["Resources"][logical_id]["Properties"]["Environment"]
                ["Variables"]
                .as_mapping()
                .expect("variables")
                .keys()
                .map(|k| k.as_str().expect("name").to_string())
                .collect();
            let in_config: Vec<String> = config["functions"][function]["environment"]
                .as_object()
                .expect("environment")
                .keys()
                .cloned()
                .collect();
            assert_eq!(in_stack, in_config, "{stage} {function}");
        }
    }
}
