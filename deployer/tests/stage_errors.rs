//! Each class of bad stage file fails with exit code 2 and a message naming
//! the file, line, column and field, and saying what is allowed.

use crate::common;

use std::path::Path;

/// Runs `render --all` on a fixture root after `mutate`, expecting a configuration error.
fn stderr_after(mutate: impl FnOnce(&Path)) -> String {
    let root = common::fixture_root();
    mutate(&root.path().join("stages"));
    let out = common::run(root.path(), &["render", "--all"]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit 2\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.contains("\nhint: "), "no hint line:\n{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    stderr
}

fn assert_has(stderr: &str, needles: &[&str]) {
    for needle in needles {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
}

#[test]
fn wrong_type() {
    let err =
        stderr_after(|s| common::edit(&s.join("qa.yaml"), "memory_mb: 1024", "memory_mb: lots"));
    assert_has(
        &err,
        &[
            "stages/qa.yaml:13:",
            "field `app.api.memory_mb`",
            "invalid type: string \"lots\", expected a whole number",
        ],
    );
}

#[test]
fn value_not_in_the_allowed_list() {
    let err = stderr_after(|s| {
        common::edit(
            &s.join("qa.yaml"),
            "architecture: x86_64",
            "architecture: amd64",
        )
    });
    assert_has(
        &err,
        &[
            "stages/qa.yaml:9:",
            "field `app.architecture`",
            "expected `x86_64` or `arm64`",
        ],
    );
}

#[test]
fn memory_out_of_range() {
    let err =
        stderr_after(|s| common::edit(&s.join("qa.yaml"), "memory_mb: 1024", "memory_mb: 20000"));
    assert_has(
        &err,
        &[
            "stages/qa.yaml:13:5: field `app.api.memory_mb`: 20000 MB is outside what Lambda allows: 128-10240",
        ],
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let err = stderr_after(|s| {
        common::edit(&s.join("qa.yaml"), "memory_mb: 1024", "memory_mb: 64");
        common::edit(
            &s.join("qa.yaml"),
            "timeout_seconds: 29",
            "timeout_seconds: 45",
        );
    });
    assert_has(
        &err,
        &[
            "stages/qa.yaml:13:5: field `app.api.memory_mb`",
            "stages/qa.yaml:14:5: field `app.api.timeout_seconds`: 45 s is not allowed: 1-30",
        ],
    );
}

#[test]
fn prod_without_approval() {
    let err = stderr_after(|s| {
        std::fs::copy(s.join("qa.yaml"), s.join("prod.yaml")).expect("copy");
        common::edit(&s.join("prod.yaml"), "approval: true", "approval: false");
    });
    assert_has(
        &err,
        &[
            "stages/prod.yaml:7:1: field `approval`: prod is promoted from `sandbox` and must set `approval: true`",
        ],
    );
}

#[test]
fn promote_from_cycle() {
    let err = stderr_after(|s| {
        common::edit(
            &s.join("sandbox.yaml"),
            "region: us-east-1\n",
            "region: us-east-1\npromote_from: qa\n",
        )
    });
    assert_has(
        &err,
        &[
            "stages/qa.yaml:6:1: field `promote_from`: promotion loops: qa <- sandbox <- qa",
            "stages/sandbox.yaml:4:1: field `promote_from`: promotion loops: sandbox <- qa <- sandbox",
        ],
    );
}

#[test]
fn unknown_promote_from() {
    let err = stderr_after(|s| {
        common::edit(
            &s.join("qa.yaml"),
            "promote_from: sandbox",
            "promote_from: stagign",
        )
    });
    assert_has(
        &err,
        &[
            "stages/qa.yaml:6:1: field `promote_from`: `stagign` is not a stage; allowed: one of sandbox",
        ],
    );
}

#[test]
fn v5_without_key_parameter() {
    let err = stderr_after(|s| {
        common::edit(
            &s.join("qa.yaml"),
            "    api_key_parameter: /countries/qa/restcountries-api-key\n",
            "",
        )
    });
    assert_has(
        &err,
        &[
            "stages/qa.yaml:",
            "field `app.upstream.api_key_parameter`: provider v5 needs `api_key_parameter`",
        ],
    );
}

#[test]
fn deploy_role_in_another_account() {
    let err = stderr_after(|s| {
        common::edit(
            &s.join("qa.yaml"),
            "region: eu-west-1\n",
            "region: eu-west-1\ndeploy_role_arn: arn:aws:iam::111111111111:role/countries-delivery-qa-deployer\n",
        )
    });
    assert_has(
        &err,
        &[
            "stages/qa.yaml:4:1: field `deploy_role_arn`",
            "is in account 111111111111, but the stage runs in account 210987654321",
        ],
    );
}

#[test]
fn missing_terraform_output_names_it_and_the_stage() {
    let root = common::fixture_root();
    common::edit(
        &root.path().join("outputs.json"),
        "\"pipeline_name\"",
        "\"pipeline\"",
    );
    let out = common::run(root.path(), &["render", "qa"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_has(
        &stderr,
        &["stage qa: Terraform output `pipeline_name` is missing from outputs.json"],
    );
}

#[test]
fn wrongly_typed_terraform_output_names_it() {
    let root = common::fixture_root();
    common::edit(
        &root.path().join("outputs.json"),
        "\"value\": \"qa-artifacts\"",
        "\"value\": [\"qa-artifacts\"]",
    );
    let out = common::run(root.path(), &["render", "qa"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_has(
        &stderr,
        &[
            "stage qa: Terraform output `artifact_bucket` in outputs.json must be a non-empty string, found a list",
        ],
    );
}
