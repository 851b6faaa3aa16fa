//! Readable diagnostics: a bad stage file and a template with an undefined
//! variable show the offending line, its number and a caret under the column,
//! with a hint, on stderr; `--json` gives the same on stdout.

use crate::common;

fn render_fails(root: &std::path::Path, extra: &[&str]) -> (String, String) {
    let mut args = vec!["render", "--all", "--out"];
    let out_dir = root.join("out");
    let out_dir = out_dir.to_str().expect("utf-8").to_string();
    args.push(&out_dir);
    args.extend_from_slice(extra);
    let out = common::run(root, &args);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

#[test]
fn bad_stage_file_shows_the_line_and_a_caret() {
    let root = common::fixture_root();
    common::edit(
        &root.path().join("stages/qa.yaml"),
        "  log_retention_days: 7",
        "  log_retention: 7",
    );
    let (_, stderr) = render_fails(root.path(), &[]);
    let expected = "  --> stages/qa.yaml:11:3\n   |\n11 |   log_retention: 7\n   |   ^^^^^^^^^^^^^ field `app.log_retention`\n   |\n   = hint: remove the key or rename it";
    assert!(
        stderr.contains(expected),
        "missing\n{expected}\nin:\n{stderr}"
    );
    assert!(
        stderr.starts_with("error: stages/qa.yaml:11:3: field `app.log_retention`"),
        "{stderr}"
    );
    assert!(stderr.contains("\nhint: "), "{stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "no colour off a terminal: {stderr}"
    );
}

#[test]
fn undefined_template_variable_shows_the_line_and_a_caret() {
    let root = common::fixture_root();
    std::fs::write(
        root.path().join("templates/extra.txt.hbs"),
        "stage: {{stage.name}}\nowner: {{stage.owner}}\n",
    )
    .expect("write template");
    let (_, stderr) = render_fails(root.path(), &[]);
    assert!(
        stderr.contains("error: template templates/extra.txt.hbs line 2"),
        "{stderr}"
    );
    let snippet = " --> templates/extra.txt.hbs:2:8\n  |\n2 | owner: {{stage.owner}}\n  |        ^^^^^^^^^^^^^^^ `stage.owner` is not defined\n";
    assert!(
        stderr.contains(snippet),
        "missing\n{snippet}\nin:\n{stderr}"
    );
    assert!(
        stderr.contains("= hint: use a field of render::context::Context"),
        "{stderr}"
    );

    let (stdout, _) = render_fails(root.path(), &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let d = &v["error"]["diagnostics"][0];
    assert_eq!(d["file"], "templates/extra.txt.hbs");
    assert_eq!(d["line"], 2);
    assert_eq!(d["column"], 8);
    assert_eq!(d["source_line"], "owner: {{stage.owner}}");
}
