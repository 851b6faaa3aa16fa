//! The small text pieces every plan format shares: sizes, short digests, the
//! header and summary lines, aligned tables. Pure.

use super::{Plan, Step, Upload};

/// `1.2 MiB`, `830 KiB`, `12 B`.
pub fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.0} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// The first 12 hex digits of a digest, enough to tell artifacts apart.
pub fn short(digest: &str) -> &str {
    &digest[..digest.len().min(12)]
}

pub(super) fn upload_text(u: Upload) -> &'static str {
    match u {
        Upload::Upload => "upload",
        Upload::Present => "already in the bucket",
        Upload::Unneeded => "no upload (unchanged)",
    }
}

pub(super) fn header(plan: &Plan) -> String {
    format!(
        "plan for stage {}: stack {} in account {}, {}",
        plan.stage, plan.stack_name, plan.account, plan.region
    )
}

pub(super) fn no_changes_line(plan: &Plan) -> String {
    let digests: Vec<String> = plan
        .artifacts
        .iter()
        .map(|a| format!("{} {}", a.function, short(&a.digest)))
        .collect();
    format!(
        "no changes: the stack ({}) already runs {} with this template and settings",
        plan.stack_status.as_deref().unwrap_or("?"),
        digests.join(" and ")
    )
}

/// One line: counts of resource changes, parameter changes and uploads.
pub fn summary(plan: &Plan) -> String {
    let c = plan.counts();
    let mut s = format!(
        "{} to add, {} to modify, {} to remove",
        c.add, c.modify, c.remove
    );
    if c.replace > 0 {
        s.push_str(&format!(" ({} replaced)", c.replace));
    }
    let uploads = plan.uploads().count();
    s.push_str(&format!(
        "; {} parameter change(s); {uploads} zip(s) to upload",
        plan.parameters.len()
    ));
    s
}

/// Aligned columns, two spaces apart.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str("  ");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One line per step, as `plan` prints it before the change set.
pub fn step_line(step: &Step) -> String {
    match step {
        Step::EnsureBucket { bucket, region } => {
            format!("create bucket {bucket} in {region} (the local stage's artifact bucket)")
        }
        Step::RemoveStuckStack { stack, status } => format!(
            "delete stack {stack} ({status}: left half-made by an earlier failed deploy; local data only)"
        ),
    }
}

/// The steps before the change set, as text (nothing when there are none).
pub fn steps_text(steps: &[Step]) -> String {
    if steps.is_empty() {
        return String::new();
    }
    let mut out = "before the change set:\n".to_string();
    for step in steps {
        out.push_str(&format!("  {}\n", step_line(step)));
    }
    out
}

/// The steps before the change set, as a Markdown list (nothing when there are none).
pub fn steps_markdown(steps: &[Step]) -> String {
    if steps.is_empty() {
        return String::new();
    }
    let mut out = "**Before the change set**\n\n".to_string();
    for step in steps {
        out.push_str(&format!("- {}\n", step_line(step)));
    }
    out.push('\n');
    out
}
