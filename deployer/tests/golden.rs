//! Golden test: the fixture stages rendered with the real templates must match
//! tests/fixtures/golden/ byte for byte. After an intended template change,
//! refresh with `UPDATE_GOLDEN=1 cargo test -p deployer --test integration golden::` and
//! review the diff like any other.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use deployer::env_contract::UNSET_IN_LAMBDA;
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

/// The variables a rendered stack gives each function, with a plausible value for
/// each `!Ref` (the stack resolves those to the physical ids).
fn stack_environment(stack: &yaml_serde::Value, logical_id: &str) -> Vec<(String, String)> {
    stack["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
        .as_mapping()
        .expect("variables")
        .iter()
        .map(|(k, v)| {
            let name = k.as_str().expect("name").to_string();
            let value = match (v, v.as_str()) {
                (yaml_serde::Value::Tagged(_), _) | (_, None) => {
                    format!("https://sqs.us-east-1.amazonaws.com/111111111111/{name}")
                }
                (_, Some(text)) => text.to_string(),
            };
            (name, value)
        })
        .collect()
}

/// Every variable the app reads is set in each rendered stack, for each function,
/// except the ones the contract leaves unset in Lambda, and nothing else is set;
/// app-config.json lists the same variables as the stack.
#[test]
fn rendered_environments_are_what_the_app_reads() {
    let root = common::fixture_root();
    let out = root.path().join("out");
    render_into(root.path(), &out);
    let mut dirs: Vec<(String, PathBuf)> = STAGES
        .iter()
        .map(|s| (s.to_string(), out.join(s)))
        .collect();
    for stage in ["dev", "staging", "prod", "local"] {
        dirs.push((
            stage.into(),
            common::repo_root().join("generated").join(stage),
        ));
    }
    for (stage, dir) in dirs {
        let stack: yaml_serde::Value =
            yaml_serde::from_str(&std::fs::read_to_string(dir.join("stack.yaml")).expect("read"))
                .expect("stack.yaml is YAML");
        let config: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("app-config.json")).expect("read"),
        )
        .expect("app-config.json is JSON");
        for (function, logical_id) in [("api", "ApiFunction"), ("worker", "WorkerFunction")] {
            let env = stack_environment(&stack, logical_id);
            let set: BTreeSet<String> = env.iter().map(|(k, _)| k.clone()).collect();
            let (read, ok) = common::read_by_app(function, &env);
            assert!(ok, "{stage} {function}: the app rejects {env:?}");
            let extra: Vec<_> = set.difference(&read).collect();
            assert!(
                extra.is_empty(),
                "{stage} {function}: set but never read: {extra:?}"
            );
            let unset_in_lambda = UNSET_IN_LAMBDA
                .iter()
                .find(|(f, _)| *f == function)
                .map(|(_, names)| *names)
                .expect("listed");
            let missing: Vec<_> = read
                .difference(&set)
                .filter(|n| !unset_in_lambda.contains(&n.as_str()))
                .collect();
            assert!(
                missing.is_empty(),
                "{stage} {function}: read but not set: {missing:?}"
            );
            let in_config: BTreeSet<String> = config["functions"][function]["environment"]
                .as_object()
                .expect("environment")
                .keys()
                .cloned()
                .collect();
            assert_eq!(
                set, in_config,
                "{stage} {function}: app-config.json vs stack.yaml"
            );
        }
    }
}
