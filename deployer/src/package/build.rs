//! How the Lambda binaries are built. Cloud stages get the `cloud` profile
//! (small: LTO, opt-level z), with plain `cargo build` for the host's
//! architecture, or `cargo zigbuild --target <triple>.2.34` when the stage's
//! architecture differs from the host's or when cargo-zigbuild is installed
//! (it pins glibc 2.34, what `provided.al2023` has). The local stage gets the
//! `release` profile (fast to compile) with `-p workspace-hack` selected, so it
//! reuses every dependency `cargo run --release -p deployer` compiled.
//! Choosing is pure (`choose`); `run` runs cargo.

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

/// Which cargo profile the functions are built with (Cargo.toml says why each exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `release`: fast to compile, every dependency shared with the deployer's
    /// own release build; for the local stage, which runs exactly what it zips.
    Local,
    /// `cloud`: small and deterministic, for the zips cloud stages run.
    Cloud,
}

impl Profile {
    /// The local profile for the local stage, the cloud one for every other.
    pub fn for_stage(local: bool) -> Self {
        if local {
            Profile::Local
        } else {
            Profile::Cloud
        }
    }

    /// The profile's name in Cargo.toml, which is also its folder under the target folder.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Local => "release",
            Profile::Cloud => "cloud",
        }
    }

    /// Where its package goes, relative to the target folder: the two never overwrite each other.
    pub fn package_subdir(self) -> &'static str {
        match self {
            Profile::Local => "lambda-local",
            Profile::Cloud => "lambda",
        }
    }
}

/// One build: which tool, which profile, which target, which binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildPlan {
    /// cargo or cargo-zigbuild.
    pub tool: Tool,
    /// The cargo profile.
    pub profile: Profile,
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

/// Picks the build for `wanted` on a `host` machine. Pure. A local build for
/// the host stays a plain host build even with cargo-zigbuild installed: a
/// `--target` build would compile every dependency again.
pub fn choose(
    host: Option<Architecture>,
    wanted: Architecture,
    zigbuild_installed: bool,
    profile: Profile,
    bins: &[&str],
) -> std::result::Result<BuildPlan, CrossToolMissing> {
    let bins = bins.iter().map(|b| b.to_string()).collect();
    let host_build = host == Some(wanted);
    if zigbuild_installed && !(host_build && profile == Profile::Local) {
        return Ok(BuildPlan {
            tool: Tool::Zigbuild,
            profile,
            target: Some(triple(wanted).to_string()),
            bins,
        });
    }
    if host_build {
        return Ok(BuildPlan {
            tool: Tool::Cargo,
            profile,
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
    /// The cargo arguments, e.g. `zigbuild --profile cloud -p countries --bin api --target x86_64-unknown-linux-gnu.2.34`.
    pub fn args(&self) -> Vec<String> {
        let tool = match self.tool {
            Tool::Cargo => "build",
            Tool::Zigbuild => "zigbuild",
        };
        let mut args: Vec<String> = match self.profile {
            // With workspace-hack selected, the dependencies resolve the features
            // the deployer's own build resolved: nothing compiles twice.
            Profile::Local => vec![tool, "--release", "-p", "countries", "-p", "workspace-hack"],
            Profile::Cloud => vec![tool, "--profile", "cloud", "-p", "countries"],
        }
        .into_iter()
        .map(String::from)
        .collect();
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
            Some(t) => target_dir.join(t).join(self.profile.name()),
            None => target_dir.join(self.profile.name()),
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
            Profile::Cloud,
            &["api", "worker"],
        )
        .unwrap();
        assert_eq!(
            plan.describe(),
            "cargo build --profile cloud -p countries --bin api --bin worker"
        );
        assert_eq!(plan.output_dir(Path::new("t")), Path::new("t/cloud"));
    }

    #[test]
    fn zigbuild_pins_glibc_when_present() {
        let plan = choose(
            Some(Architecture::X86_64),
            Architecture::X86_64,
            true,
            Profile::Cloud,
            &["api"],
        )
        .unwrap();
        assert_eq!(
            plan.describe(),
            "cargo zigbuild --profile cloud -p countries --bin api --target x86_64-unknown-linux-gnu.2.34"
        );
        assert_eq!(
            plan.output_dir(Path::new("t")),
            Path::new("t/x86_64-unknown-linux-gnu/cloud")
        );
    }

    /// The local stage builds what `cargo run --release -p deployer` built the
    /// dependencies for: the release profile, workspace-hack selected, no --target.
    #[test]
    fn local_builds_share_the_deployers_dependencies() {
        for zigbuild in [false, true] {
            let plan = choose(
                Some(Architecture::X86_64),
                Architecture::X86_64,
                zigbuild,
                Profile::Local,
                &["api", "worker", "offline-upstream"],
            )
            .unwrap();
            assert_eq!(
                plan.describe(),
                "cargo build --release -p countries -p workspace-hack --bin api --bin worker --bin offline-upstream"
            );
            assert_eq!(plan.output_dir(Path::new("t")), Path::new("t/release"));
        }
    }

    #[test]
    fn cross_build_needs_zigbuild() {
        let err = choose(
            Some(Architecture::X86_64),
            Architecture::Arm64,
            false,
            Profile::Cloud,
            &["api"],
        )
        .unwrap_err();
        assert_eq!(err.wanted, Architecture::Arm64);
        let plan = choose(
            Some(Architecture::X86_64),
            Architecture::Arm64,
            true,
            Profile::Cloud,
            &["api"],
        )
        .unwrap();
        assert!(
            plan.describe()
                .ends_with("--target aarch64-unknown-linux-gnu.2.34")
        );
    }
}
