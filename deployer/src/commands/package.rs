//! `deployer package [<stage>]`: builds zipped with a manifest, into target/lambda/
//! (cloud profile) or, for the local stage, target/lambda-local/ (release profile).

use std::path::Path;

use crate::cli::{GlobalArgs, PackageArgs};
use crate::error::{Error, PackageError, Result};
use crate::package::{self, build, manifest::MANIFEST_FILE};
use crate::plan::render::{human_size, table};
use crate::session;

/// Builds and packages for the stage's architecture (or this machine's).
pub fn run(root: &Path, global: &GlobalArgs, args: &PackageArgs) -> Result<()> {
    let (arch, profile) = match &args.stage {
        Some(name) => {
            let stage = session::one_stage(root, name)?;
            (
                stage.spec.app.architecture,
                build::Profile::for_stage(stage.spec.local.is_some()),
            )
        }
        None => (
            build::host_architecture().ok_or_else(|| {
                Error::from(PackageError::CrossToolMissing {
                    wanted: "a Lambda architecture".into(),
                    host: std::env::consts::ARCH.into(),
                    target: "x86_64-unknown-linux-gnu".into(),
                })
            })?,
            build::Profile::Cloud,
        ),
    };
    let package = package::build_and_package(root, arch, profile, &[], &session::say)?;
    let shown = package
        .dir
        .strip_prefix(root)
        .unwrap_or(&package.dir)
        .to_path_buf();
    if global.json {
        let mut value = serde_json::to_value(&package.manifest).unwrap_or_default();
        value["dir"] = shown.display().to_string().into();
        println!("{value:#}");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = package
        .manifest
        .functions
        .iter()
        .map(|(name, f)| {
            vec![
                name.clone(),
                format!("sha256 {}", f.digest),
                human_size(f.size),
                f.glibc.clone().unwrap_or_else(|| "static".into()),
                f.key.clone(),
            ]
        })
        .collect();
    print!("{}", table(&rows));
    println!(
        "{}: {} build, commit {}, newest glibc needed {} (Lambda provided.al2023 has 2.34)",
        shown.join(MANIFEST_FILE).display(),
        package.manifest.architecture,
        package.manifest.git_commit,
        package.manifest.glibc_max.as_deref().unwrap_or("none")
    );
    Ok(())
}
