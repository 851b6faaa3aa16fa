//! The commit a build comes from, for the manifest and the stack's tags.

use std::path::Path;
use std::process::Command;

/// `GIT_COMMIT` (CodeBuild: the source zip has no `.git`), else `git rev-parse HEAD`
/// plus `-dirty` when tracked files have changes, else `unknown`.
pub fn commit(root: &Path) -> String {
    if let Ok(commit) = std::env::var("GIT_COMMIT")
        && !commit.trim().is_empty()
    {
        return commit.trim().to_string();
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(head) if !head.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty { format!("{head}-dirty") } else { head }
        }
        _ => "unknown".to_string(),
    }
}
