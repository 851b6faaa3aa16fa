//! The pipeline's Build installs or avoids what it runs: every program a
//! PIPELINE_STEP of buildspec.yml uses (tools/pipeline-tools.yaml) is on
//! the CodeBuild image, per AWS's published Dockerfile, or installed by the
//! install phase at a pinned version; and the checks of scripts/test.sh that
//! need a program nothing installs (the benchmarks' wrk) are left out of Build.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tools {
    image: String,
    on_image: BTreeMap<String, String>,
    installed: BTreeMap<String, String>,
    steps: BTreeMap<String, Vec<String>>,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(common::repo_root().join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn tools() -> Tools {
    yaml_serde::from_str(&read("tools/pipeline-tools.yaml")).expect("tools/pipeline-tools.yaml")
}

/// buildspec.yml's env variables and every phase's commands, as one text per phase.
fn buildspec() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let doc: yaml_serde::Value = yaml_serde::from_str(&read("buildspec.yml")).expect("YAML");
    let variables = doc["env"]["variables"]
        .as_mapping()
        .expect("env.variables")
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let phases = doc["phases"]
        .as_mapping()
        .expect("phases")
        .iter()
        .map(|(name, phase)| {
            let commands: Vec<&str> = phase["commands"]
                .as_sequence()
                .expect("commands")
                .iter()
                .map(|c| c.as_str().expect("a command is a string"))
                .collect();
            (name.as_str().unwrap().to_string(), commands.join("\n"))
        })
        .collect();
    (variables, phases)
}

/// True when `word` appears in `text` as a command word (not inside another word).
fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().last();
        let after = text[i + word.len()..].chars().next();
        let edge =
            |c: Option<char>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || "-_./$".contains(c)));
        edge(before) && edge(after)
    })
}

#[test]
fn every_tool_of_every_step_is_on_the_image_or_installed_by_the_install_phase() {
    let tools = tools();
    let default_image = read("infrastructure/variables.tf");
    assert!(
        default_image.contains(&format!("default     = \"{}\"", tools.image)),
        "tools/pipeline-tools.yaml's image {} is not infrastructure/variables.tf's default codebuild_image",
        tools.image
    );
    let steps: BTreeSet<&str> = tools.steps.keys().map(String::as_str).collect();
    assert_eq!(
        steps,
        BTreeSet::from(["build", "deploy", "promote", "pull-request"])
    );
    let (variables, phases) = buildspec();
    assert!(
        phases["install"].contains("PIPELINE_STEP must be build, deploy, promote or pull-request")
    );

    let both: Vec<_> = tools
        .installed
        .keys()
        .filter(|t| tools.on_image.contains_key(*t))
        .collect();
    assert!(both.is_empty(), "both on the image and installed: {both:?}");
    for (step, used) in &tools.steps {
        let unknown: Vec<_> = used
            .iter()
            .filter(|t| !tools.on_image.contains_key(*t) && !tools.installed.contains_key(*t))
            .collect();
        assert!(
            unknown.is_empty(),
            "step {step} uses {unknown:?}, which are neither on {} nor installed by buildspec.yml's install phase",
            tools.image
        );
    }
    // Each installed program: pinned by an env variable, and installed (by name) in the install phase.
    for (tool, pin) in &tools.installed {
        assert!(
            variables.contains_key(pin),
            "{tool}: buildspec.yml has no env variable {pin}"
        );
        assert!(
            phases["install"].contains(&format!("${pin}")),
            "{tool}: the install phase never uses ${pin}"
        );
        assert!(
            mentions(&phases["install"], tool),
            "{tool}: the install phase never names it"
        );
    }
    // Nothing the buildspec runs is left off the list.
    let all: String = phases.values().cloned().collect::<Vec<_>>().join("\n");
    let listed: BTreeSet<&String> = tools.steps.values().flatten().collect();
    for tool in tools.on_image.keys().chain(tools.installed.keys()) {
        if mentions(&all, tool) {
            assert!(
                listed.contains(tool),
                "buildspec.yml runs {tool}, which no step lists"
            );
        }
    }
}

/// Bash glob match for the patterns TEST_SKIP uses (`*` only).
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len()).any(|i| {
                    name.is_char_boundary(head.len() + i) && glob(rest, &name[head.len() + i..])
                })
        }
    }
}

#[test]
fn the_build_runs_only_test_sh_checks_whose_tools_it_has() {
    let tools = tools();
    let (variables, _) = buildspec();
    let skip: Vec<&str> = variables
        .get("TEST_SKIP")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let build: BTreeSet<&str> = tools.steps["build"].iter().map(String::as_str).collect();
    let script = read("scripts/test.sh");
    // The benchmarks (bench/run and what it calls) drive load with wrk.
    let bench: String = std::fs::read_dir(common::repo_root().join("bench"))
        .expect("bench/")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    // Each check of scripts/test.sh: `step "<name>" <command...>`.
    let checks: Vec<(String, String)> = script
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("step \""))
        .filter_map(|rest| rest.split_once('"'))
        .map(|(name, command)| (name.to_string(), command.to_string()))
        .collect();
    assert!(checks.len() >= 5, "{checks:?}");
    let mut ran = Vec::new();
    for (name, command) in &checks {
        if skip.iter().any(|p| glob(p, name)) {
            continue;
        }
        ran.push(name.clone());
        assert!(
            !command.contains("bench/run"),
            "Build runs `{name}` ({command}), which needs wrk (bench/run), a program no phase installs: leave it out with TEST_SKIP"
        );
    }
    assert!(bench.contains("wrk") && !build.contains("wrk"));
    assert!(
        ran.iter().any(|n| n.starts_with("tests (")),
        "Build must still run the tests: {ran:?}"
    );
    // What the script runs outside its venvs, Build installs.
    for tool in ["terraform", "cargo", "python3"] {
        assert!(mentions(&script, tool) && build.contains(tool), "{tool}");
    }
    assert!(glob("benchmarks*", "benchmarks, quick mode") && !glob("bench", "benchmarks"));
}
