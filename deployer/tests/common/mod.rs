//! Helpers shared by the integration tests: temporary repository roots and running the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the workspace folder).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// deployer/tests/fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// Copies a folder recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy file");
        }
    }
}

/// A temporary root with the fixture stages and outputs and the repository's templates.
pub fn fixture_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixtures().join("stages"), &dir.path().join("stages"));
    copy_dir(
        &repo_root().join("templates"),
        &dir.path().join("templates"),
    );
    std::fs::copy(
        fixtures().join("outputs.json"),
        dir.path().join("outputs.json"),
    )
    .expect("copy outputs");
    dir
}

/// A temporary copy of what `render` reads and writes in the real repository.
pub fn repo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = repo_root();
    for sub in ["stages", "templates", "generated"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    std::fs::create_dir_all(dir.path().join("infrastructure")).expect("mkdir");
    std::fs::copy(
        root.join("infrastructure/outputs.example.json"),
        dir.path().join("infrastructure/outputs.example.json"),
    )
    .expect("copy outputs");
    dir
}

/// Replaces `from` by `to` in a file, failing loudly if `from` is not there.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

/// Runs the deployer binary with `--root root` and no outputs override from the environment.
pub fn run(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deployer"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("DEPLOYER_OUTPUTS_FILE")
        .env_remove("DEPLOYER_ROOT")
        .output()
        .expect("run deployer")
}

/// stdout and stderr as text.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
