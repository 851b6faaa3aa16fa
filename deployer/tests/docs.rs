//! docs/stages.md documents every stage file key and every required output.

mod common;

fn keys(value: &yaml_serde::Value, out: &mut Vec<String>) {
    if let Some(map) = value.as_mapping() {
        for (k, v) in map {
            out.push(k.as_str().expect("string key").to_string());
            keys(v, out);
        }
    }
}

#[test]
fn every_stage_file_key_is_documented() {
    let doc = std::fs::read_to_string(common::repo_root().join("docs/stages.md"))
        .expect("docs/stages.md");
    let mut all = vec!["chdir".to_string()]; // the fixtures use `file:`
    for stage in ["qa", "sandbox"] {
        let path = common::fixtures().join(format!("stages/{stage}.yaml"));
        let text = std::fs::read_to_string(&path).expect("fixture");
        let spec = deployer::stage::load::parse(&path, &text).expect("fixture parses");
        keys(&yaml_serde::to_value(&spec).expect("serializes"), &mut all);
    }
    let undocumented: Vec<&String> = all
        .iter()
        .filter(|k| !["project", "cost-center"].contains(&k.as_str())) // tag names, not fields
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/stages.md does not mention: {undocumented:?}"
    );
}

#[test]
fn every_required_output_is_documented() {
    let doc = std::fs::read_to_string(common::repo_root().join("docs/stages.md"))
        .expect("docs/stages.md");
    let contract = std::fs::read_to_string(common::repo_root().join("docs/contract.md"))
        .expect("docs/contract.md");
    for output in deployer::outputs::REQUIRED {
        assert!(
            doc.contains(&format!("`{}`", output.name)),
            "docs/stages.md lacks {}",
            output.name
        );
        assert!(
            contract.contains(&format!("`{}`", output.name)),
            "docs/contract.md lacks {}",
            output.name
        );
    }
}
