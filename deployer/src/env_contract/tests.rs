//! The environment contract checked against what the app reads.

use super::*;

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
