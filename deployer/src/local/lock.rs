//! `.countries/local/up.lock`: one `deployer up local` at a time. The file is
//! locked (`flock`, through `File::try_lock`) while its owner runs and holds
//! the owner's pid; a file nobody locks is stale and taken over.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, FsError, LocalError, Result};

/// The lock file, relative to the repository root.
pub const LOCK_FILE: &str = ".countries/local/up.lock";

/// A held lock: the file, locked with `flock` (`File::try_lock`) for as long as
/// it is open. The kernel releases it when the process dies, however it dies,
/// so a lock file that is not locked is always stale. Dropping it removes the
/// file (while still holding it) and then unlocks.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    _file: File,
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
    let write_error = |source: std::io::Error| {
        Error::from(FsError::Write {
            path: path.clone(),
            source,
        })
    };
    for _ in 0..3 {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(write_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(LocalError::LocalAlreadyRunning {
                    pid: parse_pid(&text).unwrap_or(0),
                    lock: PathBuf::from(LOCK_FILE),
                }
                .into());
            }
            Err(TryLockError::Error(source)) => return Err(write_error(source)),
        }
        // The previous holder may have removed the file between our open and our lock:
        // then we locked a file nobody else can see; open the one at the path again.
        let same = match (std::fs::metadata(&path), file.metadata()) {
            (Ok(at_path), Ok(ours)) => at_path.ino() == ours.ino() && at_path.dev() == ours.dev(),
            (Err(_), _) | (_, Err(_)) => false,
        };
        if !same {
            continue;
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(write_error)?;
        // Content in a file nobody holds: its writer died without cleaning up.
        let taken = if text.trim().is_empty() {
            Taken::Fresh
        } else {
            Taken::Stale(parse_pid(&text).unwrap_or(0))
        };
        file.set_len(0).map_err(write_error)?;
        file.seek(SeekFrom::Start(0)).map_err(write_error)?;
        writeln!(file, "{}", std::process::id()).map_err(write_error)?;
        return Ok((Lock { path, _file: file }, taken));
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

/// The pid holding the lock, if a running `up local` holds it.
pub fn holder(root: &Path) -> Option<u32> {
    let path = root.join(LOCK_FILE);
    let file = File::open(&path).ok()?;
    match file.try_lock_shared() {
        // Nobody holds it (our shared lock goes with `file`).
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => parse_pid(&std::fs::read_to_string(&path).ok()?),
        Err(TryLockError::Error(_)) => None,
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked, so no one takes a lock on a file about to vanish
        // unnoticed (`acquire` checks it locked the file at the path).
        let _ = std::fs::remove_file(&self.path);
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

    #[test]
    fn a_second_acquire_is_refused_while_the_first_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let (lock, _) = acquire(dir.path()).unwrap();
        let err = acquire(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Local(LocalError::LocalAlreadyRunning { pid, .. }) if pid == std::process::id()
            ),
            "{err}"
        );
        drop(lock);
        assert_eq!(holder(dir.path()), None);
        let (_again, taken) = acquire(dir.path()).unwrap();
        assert_eq!(taken, Taken::Fresh);
    }
}
