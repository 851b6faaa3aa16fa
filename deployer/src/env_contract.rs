//! The environment contract: the variables each function's process gets.

use std::collections::BTreeMap;

use crate::render::context::EnvVar;

/// Local-only values layered over the function environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOverrides {
    /// `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    /// `AWS_REGION`.
    pub region: String,
    /// The api's `PORT`.
    pub api_port: u16,
    /// The offline upstream's URL, replacing `UPSTREAM_BASE_URL` (port overrides).
    pub upstream: Option<String>,
    /// `UPSTREAM_API_KEY` from the deployer's environment (a v5 stage run locally).
    pub api_key: Option<String>,
}

/// A local process's environment: the function's Lambda environment with stack
/// references resolved to the stack's physical ids, plus the emulator's endpoint
/// and dummy credentials. Pure; the error is a logical id the stack lacks.
pub fn process_env(
    vars: &[EnvVar],
    resources: &BTreeMap<String, String>,
    o: &LocalOverrides,
    is_api: bool,
) -> std::result::Result<Vec<(String, String)>, String> {
    let mut env = Vec::new();
    for v in vars {
        let value = match &v.stack_ref {
            Some(id) => resources.get(id).cloned().ok_or_else(|| id.clone())?,
            None => v.value.clone(),
        };
        let value = match (v.name.as_str(), &o.upstream) {
            ("UPSTREAM_BASE_URL", Some(url)) => url.clone(),
            _ => value,
        };
        if v.name == "UPSTREAM_API_KEY_PARAMETER" && o.api_key.is_some() {
            continue; // the emulator has no such parameter; the key comes from the environment
        }
        env.push((v.name.clone(), value));
    }
    if let (false, Some(key)) = (is_api, &o.api_key) {
        env.push(("UPSTREAM_API_KEY".into(), key.clone()));
    }
    if is_api {
        env.push(("PORT".into(), o.api_port.to_string()));
    }
    for (k, v) in [
        ("AWS_ENDPOINT_URL", o.endpoint.as_str()),
        ("AWS_REGION", o.region.as_str()),
        ("AWS_DEFAULT_REGION", o.region.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        env.push((k.to_string(), v.to_string()));
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
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
}
