//! The deployer and Terraform cannot drift: `infrastructure/outputs.tf`
//! declares exactly the outputs `deployer::outputs::REQUIRED` names (and the
//! one optional output, `STAGE_ALARM_TOPICS`), and the example outputs file
//! the cloud stages render from has each of them.

use deployer::outputs::{REQUIRED, STAGE_ALARM_TOPICS};
use std::collections::BTreeSet;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The names of `output "<name>" {` blocks in HCL text: a block opens at
/// the start of a line (after `terraform fmt`), so a word-level scan that
/// skips comments is enough for this file.
fn declared_outputs(hcl: &str) -> BTreeSet<String> {
    hcl.lines()
        .map(str::trim_start)
        .filter(|line| !line.starts_with('#') && !line.starts_with("//"))
        .filter_map(|line| line.strip_prefix("output"))
        .filter_map(|rest| rest.trim_start().strip_prefix('"'))
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn outputs_tf_declares_exactly_what_the_deployer_reads() {
    let hcl = std::fs::read_to_string(format!("{ROOT}/infrastructure/outputs.tf"))
        .expect("infrastructure/outputs.tf");
    let declared = declared_outputs(&hcl);
    let needed: BTreeSet<String> = REQUIRED
        .iter()
        .map(|o| o.name)
        .chain([STAGE_ALARM_TOPICS])
        .map(str::to_string)
        .collect();
    let missing: Vec<_> = needed.difference(&declared).collect();
    let unused: Vec<_> = declared.difference(&needed).collect();
    assert!(
        missing.is_empty(),
        "outputs.tf lacks outputs the deployer reads: {missing:?}"
    );
    assert!(
        unused.is_empty(),
        "outputs.tf declares outputs the deployer does not read: {unused:?}"
    );
}

#[test]
fn the_example_outputs_file_has_every_output() {
    let text =
        std::fs::read_to_string(format!("{ROOT}/infrastructure/outputs.example.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    for output in REQUIRED {
        assert!(
            json[output.name]["value"].is_string() || json[output.name]["value"].is_object(),
            "{} missing",
            output.name
        );
    }
}

#[test]
fn the_scan_reads_blocks_and_skips_comments() {
    let hcl = "# output \"old\" {}\noutput \"a\" {\n  value = 1\n}\n  output  \"b\" {\n}\nvariable \"output\" {}\n";
    assert_eq!(
        declared_outputs(hcl),
        BTreeSet::from(["a".to_string(), "b".to_string()])
    );
}
