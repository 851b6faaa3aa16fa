//! Building and packaging the functions.

use std::path::PathBuf;

use super::help::{ExitClass, Help};

/// Building and packaging the functions. Each variant carries its message (`#[error]`); [`PackageError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A binary could not be read as a Linux ELF executable (or zipped).
    #[error("cannot package {path}: {problem}")]
    BinaryUnreadable { path: PathBuf, problem: String },

    /// A binary needs a glibc newer than Lambda's provided.al2023 has.
    #[error("{function} needs a newer glibc than Lambda's provided.al2023 (2.34) has: {}", needs.join("; "))]
    GlibcTooNew {
        function: String,
        needs: Vec<String>,
    },

    /// A binary is built for another architecture than the stage runs on.
    #[error("{} is built for {found}, but the stage runs on {wanted}", path.display())]
    WrongArchitecture {
        path: PathBuf,
        found: String,
        wanted: String,
    },

    /// `--artifacts DIR` is not a usable package folder.
    #[error("the package folder {dir} cannot be used: {problem}")]
    ArtifactsInvalid { dir: PathBuf, problem: String },

    /// A cross build is needed and cargo-zigbuild is not installed.
    #[error(
        "the stage runs on {wanted} but this machine is {host}, and a cross build needs cargo-zigbuild, which is not on PATH"
    )]
    CrossToolMissing {
        wanted: String,
        host: String,
        target: String,
    },

    /// rustup lacks the standard library of a target.
    #[error("the Rust target {target} is not installed")]
    RustTargetMissing { target: String },

    /// cargo failed.
    #[error("the build failed: `{command}`: {detail}")]
    BuildFailed { command: String, detail: String },
}

impl PackageError {
    /// The exit class and the hint: one arm per variant and no catch-all, so a
    /// new variant does not compile until it has both.
    pub fn help(&self) -> Help {
        match self {
            PackageError::BinaryUnreadable { .. } => Help::new(ExitClass::Failed, "package Linux binaries built by `cargo build --release -p countries` (or pass --artifacts with a package folder)".into()),
            PackageError::GlibcTooNew { .. } => Help::new(ExitClass::Failed, "install cargo-zigbuild (`pip install ziglang cargo-zigbuild`): the deployer then builds with `cargo zigbuild --target <arch>-unknown-linux-gnu.2.34`, which links against glibc 2.34".into()),
            PackageError::WrongArchitecture { .. } => Help::new(
                ExitClass::Failed,
                "build for the stage's architecture: `deployer package <stage>` picks the target (cargo-zigbuild for a cross build)".into(),
            ),
            PackageError::ArtifactsInvalid { .. } => Help::new(ExitClass::Usage, "pass the folder `deployer package <stage>` wrote (target/lambda), unchanged, built for the stage's architecture".into()),
            PackageError::CrossToolMissing { target, .. } => Help::new(ExitClass::Usage, { format!(
                "pip install ziglang cargo-zigbuild && rustup target add {target}  (or build on a {target} machine and give `up`/`plan` its package with --artifacts DIR)"
            ) }),
            PackageError::RustTargetMissing { target } => Help::new(ExitClass::Usage, format!("rustup target add {target}")),
            PackageError::BuildFailed { .. } => Help::new(ExitClass::Failed, "fix the build error above; `cargo build --release -p countries` shows it on its own".into()),
        }
    }
}
