//! The environment contract checked against what the app reads.

use super::*;
use std::cell::RefCell;
use std::collections::BTreeSet;

fn var(name: &str, value: &str, r: Option<&str>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: value.into(),
        stack_ref: r.map(str::to_string),
    }
}

fn overrides(upstream: Option<&str>) -> LocalOverrides {
    LocalOverrides {
        endpoint: "http://127.0.0.1:4599".into(),
        region: "us-east-1".into(),
        api_port: 3001,
        upstream: upstream.map(str::to_string),
        api_key: None,
    }
}

#[test]
fn stack_references_resolve_to_physical_ids() {
    let vars = [
        var("STAGE", "local", None),
        var("QUEUE_URL", "derived", Some("FetchQueue")),
        var("UPSTREAM_BASE_URL", "http://127.0.0.1:8081", None),
    ];
    let resources: BTreeMap<String, String> =
        [("FetchQueue".to_string(), "http://q".to_string())].into();
    let env = process_env(
        &vars,
        &resources,
        &overrides(Some("http://127.0.0.1:9")),
        true,
    )
    .unwrap();
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("QUEUE_URL"), Some("http://q"));
    assert_eq!(get("UPSTREAM_BASE_URL"), Some("http://127.0.0.1:9"));
    assert_eq!(get("PORT"), Some("3001"));
    assert_eq!(get("AWS_ENDPOINT_URL"), Some("http://127.0.0.1:4599"));
    assert_eq!(get("AWS_ACCESS_KEY_ID"), Some("testing"));
}

#[test]
fn a_missing_resource_is_named() {
    let vars = [var("COUNTRIES_TABLE", "x", Some("CountriesTable"))];
    assert_eq!(
        process_env(&vars, &BTreeMap::new(), &overrides(None), false),
        Err("CountriesTable".to_string())
    );
}

use crate::stage::load::parse;
use std::path::PathBuf;

fn stage(text: &str, name: &str) -> Stage {
    let file = PathBuf::from(format!("stages/{name}.yaml"));
    Stage {
        name: name.into(),
        spec: parse(&file, text).expect("parses"),
        file,
        text: text.into(),
    }
}

const V5: &str = "account: '111111111111'
region: eu-west-1
terraform_outputs: {file: o.json}
app:
  architecture: arm64
  log_level: warn
  api: {memory_mb: 256, timeout_seconds: 10}
  worker: {memory_mb: 512, timeout_seconds: 20}
  upstream: {provider: v5, base_url: 'https://u', api_key_parameter: /k}
";

fn names(vars: &[EnvVar]) -> Vec<&str> {
    vars.iter().map(|v| v.name.as_str()).collect()
}

#[test]
fn environments_follow_the_contract() {
    let ctx = crate::render::context::build(&stage(V5, "dev"), &crate::outputs::local(), None);
    assert_eq!(
        names(&ctx.functions.api.environment),
        [
            "STAGE",
            "LOG_LEVEL",
            "COUNTRIES_TABLE",
            "STATUS_TABLE",
            "QUEUE_URL",
            "VIEW_CACHE_TTL_SECONDS",
            "HTTP_MAX_AGE_SECONDS"
        ]
    );
    assert_eq!(
        names(&ctx.functions.worker.environment),
        [
            "STAGE",
            "LOG_LEVEL",
            "COUNTRIES_TABLE",
            "STATUS_TABLE",
            "BREAKER_TABLE",
            "QUEUE_URL",
            "DLQ_URL",
            "UPSTREAM_PROVIDER",
            "UPSTREAM_BASE_URL",
            "UPSTREAM_API_KEY_PARAMETER",
            "UPSTREAM_TIMEOUT_MS",
            "BREAKER_THRESHOLD",
            "BREAKER_WINDOW_SECONDS",
            "REFRESH_AFTER_SECONDS"
        ]
    );
    assert!(ctx.functions.api.local_environment.is_empty());
}

/// The names a function's config reads (asked of the app itself, so the
/// list cannot drift from app/src/config.rs), and whether it accepted them.
fn read_by_app(function: &str, env: &[(String, String)]) -> (BTreeSet<String>, bool) {
    let asked = RefCell::new(BTreeSet::new());
    let lookup = |k: &str| {
        asked.borrow_mut().insert(k.to_string());
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    };
    let ok = match function {
        "api" => countries::config::ApiConfig::from_lookup(lookup).is_ok(),
        _ => countries::config::WorkerConfig::from_lookup(lookup).is_ok(),
    };
    (asked.into_inner(), ok)
}

#[test]
fn local_processes_get_what_the_app_reads_and_nothing_else() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for stage in crate::stage::load_all(&root).expect("repository stages") {
        let ctx = crate::render::context::build(&stage, &crate::outputs::local(), None);
        for (function, vars) in [
            ("api", &ctx.functions.api.environment),
            ("worker", &ctx.functions.worker.environment),
        ] {
            let resources: BTreeMap<String, String> = vars
                .iter()
                .filter_map(|v| Some((v.stack_ref.clone()?, v.value.clone())))
                .collect();
            let env = process_env(vars, &resources, &overrides(None), function == "api")
                .expect("every reference resolves");
            let given: BTreeSet<String> = env
                .iter()
                .map(|(k, _)| k.clone())
                .filter(|k| !SDK_PLUMBING.contains(&k.as_str()))
                .collect();
            let (read, ok) = read_by_app(function, &env);
            assert!(ok, "{} {function}: the app rejects {env:?}", stage.name);
            let extra: Vec<_> = given.difference(&read).collect();
            assert!(
                extra.is_empty(),
                "{} {function}: set but never read: {extra:?}",
                stage.name
            );
            // Without UPSTREAM_API_KEY in the deployer's environment, a v3 worker gets
            // neither key variable; a v5 one gets the parameter.
            let mut unset: BTreeSet<String> = read.difference(&given).cloned().collect();
            if function == "worker" {
                assert!(unset.remove("UPSTREAM_API_KEY"), "{}", stage.name);
                if stage.spec.app.upstream.provider == Provider::V3 {
                    assert!(unset.remove("UPSTREAM_API_KEY_PARAMETER"), "{}", stage.name);
                }
            }
            assert!(
                unset.is_empty(),
                "{} {function}: read but not set: {unset:?}",
                stage.name
            );
        }
    }
}
