//! `deployer status [<stage>]`: what each stage runs.

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::aws::Clients;
use crate::aws::cloudformation::Stacks;
use crate::cli::{GlobalArgs, StatusArgs};
use crate::deploy::{self, Deployed};
use crate::error::{Error, Result};
use crate::plan::render::{short, table};
use crate::stage::{self, Stage};

/// One stage's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The stage.
    pub stage: String,
    /// `countries-<stage>`.
    pub stack: String,
    /// Its region.
    pub region: String,
    /// The stack's status, `NOT_DEPLOYED`, or `UNKNOWN` when it could not be read.
    pub status: String,
    /// Digests, commit, time.
    #[serde(flatten)]
    pub deployed: Deployed,
    /// The API's base URL.
    pub api_url: Option<String>,
    /// Why the stage could not be read.
    pub error: Option<String>,
}

/// Prints every selected stage's row; exits 1 if one could not be read.
pub fn run(root: &Path, global: &GlobalArgs, args: &StatusArgs) -> Result<()> {
    let stages = stage::load_all(root)?;
    let selected = stage::select(&stages, args.stage.as_deref())?;
    let rows = super::runtime()?.block_on(async {
        let mut rows = Vec::new();
        for s in selected {
            rows.push(row(root, global, s).await);
        }
        rows
    });
    if global.json {
        println!("{:#}", json!({"command": "status", "stages": rows}));
    } else {
        let mut table_rows = vec![
            [
                "STAGE",
                "STATUS",
                "API",
                "WORKER",
                "COMMIT",
                "DEPLOYED AT",
                "API URL",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for r in &rows {
            let d = |v: &Option<String>| v.as_deref().map(short).unwrap_or("-").to_string();
            table_rows.push(vec![
                r.stage.clone(),
                r.status.clone(),
                d(&r.deployed.api_digest),
                d(&r.deployed.worker_digest),
                d(&r.deployed.git_commit),
                r.deployed.deployed_at.clone().unwrap_or_else(|| "-".into()),
                r.api_url.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        print!("{}", table(&table_rows));
        for r in &rows {
            if let Some(e) = &r.error {
                println!("{}: {e}", r.stage);
            }
        }
    }
    let failed: Vec<&Row> = rows.iter().filter(|r| r.error.is_some()).collect();
    match failed.first() {
        None => Ok(()),
        Some(first) => Err(Error::Aws {
            action: format!(
                "reading the stack of {}",
                failed
                    .iter()
                    .map(|r| r.stage.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            message: first.error.clone().unwrap_or_default(),
        }),
    }
}

async fn row(root: &Path, global: &GlobalArgs, s: &Stage) -> Row {
    let mut row = Row {
        stage: s.name.clone(),
        stack: deploy::stack_name(&s.name),
        region: global
            .region
            .clone()
            .unwrap_or_else(|| s.spec.region.clone()),
        status: "UNKNOWN".into(),
        deployed: Deployed::default(),
        api_url: None,
        error: None,
    };
    let target = super::target_for(s, global);
    if s.spec.local.is_some() {
        if super::emulator_running(&target, &s.name).is_err() {
            row.status = "EMULATOR_NOT_RUNNING".into();
            return row;
        }
        row.api_url = crate::local::running_state(root).map(|st| st.api);
    }
    let clients = Clients::new(target).await;
    match clients.cloudformation.describe_stack(&row.stack).await {
        Ok(None) => row.status = "NOT_DEPLOYED".into(),
        Ok(Some(info)) => {
            row.status = info.status.clone();
            row.deployed = deploy::deployed(&info);
            if row.api_url.is_none() && s.spec.local.is_none() {
                row.api_url = info.outputs.get("ApiUrl").cloned();
            }
        }
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}
