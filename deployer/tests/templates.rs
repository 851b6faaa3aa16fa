//! Strict templates: an undefined value fails, naming the template and line.

use crate::common;

fn render_error(template: &str) -> String {
    let root = common::fixture_root();
    std::fs::write(root.path().join("templates/broken.txt.hbs"), template).expect("write template");
    let out = common::run(root.path(), &["render", "qa"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("\nhint: "), "{stderr}");
    stderr
}

#[test]
fn undefined_variable_names_template_line_and_variable() {
    let err = render_error("stage: {{stage.name}}\nsize: {{app.api.memroy_mb}}\n");
    assert!(
        err.contains("error: template templates/broken.txt.hbs line 2, column 7: `app.api.memroy_mb` is not defined"),
        "{err}"
    );
}

#[test]
fn undefined_variable_in_a_condition_fails_too() {
    let err = render_error("a\nb\n{{#if stage.protect_dtaa}}x{{/if}}\n");
    assert!(
        err.contains("templates/broken.txt.hbs line 3") && err.contains("stage.protect_dtaa"),
        "{err}"
    );
}

#[test]
fn syntax_error_names_template_and_line() {
    let err = render_error("ok\n{{#each functions}}\n");
    assert!(
        err.contains("error: template templates/broken.txt.hbs line"),
        "{err}"
    );
}

#[test]
fn each_template_renders_to_its_own_file() {
    let root = common::fixture_root();
    std::fs::write(
        root.path().join("templates/extra.txt.hbs"),
        "{{upper stage.name}} {{join (json tags) \"\"}}\n",
    )
    .expect("write");
    // join needs an array: a wrong helper argument is a template error, not a panic.
    let out = common::run(root.path(), &["render", "qa"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(
        root.path().join("templates/extra.txt.hbs"),
        "{{upper stage.name}}\n",
    )
    .expect("write");
    let out = common::run(root.path(), &["render", "qa"]);
    assert!(out.status.success(), "{:?}", common::texts(&out));
    let text =
        std::fs::read_to_string(root.path().join("generated/qa/extra.txt")).expect("rendered");
    assert_eq!(text, "QA\n");
}
