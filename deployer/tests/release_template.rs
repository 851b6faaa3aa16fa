//! What the rendered stacks say about releases, per stage: each function's
//! version per code digest and settings, the `live` alias every trigger
//! targets, and the CodeDeploy traffic shift with its alarms only where the
//! stage file asks for one (generated/ and the golden fixture stages).

use crate::common;

use yaml_serde::Value;

fn stack(stage: &str) -> (String, Value) {
    let text = std::fs::read_to_string(
        common::repo_root()
            .join("generated")
            .join(stage)
            .join("stack.yaml"),
    )
    .expect("generated stack");
    let value = yaml_serde::from_str(&text).expect("stack.yaml is YAML");
    (text, value)
}

/// A value as the template wrote it: `!Ref X`, `!GetAtt X.Y`, or the plain scalar.
fn shown(v: &Value) -> String {
    match v {
        Value::Tagged(t) => format!("{} {}", t.tag, shown(&t.value)),
        Value::String(s) => s.clone(),
        other => yaml_serde::to_string(other)
            .expect("yaml")
            .trim()
            .to_string(),
    }
}

fn prop(stack: &Value, id: &str, path: &str) -> String {
    let mut v = &stack["Resources"][id];
    for key in path.split('.') {
        v = &v[key];
    }
    assert!(!v.is_null(), "{id}.{path} is missing");
    shown(v)
}

fn types(stack: &Value) -> Vec<String> {
    stack["Resources"]
        .as_mapping()
        .expect("resources")
        .values()
        .map(|r| shown(&r["Type"]))
        .collect()
}

#[test]
fn every_trigger_targets_the_live_alias_of_a_version_per_digest() {
    for stage in ["dev", "staging", "prod", "local"] {
        let (_, s) = stack(stage);
        for f in ["Api", "Worker"] {
            assert_eq!(
                prop(&s, &format!("{f}Version"), "Type"),
                "AWS::Lambda::Version"
            );
            assert_eq!(
                prop(&s, &format!("{f}Version"), "Properties.CodeSha256"),
                format!("!Ref {f}CodeSha256"),
                "{stage}: the version is published per code digest"
            );
            assert_eq!(
                prop(&s, &format!("{f}Version"), "Properties.FunctionName"),
                format!("!Ref {f}Function")
            );
            let alias = format!("{f}LiveAlias");
            assert_eq!(prop(&s, &alias, "Properties.Name"), "live");
            assert_eq!(
                prop(&s, &alias, "Properties.FunctionVersion"),
                format!("!GetAtt {f}Version.Version")
            );
            assert_eq!(
                shown(&s["Parameters"][format!("{f}CodeSha256").as_str()]["AllowedPattern"]),
                "^[A-Za-z0-9+/]{43}=$"
            );
        }
        assert_eq!(
            prop(&s, "HttpApiIntegration", "Properties.IntegrationUri"),
            "!Ref ApiLiveAlias",
            "{stage}"
        );
        assert_eq!(
            prop(&s, "ApiInvokePermission", "Properties.FunctionName"),
            "!Ref ApiLiveAlias",
            "{stage}"
        );
        assert_eq!(
            prop(&s, "WorkerQueueTrigger", "Properties.FunctionName"),
            "!Ref WorkerLiveAlias",
            "{stage}"
        );
        assert_eq!(prop(&s, "Api5xxAlarm", "Properties.MetricName"), "5xx");
        assert_eq!(
            prop(&s, "Api5xxAlarm", "Properties.AlarmName"),
            format!("countries-{stage}-api-5xx")
        );
    }
}

#[test]
fn codedeploy_shifts_the_api_only_where_the_stage_asks() {
    for (stage, config, monitoring) in [
        (
            "staging",
            Some("CodeDeployDefault.LambdaCanary10Percent5Minutes"),
            5,
        ),
        (
            "prod",
            Some("CodeDeployDefault.LambdaCanary10Percent5Minutes"),
            10,
        ),
        ("dev", None, 0),
        ("local", None, 0),
    ] {
        let (text, s) = stack(stage);
        let codedeploy = types(&s).iter().any(|t| t.starts_with("AWS::CodeDeploy::"));
        match config {
            Some(config) => {
                assert!(codedeploy, "{stage}");
                let group = "ApiDeploymentGroup";
                assert_eq!(prop(&s, group, "Properties.DeploymentConfigName"), config);
                assert_eq!(
                    prop(&s, group, "Properties.ServiceRoleArn"),
                    format!("arn:aws:iam::111111111111:role/countries-delivery-{stage}-codedeploy")
                );
                let alarms = &s["Resources"][group]["Properties"]["AlarmConfiguration"];
                assert_eq!(shown(&alarms["Enabled"]), "true");
                let names: Vec<String> = alarms["Alarms"]
                    .as_sequence()
                    .expect("alarms")
                    .iter()
                    .map(|a| shown(&a["Name"]))
                    .collect();
                assert_eq!(
                    names,
                    ["!Ref ApiErrorsAlarm", "!Ref Api5xxAlarm"],
                    "{stage}"
                );
                let events = &s["Resources"][group]["Properties"]["AutoRollbackConfiguration"];
                assert_eq!(shown(&events["Enabled"]), "true");
                let events: Vec<String> = events["Events"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .map(shown)
                    .collect();
                assert_eq!(events, ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]);
                let policy =
                    &s["Resources"]["ApiLiveAlias"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"];
                assert_eq!(
                    shown(&policy["ApplicationName"]),
                    "!Ref CodeDeployApplication"
                );
                assert_eq!(
                    shown(&policy["DeploymentGroupName"]),
                    "!Ref ApiDeploymentGroup"
                );
                assert!(
                    text.contains("api: canary 10 % for 5 min through CodeDeploy"),
                    "{stage}"
                );
            }
            None => {
                assert!(!codedeploy, "{stage} has CodeDeploy resources");
                assert!(
                    s["Resources"]["ApiLiveAlias"]["UpdatePolicy"].is_null(),
                    "{stage}"
                );
                assert!(
                    text.contains("api: all at once; worker: all at once."),
                    "{stage}"
                );
            }
        }
        // The worker never shifts through CodeDeploy.
        assert!(
            s["Resources"]["WorkerLiveAlias"]["UpdatePolicy"].is_null(),
            "{stage}"
        );
        // The monitoring window the deployer sets is written where a reviewer reads.
        let window = format!("or in the {monitoring} minutes after it");
        assert_eq!(text.contains(&window), monitoring > 0, "{stage}: {window}");
    }
    let (text, _) = stack("local");
    assert!(
        text.contains("the emulator (moto) has no CodeDeploy"),
        "{text}"
    );
}

#[test]
fn new_settings_publish_a_new_version_and_unchanged_ones_do_not() {
    let root = common::repo_copy();
    let description = |stage_root: &std::path::Path, id: &str| {
        let text = std::fs::read_to_string(stage_root.join("generated/dev/stack.yaml")).unwrap();
        let s: Value = yaml_serde::from_str(&text).unwrap();
        prop(&s, id, "Properties.Description")
    };
    let (api, worker) = (
        description(root.path(), "ApiVersion"),
        description(root.path(), "WorkerVersion"),
    );
    // Rendering again changes nothing.
    common::ok(&common::run(root.path(), &["render", "dev"]), "render");
    assert_eq!(description(root.path(), "ApiVersion"), api);
    common::edit(
        &root.path().join("stages/dev.yaml"),
        "log_level: debug",
        "log_level: info",
    );
    common::ok(&common::run(root.path(), &["render", "dev"]), "render");
    let api2 = description(root.path(), "ApiVersion");
    assert!(
        api.starts_with("settings ") && api2.starts_with("settings "),
        "{api}"
    );
    assert_ne!(api2, api, "a new LOG_LEVEL must publish a new api version");
    common::edit(
        &root.path().join("stages/dev.yaml"),
        "memory_mb: 256\n    timeout_seconds: 10",
        "memory_mb: 512\n    timeout_seconds: 10",
    );
    common::ok(&common::run(root.path(), &["render", "dev"]), "render");
    assert_ne!(description(root.path(), "ApiVersion"), api2);
    assert_ne!(
        description(root.path(), "WorkerVersion"),
        worker,
        "LOG_LEVEL is the worker's too"
    );
}
