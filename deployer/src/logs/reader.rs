//! The local stage's logs: `.countries/local/logs/{api,worker}.log`, written by
//! `deployer up local` (one file per process, appended across runs).

use std::path::{Path, PathBuf};

use super::format::line_timestamp_ms;
use super::{Function, LogEvent};
use crate::error::{FsError, LogsError, Result};

/// The local log file of a function under `logs_dir`.
pub fn log_file(logs_dir: &Path, function: Function) -> PathBuf {
    logs_dir.join(format!("{}.log", function.as_str()))
}

/// Turns one file's text into events. Lines without their own timestamp (the
/// supervisor's `--- started ... ---` separators) take the previous line's time,
/// so they stay in place when files are merged.
pub fn parse(function: Function, text: &str) -> Vec<LogEvent> {
    let mut last = 0;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let ts = line_timestamp_ms(line).unwrap_or(last);
            last = ts;
            LogEvent {
                function,
                timestamp_ms: ts,
                raw: line.to_string(),
            }
        })
        .collect()
}

/// Reads the selected functions' files from `offsets` (bytes already read; start
/// at 0) and returns their new events and the new offsets. A missing file of one
/// function is no error (it may not have started); all missing is.
pub fn read_new(
    logs_dir: &Path,
    functions: &[Function],
    offsets: &mut [u64],
) -> Result<Vec<LogEvent>> {
    let mut events = Vec::new();
    let mut found = false;
    for (i, function) in functions.iter().enumerate() {
        let path = log_file(logs_dir, *function);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(FsError::Read { path, source }.into()),
        };
        found = true;
        let start = if (offsets[i] as usize) <= bytes.len() {
            offsets[i] as usize
        } else {
            0 // the file was truncated: read it again
        };
        // Only whole lines; a half-written last line waits for the next read.
        let end = bytes[start..]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(start, |p| start + p + 1);
        events.extend(parse(
            *function,
            &String::from_utf8_lossy(&bytes[start..end]),
        ));
        offsets[i] = end as u64;
    }
    if !found {
        return Err(LogsError::NoLocalLogs {
            dir: logs_dir.to_path_buf(),
        }
        .into());
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_keep_the_previous_time() {
        let text =
            "{\"timestamp\":\"2026-11-28T04:39:18.158651Z\",\"message\":\"a\"}\n--- started ---\n";
        let ev = parse(Function::Api, text);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].timestamp_ms, ev[1].timestamp_ms);
    }

    #[test]
    fn reads_only_whole_new_lines() {
        let dir = std::env::temp_dir().join(format!("deployer-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("api.log"), "one\ntwo\nhal").unwrap();
        let mut offsets = [0u64, 0];
        let ev = read_new(&dir, &Function::ALL, &mut offsets).unwrap();
        assert_eq!(ev.len(), 2);
        std::fs::write(dir.join("api.log"), "one\ntwo\nhalf\n").unwrap();
        let ev = read_new(&dir, &Function::ALL, &mut offsets).unwrap();
        assert_eq!(
            ev.iter().map(|e| e.raw.as_str()).collect::<Vec<_>>(),
            ["half"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(read_new(&dir, &Function::ALL, &mut offsets).is_err());
    }
}
