//! `manifest.json`: what a package holds (per function: file, digest, size,
//! S3 key, glibc) and which commit it was built from. CodeBuild hands the
//! package folder between pipeline actions; `--artifacts DIR` reads it back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The manifest's file name inside a package folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The manifest format this deployer writes and reads.
pub const FORMAT: u32 = 1;

/// A package folder's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format version.
    pub format: u32,
    /// The commit the binaries were built from (`-dirty` when the tree had changes).
    pub git_commit: String,
    /// `x86_64` or `arm64`: the Lambda architecture the binaries run on.
    pub architecture: String,
    /// How they were built, e.g. `cargo zigbuild --target aarch64-unknown-linux-gnu.2.34`.
    pub build: String,
    /// The newest glibc any function needs, e.g. `GLIBC_2.34` (none for static binaries).
    pub glibc_max: Option<String>,
    /// By function name (`api`, `worker`).
    pub functions: BTreeMap<String, FunctionArtifact>,
}

/// One packaged function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionArtifact {
    /// The zip's file name in the package folder.
    pub file: String,
    /// SHA-256 of the zip, lower-case hex.
    pub digest: String,
    /// The zip's size in bytes.
    pub size: u64,
    /// Its key in the artifact bucket: `functions/<name>/<digest>.zip`.
    pub key: String,
    /// The newest glibc version this binary needs.
    pub glibc: Option<String>,
}

impl Manifest {
    /// The manifest as pretty JSON with a trailing newline (stable key order).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses a manifest; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let manifest: Manifest = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if manifest.format != FORMAT {
            return Err(format!(
                "manifest format {} is not the {FORMAT} this deployer reads",
                manifest.format
            ));
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut functions = BTreeMap::new();
        functions.insert(
            "api".to_string(),
            FunctionArtifact {
                file: "api.zip".into(),
                digest: "a".repeat(64),
                size: 3,
                key: format!("functions/api/{}.zip", "a".repeat(64)),
                glibc: Some("GLIBC_2.34".into()),
            },
        );
        let m = Manifest {
            format: FORMAT,
            git_commit: "abc".into(),
            architecture: "x86_64".into(),
            build: "cargo build --release".into(),
            glibc_max: Some("GLIBC_2.34".into()),
            functions,
        };
        assert_eq!(Manifest::parse(&m.to_json()).unwrap(), m);
        let other = m.to_json().replace("\"format\": 1", "\"format\": 9");
        assert!(Manifest::parse(&other).unwrap_err().contains("format 9"));
    }
}
