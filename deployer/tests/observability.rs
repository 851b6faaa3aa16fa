//! The dashboard and the alarms, as rendered for every stage, against the
//! one list of metric names (app/metrics.json): the code emits exactly the
//! listed names, the dashboard draws every one of them for its stage, the
//! alarms on the functions' metrics name only listed ones, and the
//! dashboard shows every alarm. The body is valid JSON and the stacks lint
//! clean. `status --metrics` on a cloud stage reads CloudWatch (moto).

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

fn listed() -> BTreeSet<String> {
    deployer::metrics::list::list()
        .metrics
        .iter()
        .map(|m| m.name.clone())
        .collect()
}

/// The metric's dimension pairs on `stage`: `Stage` (and `Function` for an emitted one).
fn dimensions_of(stage: &str, name: &str) -> Vec<(String, String)> {
    let def = deployer::metrics::list::list()
        .metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} is not a listed metric"));
    def.dimensions()
        .iter()
        .map(|d| {
            let value = if d == "Stage" {
                stage.to_string()
            } else {
                def.function.clone()
            };
            (d.clone(), value)
        })
        .collect()
}

fn is_log_filter(name: &str) -> bool {
    deployer::metrics::list::list()
        .metrics
        .iter()
        .any(|m| m.name == name && m.is_log_filter())
}

fn function_of(name: &str) -> String {
    deployer::metrics::list::list()
        .metrics
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.function.clone())
        .unwrap_or_default()
}

/// The stack's resources of one type: logical id and properties.
fn resources<'a>(stack: &'a yaml_serde::Value, kind: &str) -> Vec<(String, &'a yaml_serde::Value)> {
    stack["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap().to_string(), &r["Properties"]))
        .collect()
}

/// The dashboard body with CloudFormation's `!Sub` done (plausible values), parsed.
fn dashboard_body(stack: &yaml_serde::Value) -> Value {
    let dashboards = resources(stack, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1, "one dashboard per stage");
    let yaml_serde::Value::Tagged(tagged) = &dashboards[0].1["DashboardBody"] else {
        panic!("DashboardBody is a !Sub string");
    };
    assert_eq!(tagged.tag.to_string(), "!Sub");
    let mut text = tagged.value.as_str().expect("a string").to_string();
    for (name, value) in [
        ("AWS::Region", "eu-west-1"),
        ("AWS::Partition", "aws"),
        ("AWS::AccountId", "111111111111"),
        ("HttpApi", "a1b2c3d4e5"),
    ] {
        text = text.replace(&format!("${{{name}}}"), value);
    }
    assert!(
        !text.contains("${"),
        "every substitution names something in the stack: {text}"
    );
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the dashboard body is not JSON ({e}):\n{text}"))
}

fn check_stack(stage: &str, path: &Path) {
    let stack: yaml_serde::Value =
        yaml_serde::from_str(&std::fs::read_to_string(path).expect("stack.yaml"))
            .expect("stack.yaml is YAML");
    let body = dashboard_body(&stack);
    let widgets = body["widgets"].as_array().expect("widgets");
    let mut drawn = BTreeSet::new();
    for w in widgets {
        assert!(
            matches!(w["type"].as_str(), Some("metric" | "alarm")),
            "{w}"
        );
        let (x, width) = (w["x"].as_u64().unwrap(), w["width"].as_u64().unwrap());
        assert!(x + width <= 24 && w["height"].as_u64().unwrap() > 0, "{w}");
        for line in w["properties"]["metrics"].as_array().into_iter().flatten() {
            let parts = line.as_array().expect("a metric line is an array");
            let strings: Vec<&str> = parts.iter().filter_map(Value::as_str).collect();
            // namespace, name, then dimension name/value pairs; an options object may end it.
            assert!(
                strings.len() >= 4 && strings.len().is_multiple_of(2),
                "{line}"
            );
            assert!(
                parts.len() == strings.len()
                    || (parts.len() == strings.len() + 1 && parts.last().unwrap().is_object()),
                "{line}"
            );
            assert!(w["properties"]["region"] == "eu-west-1", "{w}");
            if strings[0] == "Countries" {
                let pairs: Vec<(String, String)> = strings[2..]
                    .chunks(2)
                    .map(|p| (p[0].to_string(), p[1].to_string()))
                    .collect();
                assert_eq!(pairs, dimensions_of(stage, strings[1]), "{stage}: {line}");
                drawn.insert(strings[1].to_string());
            }
        }
    }
    assert_eq!(
        drawn,
        listed(),
        "{stage}: the dashboard draws exactly the listed metrics"
    );

    // Alarms on the functions' metrics name listed metrics of their stage.
    let alarms = resources(&stack, "AWS::CloudWatch::Alarm");
    let mut on_list = 0;
    for (id, p) in &alarms {
        assert!(
            p["AlarmDescription"]
                .as_str()
                .is_some_and(|d| d.len() > 80 && d.len() <= 1024),
            "{stage} {id}: a description that says what to do"
        );
        if p["Namespace"].as_str() == Some("Countries") {
            let name = p["MetricName"].as_str().unwrap();
            assert!(
                listed().contains(name),
                "{stage} {id}: {name} is not a listed metric"
            );
            let dims: Vec<(String, String)> = p["Dimensions"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["Name"].as_str().unwrap().to_string(),
                        d["Value"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            // Stage and Function on an emitted metric; Stage only on a log-filter one.
            assert_eq!(dims, dimensions_of(stage, name), "{stage} {id}");
            on_list += 1;
        }
    }
    assert!(
        on_list >= 1,
        "{stage}: the breaker alarm watches a listed metric"
    );
    // Metric filters make only listed log-filter metrics, with the Stage dimension only.
    for (id, p) in resources(&stack, "AWS::Logs::MetricFilter") {
        for t in p["MetricTransformations"].as_sequence().unwrap() {
            let name = t["MetricName"].as_str().unwrap();
            assert_eq!(
                t["MetricNamespace"].as_str(),
                Some("Countries"),
                "{stage} {id}"
            );
            assert!(
                is_log_filter(name),
                "{stage} {id}: {name} is not a listed log-filter metric"
            );
            let keys: Vec<&str> = t["Dimensions"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|d| d["Key"].as_str().unwrap())
                .collect();
            assert_eq!(keys, ["Stage"], "{stage} {id}");
        }
    }
    // The dashboard shows every alarm of the stack.
    let shown: BTreeSet<String> = widgets
        .iter()
        .flat_map(|w| {
            w["properties"]["alarms"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|a| a.as_str().unwrap().rsplit(':').next().unwrap().to_string())
        .collect();
    let all: BTreeSet<String> = alarms
        .iter()
        .map(|(_, p)| p["AlarmName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(shown, all, "{stage}: the alarm widget lists every alarm");
}

#[test]
fn the_code_the_dashboard_and_the_alarms_use_one_list_of_names() {
    // The code's names (the app crate's list) are the file the deployer renders from.
    let code: BTreeSet<String> = countries::metrics::Metric::ALL
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    assert_eq!(
        code,
        listed(),
        "app/metrics.json is stale: UPDATE_METRICS=1 cargo test -p countries --lib metrics"
    );
    for stage in ["dev", "staging", "prod", "local"] {
        check_stack(
            stage,
            &common::repo_root()
                .join("generated")
                .join(stage)
                .join("stack.yaml"),
        );
    }
    for stage in ["qa", "sandbox"] {
        check_stack(
            stage,
            &common::fixtures()
                .join("golden")
                .join(stage)
                .join("stack.yaml"),
        );
    }
}

#[test]
fn tracing_is_on_where_the_stage_says_so_with_its_permissions() {
    for (stage, on) in [
        ("dev", true),
        ("staging", true),
        ("prod", true),
        ("local", false),
    ] {
        let text = std::fs::read_to_string(
            common::repo_root()
                .join("generated")
                .join(stage)
                .join("stack.yaml"),
        )
        .unwrap();
        let stack: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
        for (function, role) in [("ApiFunction", "ApiRole"), ("WorkerFunction", "WorkerRole")] {
            let mode = stack["Resources"][function]["Properties"]["TracingConfig"]["Mode"].as_str();
            assert_eq!(mode, on.then_some("Active"), "{stage} {function}");
            let statements = stack["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].as_sequence().unwrap();
            let traces = statements
                .iter()
                .find(|s| s["Sid"].as_str() == Some("WriteTraces"));
            assert_eq!(traces.is_some(), on, "{stage} {role}");
            if let Some(s) = traces {
                let actions: Vec<&str> = s["Action"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap())
                    .collect();
                assert_eq!(
                    actions,
                    ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
                );
            }
        }
    }
}

/// cfn-lint and checkov pass on every stage's stack (dashboard and alarms included).
#[test]
fn the_stacks_lint_clean() {
    // Installs cfn-lint and checkov into .countries/venv-lint on first use, or
    // fails saying how to install them: never skips.
    let checkov = testkit::python_tool("venv-lint", "tools/requirements-lint.txt", "checkov");
    let venv = checkov
        .parent()
        .and_then(|bin| bin.parent())
        .expect("venv/bin/checkov");
    let root = common::repo_copy();
    std::fs::create_dir_all(root.path().join(".countries")).unwrap();
    std::os::unix::fs::symlink(venv, root.path().join(".countries/venv-lint")).unwrap();
    let out = common::run(root.path(), &["validate", "--all"]);
    let (stdout, stderr) = common::ok(&out, "deployer validate --all");
    assert!(
        stdout.contains("cfn-lint: ok") && stdout.contains("checkov: ok"),
        "{stdout}\n{stderr}"
    );
}

/// `status <cloud stage> --metrics` reads CloudWatch: the data points put for
/// the stage come back as its counts and durations; another stage's do not.
#[test]
fn status_metrics_reads_the_stage_from_cloudwatch() {
    let moto = testkit::moto();
    let root = common::fixture_root();
    // Put through the deployer's own signed client (the SDK's CloudWatch crate is not built).
    let put = |stage: &str, name: &str, unit: &str, values: &[f64]| {
        use deployer::aws::json::{CLOUDWATCH, JsonClient, Request};
        // A minute ago: the window ends now, and CloudWatch (and moto) cut it to the second.
        let minute_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 60;
        let body = serde_json::json!({
            "Namespace": "Countries",
            "MetricData": [{
                "MetricName": name,
                "Unit": unit,
                "Dimensions": [{"Name": "Stage", "Value": stage}, {"Name": "Function", "Value": function_of(name)}],
                "Timestamp": minute_ago,
                "Values": values,
            }],
        });
        common::runtime().block_on(async {
            let config = common::sdk(&moto.endpoint).await;
            JsonClient::new(&CLOUDWATCH, &config)
                .call::<serde_json::Value>(Request::Operation { name: "PutMetricData", body })
                .await
                .expect("PutMetricData");
        });
    };
    // qa is a fixture cloud stage (eu-west-1); the data goes to us-east-1 and --region reads it there.
    put("qa", "FetchStored", "Count", &[2.0]);
    put("qa", "FetchStored", "Count", &[1.0]);
    put("qa", "FetchCircuitOpen", "Count", &[4.0]);
    put("qa", "UpstreamLatency", "Milliseconds", &[10.0, 20.0, 60.0]);
    put("other", "FetchStored", "Count", &[100.0]);

    let out = common::emulator_command(
        root.path(),
        &[
            "--region",
            "us-east-1",
            "status",
            "qa",
            "--metrics",
            "--json",
            "--since",
            "10m",
        ],
    )
    .output()
    .expect("status --metrics");
    let (stdout, stderr) = common::ok(&out, "status qa --metrics");
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    let report = &doc["metrics"][0];
    assert_eq!(
        (report["stage"].as_str(), report["source"].as_str()),
        (Some("qa"), Some("cloudwatch")),
        "{stderr}"
    );
    let row = |name: &str| {
        report["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(row("FetchStored")["count"], 3.0);
    assert_eq!(row("FetchCircuitOpen")["count"], 4.0);
    assert_eq!(row("FetchNotFound")["count"], 0.0);
    let latency = row("UpstreamLatency");
    assert_eq!(
        (
            latency["count"].as_f64(),
            latency["average"].as_f64(),
            latency["maximum"].as_f64()
        ),
        (Some(3.0), Some(30.0), Some(60.0))
    );
    assert_eq!(report["metrics"].as_array().unwrap().len(), listed().len());

    // Unreachable CloudWatch: the row says why, exit 1 with the AWS hint.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deployer"))
        .args([
            "--root",
            root.path().to_str().unwrap(),
            "--endpoint-url",
            "http://127.0.0.1:9",
            "status",
            "qa",
            "--metrics",
        ])
        .envs(testkit::aws_env("http://127.0.0.1:9"))
        .env_remove("DEPLOYER_OUTPUTS_FILE")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("status --metrics");
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("qa: ") && stdout.contains("cannot read:"),
        "{stdout}"
    );
    assert!(
        stderr.contains("error: ") && stderr.contains("hint: "),
        "{stderr}"
    );
}

/// The local stage without log files says how to get them (exit 2), and a bad --since is a usage error.
#[test]
fn status_metrics_on_a_local_stage_without_logs_says_what_to_do() {
    let root = common::fixture_root();
    let out = common::run(root.path(), &["status", "sandbox", "--metrics"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no local logs in") && stderr.contains("deployer up local"),
        "{stderr}"
    );
    let out = common::run(
        root.path(),
        &["status", "sandbox", "--metrics", "--since", "soon"],
    );
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--since"), "{stderr}");
    let out = common::run(root.path(), &["status", "sandbox", "--since", "1h"]);
    assert_eq!(out.status.code(), Some(2), "--since needs --metrics");
}
