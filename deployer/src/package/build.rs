//! How the Lambda binaries are built: plain `cargo build --release` for the
//! host's architecture, or `cargo zigbuild --target <triple>.2.34` when the
//! stage's architecture differs from the host's or when cargo-zigbuild is
//! installed (it pins glibc 2.34, what `provided.al2023` has). Choosing is
//! pure (`choose`); `run` runs cargo.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, PackageError, Result};
use crate::stage::schema::Architecture;

/// The glibc version cargo-zigbuild links against (Lambda's provided.al2023).
pub const GLIBC_SUFFIX: &str = "2.34";

/// The cargo subcommand that builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `cargo build` for the host.
    Cargo,
    /// `cargo zigbuild` (cross builds, glibc pinned).
    Zigbuild,
}

/// One build: which tool, which target, which binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildPlan {
    /// cargo or cargo-zigbuild.
    pub tool: Tool,
    /// The Rust target triple (without the glibc suffix); none for a host build.
    pub target: Option<String>,
    /// The binaries of the `countries` package to build.
    pub bins: Vec<String>,
}

/// What stops a build from being planned: a cross build without the tool for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossToolMissing {
    /// The stage's architecture.
    pub wanted: Architecture,
    /// This machine's.
    pub host: String,
}

/// The Rust target triple of a Lambda architecture.
pub fn triple(arch: Architecture) -> &'static str {
    match arch {
        Architecture::X86_64 => "x86_64-unknown-linux-gnu",
        Architecture::Arm64 => "aarch64-unknown-linux-gnu",
    }
}

/// The Lambda architecture of this machine, if it is one Lambda has.
pub fn host_architecture() -> Option<Architecture> {
    match std::env::consts::ARCH {
        "x86_64" => Some(Architecture::X86_64),
        "aarch64" => Some(Architecture::Arm64),
        _ => None,
    }
}

/// Picks the build for `wanted` on a `host` machine. Pure.
pub fn choose(
    host: Option<Architecture>,
    wanted: Architecture,
    zigbuild_installed: bool,
    bins: &[&str],
) -> std::result::Result<BuildPlan, CrossToolMissing> {
    let bins = bins.iter().map(|b| b.to_string()).collect();
    if zigbuild_installed {
        return Ok(BuildPlan {
            tool: Tool::Zigbuild,
            target: Some(triple(wanted).to_string()),
            bins,
        });
    }
    if host == Some(wanted) {
        return Ok(BuildPlan {
            tool: Tool::Cargo,
            target: None,
            bins,
        });
    }
    Err(CrossToolMissing {
        wanted,
        host: std::env::consts::ARCH.to_string(),
    })
}

impl BuildPlan {
    /// The cargo arguments, e.g. `zigbuild --release -p countries --bin api --target x86_64-unknown-linux-gnu.2.34`.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            match self.tool {
                Tool::Cargo => "build",
                Tool::Zigbuild => "zigbuild",
            }
            .to_string(),
            "--release".into(),
            "-p".into(),
            "countries".into(),
        ];
        for bin in &self.bins {
            args.push("--bin".into());
            args.push(bin.clone());
        }
        if let Some(target) = &self.target {
            args.push("--target".into());
            args.push(format!("{target}.{GLIBC_SUFFIX}"));
        }
        args
    }

    /// The command line as shown to people and recorded in the manifest.
    pub fn describe(&self) -> String {
        format!("cargo {}", self.args().join(" "))
    }

    /// Where cargo puts the binaries.
    pub fn output_dir(&self, target_dir: &Path) -> PathBuf {
        match &self.target {
            Some(t) => target_dir.join(t).join("release"),
            None => target_dir.join("release"),
        }
    }
}

/// cargo's target folder: `CARGO_TARGET_DIR`, else `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

/// True when `cargo-zigbuild` is on PATH.
pub fn zigbuild_installed() -> bool {
    on_path("cargo-zigbuild")
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let file = dir.join(program);
            file.is_file()
                && std::fs::metadata(&file)
                    .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
                    .unwrap_or(false)
        })
    })
}

/// Whether rustup has the standard library for `triple` (a cross build needs it).
fn rust_target_installed(triple: &str) -> bool {
    let Ok(out) = Command::new("rustc").args(["--print", "sysroot"]).output() else {
        return true; // let cargo report it
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(triple)
        .join("lib")
        .is_dir()
}

/// Runs the build in `root`, cargo's output going to stderr.
pub fn run(root: &Path, plan: &BuildPlan) -> Result<()> {
    if let Some(target) = &plan.target
        && !rust_target_installed(target)
    {
        return Err(PackageError::RustTargetMissing {
            target: target.clone(),
        }
        .into());
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(plan.args())
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| {
            Error::from(PackageError::BuildFailed {
                command: plan.describe(),
                detail: format!("cannot start cargo: {e}"),
            })
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(PackageError::BuildFailed {
            command: plan.describe(),
            detail: format!("it exited with {status}"),
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_build_without_zigbuild() {
        let plan = choose(
            Some(Architecture::X86_64),
            Architecture::X86_64,
            false,
            &["api", "worker"],
        )
        .unwrap();
        assert_eq!(
            plan.describe(),
            "cargo build --release -p countries --bin api --bin worker"
        );
        assert_eq!(plan.output_dir(Path::new("t")), Path::new("t/release"));
    }

    #[test]
    fn zigbuild_pins_glibc_when_present() {
        let plan = choose(
            Some(Architecture::X86_64),
            Architecture::X86_64,
            true,
            &["api"],
        )
        .unwrap();
        assert_eq!(
            plan.describe(),
            "cargo zigbuild --release -p countries --bin api --target x86_64-unknown-linux-gnu.2.34"
        );
        assert_eq!(
            plan.output_dir(Path::new("t")),
            Path::new("t/x86_64-unknown-linux-gnu/release")
        );
    }

    #[test]
    fn cross_build_needs_zigbuild() {
        let err = choose(
            Some(Architecture::X86_64),
            Architecture::Arm64,
            false,
            &["api"],
        )
        .unwrap_err();
        assert_eq!(err.wanted, Architecture::Arm64);
        let plan = choose(
            Some(Architecture::X86_64),
            Architecture::Arm64,
            true,
            &["api"],
        )
        .unwrap();
        assert!(
            plan.describe()
                .ends_with("--target aarch64-unknown-linux-gnu.2.34")
        );
    }
}
