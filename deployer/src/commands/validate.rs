//! `deployer validate [<stage>|--all]`: cfn-lint and checkov on the rendered stacks.
//!
//! The linters are Python tools pinned in tools/requirements-lint.txt and
//! installed in the project-local venv `.countries/venv-lint` (checkov pins an
//! old boto3, so it must not share moto's venv).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::json;

use crate::cli::{GlobalArgs, StageSelection};
use crate::error::{Error, RenderError, Result};
use crate::render::GENERATED_DIR;
use crate::stage;

/// The lint venv, relative to the repository root.
pub const LINT_VENV: &str = ".countries/venv-lint";

/// One linter invocation.
struct Tool {
    name: &'static str,
    args: &'static [&'static str],
    per_file_flag: Option<&'static str>,
    env: &'static [(&'static str, &'static str)],
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "cfn-lint",
        args: &[],
        per_file_flag: None,
        env: &[],
    },
    Tool {
        name: "checkov",
        // Offline: no policy download, no Bridgecrew mapping, CloudFormation only.
        args: &[
            "--skip-download",
            "--framework",
            "cloudformation",
            "--quiet",
            "--compact",
        ],
        per_file_flag: Some("-f"),
        env: &[("BC_SKIP_MAPPING", "TRUE")],
    },
];

/// Lints the selected stages' stacks; fails if any linter reports a problem.
pub fn run(root: &Path, global: &GlobalArgs, args: &StageSelection) -> Result<()> {
    let stages = stage::load_all(root)?;
    let selected = stage::select(&stages, args.stage.as_deref())?;
    let mut files = Vec::new();
    for s in &selected {
        let file = PathBuf::from(GENERATED_DIR)
            .join(&s.name)
            .join("stack.yaml");
        if !root.join(&file).is_file() {
            return Err(RenderError::NotRendered {
                stage: s.name.clone(),
                path: file,
            }
            .into());
        }
        files.push(file);
    }
    let bin = root.join(LINT_VENV).join("bin");
    for tool in TOOLS {
        let path = bin.join(tool.name);
        if !path.is_file() {
            return Err(RenderError::LintToolMissing {
                tool: tool.name.into(),
                path: PathBuf::from(LINT_VENV).join("bin").join(tool.name),
            }
            .into());
        }
    }

    let mut failed = Vec::new();
    let mut results = Vec::new();
    for tool in TOOLS {
        let mut cmd = Command::new(bin.join(tool.name));
        cmd.current_dir(root)
            .args(tool.args)
            .envs(tool.env.iter().copied());
        for file in &files {
            if let Some(flag) = tool.per_file_flag {
                cmd.arg(flag);
            }
            cmd.arg(file);
        }
        if !global.json {
            println!(
                "== {} {}",
                tool.name,
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        let (ok, output) = if global.json {
            let out = cmd.stdin(Stdio::null()).output().map_err(|source| {
                Error::from(RenderError::LintToolFailedToStart {
                    tool: tool.name.into(),
                    source,
                })
            })?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            (out.status.success(), text)
        } else {
            let status = cmd.stdin(Stdio::null()).status().map_err(|source| {
                Error::from(RenderError::LintToolFailedToStart {
                    tool: tool.name.into(),
                    source,
                })
            })?;
            (status.success(), String::new())
        };
        if !global.json {
            println!("{}: {}", tool.name, if ok { "ok" } else { "FAILED" });
        }
        if !ok {
            failed.push(tool.name);
        }
        results.push(json!({"tool": tool.name, "ok": ok, "output": output}));
    }
    if global.json {
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        println!(
            "{:#}",
            json!({"command": "validate", "ok": failed.is_empty(), "files": files, "tools": results})
        );
    }
    match failed.first() {
        None => Ok(()),
        Some(_) => Err(RenderError::LintFailed {
            tool: failed.join(" and "),
            files: files.iter().map(|f| f.display().to_string()).collect(),
        }
        .into()),
    }
}
