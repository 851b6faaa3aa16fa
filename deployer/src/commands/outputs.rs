//! `deployer outputs [<stage>]`: the Terraform outputs the deployer uses, per
//! stage, and which are missing, so a broken foundation is found before a deploy.

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::cli::{GlobalArgs, OutputsArgs};
use crate::error::{OutputsError, Result};
use crate::outputs::{self, OutputRow, REQUIRED};
use crate::plan::render::table;
use crate::stage;

/// One stage's outputs.
#[derive(Debug, Clone, Serialize)]
pub struct StageOutputs {
    /// The stage.
    pub stage: String,
    /// Where they came from.
    pub source: String,
    /// Every required output; empty when the source could not be read.
    pub outputs: Vec<OutputRow>,
    /// Why the source could not be read.
    pub error: Option<String>,
}

/// Prints the outputs; exits 2 when one is missing or unusable.
pub fn run(root: &Path, global: &GlobalArgs, args: &OutputsArgs) -> Result<()> {
    let stages = stage::load_all(root)?;
    let selected = stage::select(&stages, args.stage.as_deref())?;
    let mut report = Vec::new();
    for s in selected {
        report.push(
            match outputs::read_text(root, s, global.outputs_file.as_deref()) {
                Ok(None) => {
                    let local = outputs::local();
                    StageOutputs {
                        stage: s.name.clone(),
                        source: local.source.clone(),
                        outputs: REQUIRED
                            .iter()
                            .map(|r| OutputRow {
                                name: r.name,
                                kind: "built-in",
                                value: (r.name == "artifact_bucket")
                                    .then(|| local.artifact_bucket.clone()),
                                problem: None,
                                used_for: r.used_for,
                            })
                            .collect(),
                        error: None,
                    }
                }
                Ok(Some((source, text))) => match outputs::inspect(s, &text) {
                    Ok(rows) => StageOutputs {
                        stage: s.name.clone(),
                        source,
                        outputs: rows,
                        error: None,
                    },
                    Err(e) => StageOutputs {
                        stage: s.name.clone(),
                        source,
                        outputs: vec![],
                        error: Some(e),
                    },
                },
                Err(e) => StageOutputs {
                    stage: s.name.clone(),
                    source: outputs::source_desc(s, global.outputs_file.as_deref()),
                    outputs: vec![],
                    error: Some(e.to_string()),
                },
            },
        );
    }
    let missing: Vec<String> = report
        .iter()
        .flat_map(|r| {
            let unreadable = r.error.as_ref().map(|e| format!("stage {}: {e}", r.stage));
            unreadable
                .into_iter()
                .chain(r.outputs.iter().filter_map(|o| {
                    o.problem
                        .as_ref()
                        .map(|p| format!("stage {}: `{}` {p} (in {})", r.stage, o.name, r.source))
                }))
        })
        .collect();
    if global.json {
        println!(
            "{:#}",
            json!({"command": "outputs", "stages": report, "missing": missing})
        );
    } else {
        let mut rows = vec![
            ["STAGE", "OUTPUT", "TYPE", "VALUE", "USED FOR"]
                .map(String::from)
                .to_vec(),
        ];
        for r in &report {
            for o in &r.outputs {
                let value = match (&o.value, &o.problem) {
                    (_, Some(p)) if p == "missing" => "MISSING".into(),
                    (_, Some(p)) if p.starts_with("missing: ") => {
                        format!("MISSING: {}", &p["missing: ".len()..])
                    }
                    (_, Some(p)) => format!("UNUSABLE: {p}"),
                    (Some(v), None) => v.clone(),
                    (None, None) => "(not used by this stage)".into(),
                };
                rows.push(vec![
                    r.stage.clone(),
                    o.name.to_string(),
                    o.kind.to_string(),
                    value,
                    o.used_for.to_string(),
                ]);
            }
        }
        print!("{}", table(&rows));
        for r in &report {
            match &r.error {
                Some(e) => println!("{}: cannot read the outputs: {e}", r.stage),
                None => println!("{}: from {}", r.stage, r.source),
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(OutputsError::OutputsIncomplete { missing }.into())
    }
}
