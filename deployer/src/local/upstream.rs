//! Which upstream `up local` gives the worker: the offline server it starts,
//! with the stage's fault switches as its flags, or another upstream the
//! stage names (a self-hosted v3-compatible server, v5 with a key from the
//! environment), for which it starts nothing. Pure.

use crate::error::LocalError;
use crate::stage::Stage;
use crate::stage::rules::runs_offline_upstream;
use crate::stage::schema::Provider;

/// The upstream of a local run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalUpstream {
    /// Start `offline-upstream` with these arguments.
    Offline {
        /// `--port N` and the fault flags the stage sets.
        args: Vec<String>,
    },
    /// Start nothing: the worker calls this URL.
    External {
        /// `app.upstream.base_url`.
        url: String,
    },
}

/// Decides the upstream of `stage` run with the offline server on `port`;
/// `api_key` is `UPSTREAM_API_KEY` from the deployer's environment, which a
/// v5 upstream needs locally (the emulator holds no SSM parameter).
pub fn local_upstream(
    stage: &Stage,
    port: u16,
    api_key: Option<&str>,
) -> Result<LocalUpstream, LocalError> {
    let up = &stage.spec.app.upstream;
    if !runs_offline_upstream(stage) {
        if up.provider == Provider::V5 && api_key.is_none() {
            return Err(LocalError::UpstreamKeyMissing {
                stage: stage.name.clone(),
                parameter: up.api_key_parameter.clone().unwrap_or_default(),
            });
        }
        return Ok(LocalUpstream::External {
            url: up.base_url.clone(),
        });
    }
    let mut args = vec!["--port".to_string(), port.to_string()];
    if let Some(f) = stage.spec.local.as_ref().and_then(|l| l.faults.as_ref()) {
        for (flag, value) in [
            ("--fail-per-mille", f.fail_per_mille),
            ("--stall-per-mille", f.stall_per_mille),
            ("--stall-ms", f.stall_ms),
            ("--delay-ms", f.delay_ms),
        ] {
            if value > 0 {
                args.extend([flag.to_string(), value.to_string()]);
            }
        }
    }
    Ok(LocalUpstream::Offline { args })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn stage(name: &str, text: &str) -> Stage {
        let file = PathBuf::from(format!("stages/{name}.yaml"));
        let spec = crate::stage::load::parse(Path::new(&file), text).expect("fixture parses");
        Stage {
            name: name.into(),
            file,
            text: text.into(),
            spec,
        }
    }

    const LOCAL: &str = "account: '123456789012'
region: us-east-1
app:
  architecture: x86_64
  log_level: info
  api: {memory_mb: 256, timeout_seconds: 10}
  worker: {memory_mb: 256, timeout_seconds: 30}
  upstream:
    provider: v3
    base_url: http://127.0.0.1:8081
local:
  emulator_port: 4599
  api_port: 3000
  upstream_port: 8081
";

    fn args(text: &str, port: u16) -> Vec<String> {
        match local_upstream(&stage("local", text), port, None) {
            Ok(LocalUpstream::Offline { args }) => args,
            other => panic!("expected the offline server: {other:?}"),
        }
    }

    #[test]
    fn the_offline_server_gets_the_port_and_the_faults_the_stage_sets() {
        assert_eq!(args(LOCAL, 9001), ["--port", "9001"]);
        let faults = format!(
            "{LOCAL}  faults:\n    fail_per_mille: 600\n    stall_per_mille: 100\n    stall_ms: 3000\n"
        );
        assert_eq!(
            args(&faults, 8081),
            [
                "--port",
                "8081",
                "--fail-per-mille",
                "600",
                "--stall-per-mille",
                "100",
                "--stall-ms",
                "3000"
            ]
        );
    }

    #[test]
    fn another_upstream_starts_nothing_and_v5_needs_the_key_from_the_environment() {
        let hosted = LOCAL.replace("http://127.0.0.1:8081", "http://127.0.0.1:9090");
        assert_eq!(
            local_upstream(&stage("local", &hosted), 8081, None).unwrap(),
            LocalUpstream::External {
                url: "http://127.0.0.1:9090".into()
            }
        );
        let v5 = LOCAL.replace(
            "provider: v3\n    base_url: http://127.0.0.1:8081",
            "provider: v5\n    base_url: https://api.restcountries.com/countries/v5\n    api_key_parameter: /countries/local/key",
        );
        let missing = local_upstream(&stage("local", &v5), 8081, None).unwrap_err();
        assert!(
            missing.to_string().contains("/countries/local/key"),
            "{missing}"
        );
        assert!(
            missing.help().hint.contains("UPSTREAM_API_KEY"),
            "{:?}",
            missing.help()
        );
        assert!(matches!(
            local_upstream(&stage("local", &v5), 8081, Some("k")),
            Ok(LocalUpstream::External { .. })
        ));
    }
}
