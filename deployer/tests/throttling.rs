//! The public API's guards as each stage renders them: API Gateway
//! throttling from the stage file (default and fetch-data routes), and the
//! monthly upstream budget's metric filter and 80 % alarm; the rendered
//! stacks pass cfn-lint and checkov.

use crate::common;

use std::path::Path;

use deployer::stage::Stage;

const FETCH_DATA_ROUTE: &str = "ANY /fetch-data/{proxy+}";

fn stack(dir: &Path) -> yaml_serde::Value {
    let text = std::fs::read_to_string(dir.join("stack.yaml")).expect("stack.yaml");
    yaml_serde::from_str(&text).expect("stack.yaml is YAML")
}

fn number(v: &yaml_serde::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v:?}"))
}

/// The stack throttles as the stage file says, and the throttled route exists.
fn assert_throttled_as_configured(stage: &Stage, stack: &yaml_serde::Value) {
    let t = &stage.spec.app.throttling;
    let resources = &stack["Resources"];
    let api_stage = &resources["HttpApiDefaultStage"];
    let default = &api_stage["Properties"]["DefaultRouteSettings"];
    let fetch = &api_stage["Properties"]["RouteSettings"][FETCH_DATA_ROUTE];
    let got = [
        number(&default["ThrottlingRateLimit"]),
        number(&default["ThrottlingBurstLimit"]),
        number(&fetch["ThrottlingRateLimit"]),
        number(&fetch["ThrottlingBurstLimit"]),
    ];
    let want = [
        t.rate_limit,
        t.burst_limit,
        t.fetch_data_rate_limit,
        t.fetch_data_burst_limit,
    ]
    .map(u64::from);
    assert_eq!(got, want, "{}: throttling", stage.name);
    // Route settings name a route of the API, which exists before the stage refers to it.
    let route = &resources["HttpApiFetchDataRoute"]["Properties"];
    assert_eq!(
        route["RouteKey"].as_str(),
        Some(FETCH_DATA_ROUTE),
        "{}",
        stage.name
    );
    assert_eq!(
        api_stage["DependsOn"].as_str(),
        Some("HttpApiFetchDataRoute"),
        "{}",
        stage.name
    );
}

/// A limited budget gets the metric filter and an alarm at 80 %; an unlimited one neither.
fn assert_budget_alarm(stage: &Stage, stack: &yaml_serde::Value) {
    let budget = stage.spec.app.upstream.monthly_budget();
    let alarm = &stack["Resources"]["UpstreamBudgetAlarm"]["Properties"];
    let filter = &stack["Resources"]["UpstreamBudgetUsedMetricFilter"]["Properties"];
    if budget == 0 {
        assert!(
            alarm.is_null() && filter.is_null(),
            "{}: an unlimited budget has no alarm",
            stage.name
        );
        return;
    }
    // The first count at or above 80 % of the budget.
    let threshold = number(&alarm["Threshold"]);
    let budget = u64::from(budget);
    assert!(
        threshold * 5 >= budget * 4 && (threshold - 1) * 5 < budget * 4,
        "{}: {threshold} of {budget}",
        stage.name
    );
    assert_eq!(
        (alarm["Namespace"].as_str(), alarm["MetricName"].as_str()),
        (Some("Countries"), Some("UpstreamBudgetUsed"))
    );
    assert_eq!(
        alarm["Dimensions"][0]["Value"].as_str(),
        Some(stage.name.as_str())
    );
    let metric = &filter["MetricTransformations"][0];
    assert_eq!(
        (
            metric["MetricNamespace"].as_str(),
            metric["MetricName"].as_str()
        ),
        (Some("Countries"), Some("UpstreamBudgetUsed"))
    );
    assert_eq!(metric["MetricValue"].as_str(), Some("$.budget_used"));
    assert_eq!(metric["Dimensions"][0]["Key"].as_str(), Some("Stage"));
}

#[test]
fn each_stage_throttles_its_api_and_alarms_on_its_budget_as_its_stage_file_says() {
    // The committed stages, as generated/ holds them.
    let root = common::repo_root();
    for stage in deployer::stage::load_all(&root).expect("repository stages") {
        let rendered = stack(&root.join("generated").join(&stage.name));
        assert_throttled_as_configured(&stage, &rendered);
        assert_budget_alarm(&stage, &rendered);
    }
    // The fixtures: qa sets every limit, sandbox takes the defaults.
    let fixtures = common::fixture_root();
    let out = fixtures.path().join("out");
    let run = common::run(
        fixtures.path(),
        &["render", "--all", "--out", out.to_str().expect("utf-8")],
    );
    assert!(run.status.success(), "{:?}", common::texts(&run));
    let stages = deployer::stage::load_all(fixtures.path()).expect("fixture stages");
    let qa = stages.iter().find(|s| s.name == "qa").expect("qa");
    assert_eq!(
        qa.spec.app.throttling.fetch_data_rate_limit, 3,
        "the fixture sets its own limits"
    );
    for stage in &stages {
        let rendered = stack(&out.join(&stage.name));
        assert_throttled_as_configured(stage, &rendered);
        assert_budget_alarm(stage, &rendered);
    }
}

#[test]
fn the_guarded_stacks_pass_cfn_lint_and_checkov() {
    // Installs cfn-lint and checkov into .countries/venv-lint on first use, or
    // fails saying how to install them: never skips.
    let checkov = testkit::python_tool("venv-lint", "tools/requirements-lint.txt", "checkov");
    let venv = checkov
        .parent()
        .and_then(|bin| bin.parent())
        .expect("venv/bin/checkov");
    let root = common::fixture_root();
    assert!(
        common::run(root.path(), &["render", "--all"])
            .status
            .success()
    );
    std::fs::create_dir_all(root.path().join(".countries")).expect("mkdir");
    std::os::unix::fs::symlink(venv, root.path().join(".countries/venv-lint")).expect("symlink");
    let out = common::run(root.path(), &["validate", "--all"]);
    let (stdout, stderr) = common::texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("cfn-lint: ok") && stdout.contains("checkov: ok"),
        "{stdout}"
    );
}
