//! `offline-upstream`'s small hand-written argument parsing: help wins
//! wherever it is on the command line.

use std::process::Command;

#[test]
fn help_before_other_flags_prints_usage() {
    for args in [&["--help", "--port", "1"][..], &["--port", "1", "-h"][..], &["--help"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_offline-upstream")).args(args).output().expect("run offline-upstream");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("usage: offline-upstream"), "{args:?}: {stdout}");
    }
}
