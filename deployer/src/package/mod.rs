//! Packaging the Lambda functions: builds of `api` and `worker`,
//! each zipped deterministically as `bootstrap`, checked against Lambda's
//! glibc, with a manifest naming each zip's digest (DESIGN §3.4).
//!
//! The pure parts are `zip`, `elf`, `manifest` and `build::choose`; this
//! module reads and writes the package folder.

pub mod build;
pub mod elf;
pub mod git;
pub mod manifest;
pub mod zip;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, FsError, PackageError, Result};
use crate::stage::schema::Architecture;
use manifest::{FORMAT, FunctionArtifact, MANIFEST_FILE, Manifest};

/// The functions a stage deploys, each a binary of the `countries` package.
pub const FUNCTIONS: [&str; 2] = ["api", "worker"];

/// SHA-256 digests of the packaged functions, for the stack's parameters and tags and the
/// rendered context; defined here so `render` imports `package`, not the reverse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// Of the api zip.
    pub api: String,
    /// Of the worker zip.
    pub worker: String,
}

/// A package folder, read and checked: its manifest and the zips' bytes.
#[derive(Debug, Clone)]
pub struct Package {
    /// The folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Zip bytes by function name.
    pub zips: BTreeMap<String, Vec<u8>>,
    /// Where the binaries were built (none for a package read with `--artifacts`).
    pub binaries: Option<PathBuf>,
}

impl Package {
    /// The two digests, for the stack's parameters and tags.
    pub fn digests(&self) -> Digests {
        let d = |name: &str| {
            self.manifest
                .functions
                .get(name)
                .map(|f| f.digest.clone())
                .unwrap_or_default()
        };
        Digests {
            api: d("api"),
            worker: d("worker"),
        }
    }

    /// A function's artifact entry.
    pub fn function(&self, name: &str) -> Option<&FunctionArtifact> {
        self.manifest.functions.get(name)
    }
}

/// Zips already-built binaries from `binary_dir` into `out_dir`, checking each binary's architecture and glibc; writes the manifest.
pub fn package_binaries(
    binary_dir: &Path,
    out_dir: &Path,
    architecture: Architecture,
    build: &str,
    git_commit: &str,
) -> Result<Package> {
    std::fs::create_dir_all(out_dir).map_err(|source| {
        Error::from(FsError::Write {
            path: out_dir.to_path_buf(),
            source,
        })
    })?;
    // Each function is read, checked and zipped on a thread of its own: the
    // zips (deflate) take most of `up local`'s packaging time.
    let packaged: Vec<Result<Packaged>> = std::thread::scope(|scope| {
        let each: Vec<_> = FUNCTIONS
            .iter()
            .map(|name| scope.spawn(move || package_one(binary_dir, out_dir, name, architecture)))
            .collect();
        each.into_iter().map(|t| t.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    let mut functions = BTreeMap::new();
    let mut zips = BTreeMap::new();
    let mut newest: Option<(u32, u32, String)> = None;
    for (name, packaged) in FUNCTIONS.iter().zip(packaged) {
        let Packaged { artifact, bytes, glibc } = packaged?;
        if let Some(n) = glibc
            && newest.as_ref().is_none_or(|(a, b, _)| (*a, *b) < (n.0, n.1))
        {
            newest = Some(n);
        }
        functions.insert(name.to_string(), artifact);
        zips.insert(name.to_string(), bytes);
    }
    let manifest = Manifest {
        format: FORMAT,
        git_commit: git_commit.to_string(),
        architecture: architecture.as_str().to_string(),
        build: build.to_string(),
        glibc_max: newest.map(|(_, _, name)| name),
        functions,
    };
    write_whole(&out_dir.join(MANIFEST_FILE), manifest.to_json().as_bytes())?;
    Ok(Package {
        dir: out_dir.to_path_buf(),
        manifest,
        zips,
        binaries: Some(binary_dir.to_path_buf()),
    })
}

/// One function's zip, its manifest entry, and the newest glibc version it needs.
struct Packaged {
    artifact: FunctionArtifact,
    bytes: Vec<u8>,
    glibc: Option<(u32, u32, String)>,
}

/// Reads `name`'s binary, checks its architecture and glibc, and writes its zip.
fn package_one(binary_dir: &Path, out_dir: &Path, name: &str, architecture: Architecture) -> Result<Packaged> {
    let path = binary_dir.join(name);
    let binary = std::fs::read(&path).map_err(|source| {
        Error::from(FsError::Read {
            path: path.clone(),
            source,
        })
    })?;
    let info = elf::inspect(&binary).map_err(|problem| {
        Error::from(PackageError::BinaryUnreadable {
            path: path.clone(),
            problem,
        })
    })?;
    if info.architecture != architecture {
        return Err(PackageError::WrongArchitecture {
            path: path.clone(),
            found: info.architecture.as_str().to_string(),
            wanted: architecture.as_str().to_string(),
        }
        .into());
    }
    let needs = info.glibc;
    let too_new = elf::newer_than(&needs, elf::LAMBDA_GLIBC);
    if !too_new.is_empty() {
        return Err(PackageError::GlibcTooNew {
            function: name.to_string(),
            needs: too_new
                .iter()
                .map(|n| {
                    let symbols = if n.symbols.is_empty() {
                        "(no symbol named)".to_string()
                    } else {
                        n.symbols.join(", ")
                    };
                    format!("{} (symbols: {symbols})", n.name)
                })
                .collect(),
        }
        .into());
    }
    let glibc = elf::max_version(&needs).map(|n| (n.version.0, n.version.1, n.name.clone()));
    let bytes = zip::zip_bootstrap(&binary).map_err(|problem| {
        Error::from(PackageError::BinaryUnreadable {
            path: path.clone(),
            problem: format!("cannot zip it: {problem}"),
        })
    })?;
    let digest = zip::sha256_hex(&bytes);
    let file = format!("{name}.zip");
    let zip_path = out_dir.join(&file);
    write_whole(&zip_path, &bytes)?;
    let artifact = FunctionArtifact {
        file,
        key: zip::artifact_key(name, &digest),
        digest,
        size: bytes.len() as u64,
        glibc: glibc.as_ref().map(|(_, _, name)| name.clone()),
    };
    Ok(Packaged { artifact, bytes, glibc })
}

/// Writes a file whole or not at all (a temporary file beside it, then a rename):
/// an interrupted package, or two packaging the same folder at once (the test
/// command's and the pipeline simulation's), never leave a truncated zip.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".partial-{}", std::process::id()));
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|source| {
            let _ = std::fs::remove_file(&partial);
            Error::from(FsError::Write {
                path: path.to_path_buf(),
                source,
            })
        })
}

/// Reads a package folder (`--artifacts DIR`), checking every zip against its digest
/// and the architecture against the stage's.
pub fn load(dir: &Path, architecture: Architecture) -> Result<Package> {
    let invalid = |problem: String| {
        Error::from(PackageError::ArtifactsInvalid {
            dir: dir.to_path_buf(),
            problem,
        })
    };
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    let manifest = Manifest::parse(&text).map_err(|e| invalid(format!("{MANIFEST_FILE}: {e}")))?;
    if manifest.architecture != architecture.as_str() {
        return Err(invalid(format!(
            "the package is built for {} but the stage runs on {}",
            manifest.architecture,
            architecture.as_str()
        )));
    }
    let mut zips = BTreeMap::new();
    for name in FUNCTIONS {
        let entry = manifest
            .functions
            .get(name)
            .ok_or_else(|| invalid(format!("{MANIFEST_FILE} has no `{name}` function")))?;
        let file = dir.join(&entry.file);
        let bytes = std::fs::read(&file)
            .map_err(|e| invalid(format!("cannot read {}: {e}", file.display())))?;
        let digest = zip::sha256_hex(&bytes);
        if digest != entry.digest {
            return Err(invalid(format!(
                "{} has sha256 {digest}, but the manifest says {}",
                entry.file, entry.digest
            )));
        }
        if entry.key != zip::artifact_key(name, &digest) {
            return Err(invalid(format!(
                "the manifest's key for `{name}` is {}, expected {}",
                entry.key,
                zip::artifact_key(name, &digest)
            )));
        }
        zips.insert(name.to_string(), bytes);
    }
    Ok(Package {
        dir: dir.to_path_buf(),
        manifest,
        zips,
        binaries: None,
    })
}

/// Builds the functions for `architecture` with `profile` and packages them into
/// `<target>/lambda/` (cloud) or `<target>/lambda-local/` (local).
/// `extra_bins` are built alongside (the local stage also runs `offline-upstream`).
pub fn build_and_package(
    root: &Path,
    architecture: Architecture,
    profile: build::Profile,
    extra_bins: &[&str],
    say: &dyn Fn(&str),
) -> Result<Package> {
    let mut bins: Vec<&str> = FUNCTIONS.to_vec();
    bins.extend_from_slice(extra_bins);
    let plan = build::choose(
        build::host_architecture(),
        architecture,
        build::zigbuild_installed(),
        profile,
        &bins,
    )
    .map_err(|missing| {
        Error::from(PackageError::CrossToolMissing {
            wanted: missing.wanted.as_str().to_string(),
            host: missing.host,
            target: build::triple(missing.wanted).to_string(),
        })
    })?;
    say(&format!("building: {}", plan.describe()));
    build::run(root, &plan)?;
    let target_dir = build::target_dir(root);
    let commit = git::commit(root);
    package_binaries(
        &plan.output_dir(&target_dir),
        &target_dir.join(profile.package_subdir()),
        architecture,
        &plan.describe(),
        &commit,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary of this machine packaged for the other architecture is refused.
    #[test]
    fn a_binary_of_another_architecture_is_refused() {
        let host = build::host_architecture().expect("x86_64 or arm64 host");
        let other = match host {
            Architecture::X86_64 => Architecture::Arm64,
            Architecture::Arm64 => Architecture::X86_64,
        };
        let dir = std::env::temp_dir().join(format!("deployer-arch-{}", std::process::id()));
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        for name in FUNCTIONS {
            std::fs::write(bin.join(name), &me).unwrap();
        }
        let err = package_binaries(&bin, &dir.join("out"), other, "test", "c1").unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            matches!(err, Error::Package(PackageError::WrongArchitecture { .. })),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!(
                "is built for {}, but the stage runs on {}",
                host.as_str(),
                other.as_str()
            )),
            "{message}"
        );
        assert_eq!(err.exit_code(), 1);
    }
}
