//! `deployer render [<stage>|--all] [--check] [--out DIR]`.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cli::{GlobalArgs, RenderArgs};
use crate::error::{RenderError, Result};
use crate::render::{self, GENERATED_DIR, Templates};
use crate::{outputs, stage};

/// Renders (or checks) the selected stages.
pub fn run(root: &Path, global: &GlobalArgs, args: &RenderArgs) -> Result<()> {
    let stages = stage::load_all(root)?;
    let selected = stage::select(&stages, args.selection.stage.as_deref())?;
    let templates = Templates::load(root)?;
    let (out_dir, shown_dir) = match &args.out {
        Some(dir) => (dir.clone(), dir.clone()),
        None => (root.join(GENERATED_DIR), PathBuf::from(GENERATED_DIR)),
    };

    let mut stale = Vec::new();
    let mut reports = Vec::new();
    for stage in selected {
        let outputs = outputs::read(root, stage, global.outputs_file.as_deref())?;
        if global.verbose > 0 && !global.json {
            eprintln!("stage {}: outputs from {}", stage.name, outputs.source);
        }
        let files = render::render_stage(&templates, stage, &outputs)?;
        let dir = out_dir.join(&stage.name);
        let shown = shown_dir.join(&stage.name);
        let report = if args.check {
            render::check(&dir, &shown, &files)?
        } else {
            render::write(&dir, &files)?
        };
        if args.check {
            stale.extend(
                report
                    .changed
                    .iter()
                    .map(|f| shown.join(f).display().to_string()),
            );
            stale.extend(
                report
                    .extra
                    .iter()
                    .map(|f| format!("{} (no template makes it)", shown.join(f).display())),
            );
        }
        if !global.json {
            print_report(&shown, args.check, &report);
        }
        reports.push(json!({
            "stage": stage.name,
            "dir": shown.display().to_string(),
            "changed": report.changed,
            "extra": report.extra,
            "left_alone": report.foreign,
            "diff": report.diffs.concat(),
        }));
    }
    if args.check && args.selection.all {
        for orphan in render::orphan_folders(&out_dir, &stages)? {
            let shown = shown_dir.join(orphan.file_name().unwrap_or_default());
            if !global.json {
                println!(
                    "{}: no stage file makes this folder (remove it)",
                    shown.display()
                );
            }
            stale.push(format!("{} (no stage file)", shown.display()));
        }
    }
    if global.json {
        let summary = json!({"command": "render", "check": args.check, "ok": stale.is_empty(), "stages": reports});
        println!("{summary:#}");
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(RenderError::Stale { paths: stale }.into())
    }
}

fn print_report(shown: &Path, check: bool, report: &render::FolderReport) {
    let dir = shown.display();
    for diff in &report.diffs {
        print!("{diff}");
    }
    for extra in &report.extra {
        if check {
            println!("{dir}/{extra}: no template makes this file (remove it)");
        } else {
            println!("{dir}/{extra}: removed (no template makes it)");
        }
    }
    for foreign in &report.foreign {
        println!("{dir}/{foreign}: left alone (not made by `deployer render`)");
    }
    match (check, report.changed.is_empty()) {
        (_, true) if report.extra.is_empty() => println!("{dir}: up to date"),
        (true, _) if !report.changed.is_empty() => {
            println!("{dir}: stale: {}", report.changed.join(", "))
        }
        (false, false) => println!("{dir}: wrote {}", report.changed.join(", ")),
        _ => {}
    }
}
