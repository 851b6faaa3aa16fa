//! `.countries/local/up.lock`: one `deployer up local` at a time. The file
//! holds the owner's pid; a lock whose owner is gone is stale and taken over.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, FsError, LocalError, Result};

/// The lock file, relative to the repository root.
pub const LOCK_FILE: &str = ".countries/local/up.lock";

/// A held lock; dropping it removes the file.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

/// What was found when taking the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// No earlier run.
    Fresh,
    /// An earlier run died without releasing it (its pid).
    Stale(u32),
}

/// Takes the lock or says who holds it.
pub fn acquire(root: &Path) -> Result<(Lock, Taken)> {
    let path = root.join(LOCK_FILE);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| {
            Error::from(FsError::Write {
                path: dir.to_path_buf(),
                source,
            })
        })?;
    }
    let mut taken = Taken::Fresh;
    for _ in 0..3 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                writeln!(file, "{}", std::process::id()).map_err(|source| {
                    Error::from(FsError::Write {
                        path: path.clone(),
                        source,
                    })
                })?;
                return Ok((Lock { path }, taken));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                match parse_pid(&text) {
                    Some(pid) if pid != std::process::id() && alive(pid, "deployer") => {
                        return Err(LocalError::LocalAlreadyRunning {
                            pid,
                            lock: PathBuf::from(LOCK_FILE),
                        }
                        .into());
                    }
                    other => {
                        taken = Taken::Stale(other.unwrap_or(0));
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            Err(source) => return Err(FsError::Write { path, source }.into()),
        }
    }
    Err(FsError::Write {
        path,
        source: std::io::Error::other("the lock file keeps reappearing"),
    }
    .into())
}

/// The pid written in a lock file. Pure.
pub fn parse_pid(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

/// The pid holding the lock, if that process is alive.
pub fn holder(root: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(root.join(LOCK_FILE)).ok()?;
    parse_pid(&text).filter(|pid| alive(*pid, "deployer"))
}

/// True when `pid` is a live process whose command line mentions `program`
/// (so a recycled pid of something else does not count).
pub fn alive(pid: u32, program: &str) -> bool {
    let Ok(pid_t) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid_t, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => String::from_utf8_lossy(&cmdline).contains(program),
        Err(_) => true, // no /proc (macOS): trust kill
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| parse_pid(&t))
            == Some(std::process::id());
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_in_a_live_process_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let (lock, taken) = acquire(dir.path()).unwrap();
        assert_eq!(taken, Taken::Fresh);
        // Pretend another live deployer (this test process runs from a `deployer-*` binary) holds it.
        std::fs::write(
            dir.path().join(LOCK_FILE),
            format!("{}\n", std::process::id()),
        )
        .unwrap();
        assert_eq!(holder(dir.path()), Some(std::process::id()));
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
    }

    #[test]
    fn a_dead_owner_leaves_a_stale_lock() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".countries/local")).unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), "999999999\n").unwrap();
        let (_lock, taken) = acquire(dir.path()).unwrap();
        assert_eq!(taken, Taken::Stale(999_999_999));
    }
}
