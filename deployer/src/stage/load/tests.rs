//! Unit tests of reading stage files: positions, fields and messages.

use super::*;

fn diag(text: &str) -> Diagnostic {
    parse(Path::new("stages/x.yaml"), text).expect_err("should fail")
}

const GOOD_APP: &str = "app:
  architecture: arm64
  log_level: info
  api: {memory_mb: 128, timeout_seconds: 10}
  worker: {memory_mb: 128, timeout_seconds: 30}
  upstream: {provider: v3, base_url: 'http://127.0.0.1:8081'}
";

#[test]
fn duplicate_key_points_at_the_second_one() {
    let d = diag(&format!("account: '1'\nregion: r\nregion: s\n{GOOD_APP}"));
    assert_eq!(
        (d.line, d.column, d.field.as_str()),
        (3, 1, "region"),
        "{d}"
    );
    assert!(d.message.contains("duplicate field"), "{d}");
}

#[test]
fn a_tab_is_named() {
    let text = format!(
        "account: '1'\nregion: r\n{}",
        GOOD_APP.replace("  log_level", "\tlog_level")
    );
    let d = diag(&text);
    assert_eq!(d.line, 5, "{d}");
    assert!(d.message.contains("tab"), "{d}");
}

#[test]
fn rust_type_names_are_not_shown() {
    let text = format!(
        "account: '1'\nregion: r\n{}",
        GOOD_APP.replace("memory_mb: 128, timeout", "memory_mb: -1, timeout")
    );
    let d = diag(&text);
    assert!(d.message.contains("expected a whole number"), "{d}");
    assert!(!diag("- a\n").message.contains("StageFile"));
}

#[test]
fn a_folder_without_stage_files_and_misnamed_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_dir(dir.path(), Path::new("stages")).unwrap_err();
    assert!(
        matches!(err, Error::Stage(StageError::NoStages { .. })),
        "{err}"
    );
    std::fs::write(dir.path().join("qa.yml"), "account: '1'\n").unwrap();
    std::fs::create_dir(dir.path().join("odd.yaml")).unwrap();
    std::fs::write(dir.path().join("bin.yaml"), b"account: '1'\nregion: \xff\n").unwrap();
    let Error::Stage(StageError::InvalidStage { diagnostics }) =
        load_dir(dir.path(), Path::new("stages")).unwrap_err()
    else {
        panic!("expected stage diagnostics");
    };
    let shown: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert!(
        shown[0].starts_with("stages/bin.yaml:2:9: field `(file)`: not UTF-8"),
        "{shown:?}"
    );
    assert!(
        shown[1].contains("stages/odd.yaml:1:1") && shown[1].contains("folder"),
        "{shown:?}"
    );
    assert!(
        shown[2].contains("rename it to stages/qa.yaml"),
        "{shown:?}"
    );
}

#[test]
fn unknown_top_level_key() {
    let d = diag(&format!("account: '1'\nregion: r\nregoin: r\n{GOOD_APP}"));
    assert_eq!(
        (d.line, d.column, d.field.as_str()),
        (3, 1, "regoin"),
        "{d}"
    );
    assert!(d.message.contains("expected one of"), "{d}");
}

#[test]
fn unknown_nested_key() {
    let text = format!("account: '1'\nregion: r\n{GOOD_APP}  breaker:\n    treshold: 3\n");
    let d = diag(&text);
    assert_eq!(
        (d.line, d.field.as_str()),
        (10, "app.breaker.treshold"),
        "{d}"
    );
}

#[test]
fn wrong_type() {
    let text = format!(
        "account: '1'\nregion: r\n{}",
        GOOD_APP.replace("memory_mb: 128, timeout", "memory_mb: big, timeout")
    );
    let d = diag(&text);
    assert_eq!((d.line, d.field.as_str()), (6, "app.api.memory_mb"), "{d}");
    assert!(d.message.contains("invalid type"), "{d}");
}

#[test]
fn bad_enum_value_lists_the_allowed_ones() {
    let text = format!(
        "account: '1'\nregion: r\n{}",
        GOOD_APP.replace("arm64", "amd64")
    );
    let d = diag(&text);
    assert_eq!((d.line, d.field.as_str()), (4, "app.architecture"), "{d}");
    assert!(d.message.contains("`x86_64` or `arm64`"), "{d}");
}

#[test]
fn missing_required_key() {
    let d = diag(&format!("account: '1'\n{GOOD_APP}"));
    assert_eq!(d.field, "region", "{d}");
    assert!(d.message.contains("missing field"), "{d}");
}

#[test]
fn empty_file() {
    let d = diag("");
    assert!(d.message.contains("empty"), "{d}");
}
