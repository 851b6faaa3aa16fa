//! `deployer status [<stage>] --metrics [--since 1h]`: the functions' key
//! numbers per stage (fetch outcomes, upstream latency, breaker transitions,
//! api requests, view-data cache and latency), from CloudWatch for a deployed
//! stage and from the Embedded Metric Format lines in `.countries/local/logs`
//! for the local stage: the same rows either way.

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::cli::{GlobalArgs, StatusArgs};
use crate::error::{Error, Result};
use crate::local::processes::LOGS_DIR;
use crate::logs::format::parse_since;
use crate::logs::{Function, reader};
use crate::metrics::cloudwatch::CloudWatchMetrics;
use crate::metrics::{KeyNumber, local};
use crate::plan::format::table;
use crate::session;
use crate::stage::{self, Stage};

/// One stage's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct StageMetrics {
    /// The stage.
    pub stage: String,
    /// `cloudwatch` or `local logs`.
    pub source: &'static str,
    /// The window's start and end (RFC 3339).
    pub start: String,
    /// The window's end.
    pub end: String,
    /// Local only: how many metric lines were added up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<usize>,
    /// One row per listed metric.
    pub metrics: Vec<KeyNumber>,
    /// Why the stage could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Prints every selected stage's numbers; fails (after printing) with the first stage that could not be read.
pub fn run(root: &Path, global: &GlobalArgs, args: &StatusArgs) -> Result<()> {
    let stages = stage::load_all(root)?;
    let selected = stage::select(&stages, args.stage.as_deref())?;
    let window = parse_since(&args.since)?;
    let end_ms = super::logs::now_ms();
    let start_ms = end_ms - window.as_millis() as i64;
    let runtime = session::runtime()?;
    let mut reports = Vec::new();
    let mut first_error = None;
    for s in selected {
        let (report, error) = runtime.block_on(read(root, global, s, start_ms, end_ms));
        if first_error.is_none() {
            first_error = error;
        }
        reports.push(report);
    }
    if global.json {
        println!(
            "{:#}",
            json!({"command": "status", "since": args.since, "metrics": reports})
        );
    } else {
        for r in &reports {
            print!("{}", text(r));
        }
    }
    first_error.map_or(Ok(()), Err)
}

async fn read(
    root: &Path,
    global: &GlobalArgs,
    s: &Stage,
    start_ms: i64,
    end_ms: i64,
) -> (StageMetrics, Option<Error>) {
    let mut report = StageMetrics {
        stage: s.name.clone(),
        source: if s.spec.local.is_some() {
            "local logs"
        } else {
            "cloudwatch"
        },
        start: rfc3339(start_ms),
        end: rfc3339(end_ms),
        lines: None,
        metrics: vec![],
        error: None,
    };
    let totals = if s.spec.local.is_some() {
        let mut offsets = [0u64; 2];
        reader::read_new(&root.join(LOGS_DIR), &Function::ALL, &mut offsets).map(|events| {
            let (totals, lines) = local::totals(
                events.iter().map(|e| e.raw.as_str()),
                &s.name,
                start_ms,
                end_ms,
            );
            report.lines = Some(lines);
            totals
        })
    } else {
        let target = session::target_for(s, global);
        CloudWatchMetrics::new(&crate::aws::sdk_config(&target).await)
            .totals(&s.name, start_ms, end_ms)
            .await
    };
    match totals {
        Ok(totals) => {
            report.metrics = local::key_numbers(&totals);
            (report, None)
        }
        Err(e) => {
            report.error = Some(e.to_string());
            (report, Some(e))
        }
    }
}

/// A number as a person reads it: whole numbers without decimals, others to one place.
fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The text form: a heading line and one row per metric.
pub fn text(r: &StageMetrics) -> String {
    let source = match r.lines {
        Some(n) => format!("{n} metric line(s) in {LOGS_DIR}"),
        None => "CloudWatch".to_string(),
    };
    let mut out = format!("{}: {} to {}, from {source}\n", r.stage, r.start, r.end);
    if let Some(e) = &r.error {
        out.push_str(&format!("  cannot read: {e}\n"));
        return out;
    }
    let mut rows = vec![
        ["GROUP", "METRIC", "FUNCTION", "COUNT", "AVG MS", "MAX MS"]
            .map(String::from)
            .to_vec(),
    ];
    let dash = |v: Option<f64>| v.map_or_else(|| "-".to_string(), number);
    for m in &r.metrics {
        rows.push(vec![
            m.group.clone(),
            m.name.clone(),
            m.function.clone(),
            number(m.count),
            dash(m.average),
            dash(m.maximum),
        ]);
    }
    out.push_str(&table(&rows));
    out
}

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.replace_nanosecond(0).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
