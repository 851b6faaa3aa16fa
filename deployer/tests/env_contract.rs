//! The environment `up local` gives its processes is what the app reads, and
//! nothing else: the app itself is asked (countries::config's lookups).

use std::collections::{BTreeMap, BTreeSet};

use deployer::env_contract::{LocalOverrides, SDK_PLUMBING, process_env};
use deployer::stage::schema::Provider;

use crate::common;

fn overrides() -> LocalOverrides {
    LocalOverrides {
        endpoint: "http://127.0.0.1:4599".into(),
        region: "us-east-1".into(),
        api_port: 3001,
        upstream: None,
        api_key: None,
    }
}

#[test]
fn local_processes_get_what_the_app_reads_and_nothing_else() {
    let root = common::repo_root();
    for stage in deployer::stage::load_all(&root).expect("repository stages") {
        let ctx = deployer::render::context::build(&stage, &deployer::outputs::local(), None);
        for (function, vars) in [
            ("api", &ctx.functions.api.environment),
            ("worker", &ctx.functions.worker.environment),
        ] {
            let resources: BTreeMap<String, String> = vars
                .iter()
                .filter_map(|v| Some((v.stack_ref.clone()?, v.value.clone())))
                .collect();
            let env = process_env(vars, &resources, &overrides(), function == "api")
                .expect("every reference resolves");
            let given: BTreeSet<String> = env
                .iter()
                .map(|(k, _)| k.clone())
                .filter(|k| !SDK_PLUMBING.contains(&k.as_str()))
                .collect();
            let (read, ok) = common::read_by_app(function, &env);
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
