//! What the templates need to release the functions safely: the `live`
//! alias, the api's traffic shift, the alarms that judge a release and the
//! monitoring window. The alarms are one list ([`RELEASE_ALARMS`]): the
//! template's CodeDeploy alarms and the deployer's rollback triggers both read
//! it. Also the settings digest each `AWS::Lambda::Version` carries, so a
//! version is published for new settings as well as for a new zip. Pure.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::outputs::Outputs;
use crate::stage::Stage;

/// The alias every trigger of a function targets: the API integration, its
/// invoke permission and the queue's event source mapping.
pub const ALIAS: &str = "live";

/// An alarm of the stack that judges a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseAlarm {
    /// Its logical id in templates/stack.yaml.hbs.
    pub logical_id: &'static str,
    /// How plans name it.
    pub label: &'static str,
    /// Its name is `<stack>-<suffix>`.
    pub suffix: &'static str,
    /// True when it watches the api: CodeDeploy stops the api's traffic shift on it.
    pub api: bool,
}

/// The alarms that judge a release: CloudFormation rolls an update back when
/// one goes to ALARM (rollback triggers, all of them), CodeDeploy stops the
/// api's traffic shift on the api's.
pub const RELEASE_ALARMS: [ReleaseAlarm; 3] = [
    ReleaseAlarm {
        logical_id: "ApiErrorsAlarm",
        label: "ApiErrors",
        suffix: "api-errors",
        api: true,
    },
    ReleaseAlarm {
        logical_id: "Api5xxAlarm",
        label: "Api5xx",
        suffix: "api-5xx",
        api: true,
    },
    ReleaseAlarm {
        logical_id: "WorkerErrorsAlarm",
        label: "WorkerErrors",
        suffix: "worker-errors",
        api: false,
    },
];

impl ReleaseAlarm {
    /// The alarm's name in the stage's stack.
    pub fn name(&self, stack: &str) -> String {
        format!("{stack}-{}", self.suffix)
    }
}

/// One release alarm as the templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct AlarmRef {
    /// Logical id.
    pub logical_id: String,
    /// Alarm name.
    pub name: String,
    /// Short name.
    pub label: String,
}

/// The api's CodeDeploy traffic shift (canary or linear stages only).
#[derive(Debug, Clone, Serialize)]
pub struct CodeDeployContext {
    /// `countries-<stage>`.
    pub application: String,
    /// `countries-api-<stage>`.
    pub api_group: String,
    /// e.g. `CodeDeployDefault.LambdaCanary10Percent5Minutes`.
    pub config: String,
    /// The api's release alarms: CodeDeploy stops and rolls back the shift on any of them.
    pub alarms: Vec<AlarmRef>,
    /// CodeDeploy's service role (Terraform output `codedeploy_role_arns`).
    pub service_role_arn: String,
}

/// How the stage releases, for the templates.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseContext {
    /// `live`.
    pub alias: String,
    /// The api's shift in words (`canary 10 % for 5 min`).
    pub api_traffic: String,
    /// The CodeDeploy resources; none when the api moves all at once.
    pub codedeploy: Option<CodeDeployContext>,
    /// CloudFormation's monitoring window after an update, in minutes.
    pub monitoring_minutes: u32,
    /// Every release alarm: the deployer's rollback triggers.
    pub rollback_alarms: Vec<AlarmRef>,
}

/// Builds the release context of a stage. Pure.
pub fn build(stage: &Stage, outputs: &Outputs) -> ReleaseContext {
    let stack = format!("countries-{}", stage.name);
    let r = &stage.spec.release;
    let alarm = |a: &ReleaseAlarm| AlarmRef {
        logical_id: a.logical_id.into(),
        name: a.name(&stack),
        label: a.label.into(),
    };
    ReleaseContext {
        alias: ALIAS.into(),
        api_traffic: r.api_traffic.describe().into(),
        codedeploy: r
            .api_traffic
            .codedeploy_config()
            .map(|config| CodeDeployContext {
                application: stack.clone(),
                api_group: format!("countries-api-{}", stage.name),
                config: config.into(),
                alarms: RELEASE_ALARMS.iter().filter(|a| a.api).map(alarm).collect(),
                service_role_arn: outputs.codedeploy_role_arn.clone().unwrap_or_default(),
            }),
        monitoring_minutes: r.monitoring_minutes,
        rollback_alarms: RELEASE_ALARMS.iter().map(alarm).collect(),
    }
}

/// The mark a template writes where a resource's settings digest goes:
/// `@@settings-digest:ApiFunction@@`.
const MARK: &str = "@@settings-digest:";

/// Replaces each `@@settings-digest:<LogicalId>@@` with the first 16 hex digits of
/// the SHA-256 of that resource's rendered text (its block under `Resources:`).
/// A function's version carries its function's digest, so any change to what a
/// version freezes (memory, timeout, environment, runtime, ...) replaces the
/// version, as a new zip does through CodeSha256. Pure.
pub fn stamp_settings_digests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        let after = &rest[start + MARK.len()..];
        let Some(end) = after.find("@@") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let id = &after[..end];
        let digest = hex::encode(Sha256::digest(resource_block(text, id).as_bytes()));
        out.push_str(&digest[..16]);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The lines of the resource `id` (indented two spaces under `Resources:`), up to the next one.
fn resource_block(text: &str, id: &str) -> String {
    let head = format!("  {id}:");
    let mut block = String::new();
    let mut inside = false;
    for line in text.lines() {
        let top = !line.starts_with("   ")
            && !line.trim().is_empty()
            && !line.trim_start().starts_with('#');
        if inside && top {
            break;
        }
        if line == head {
            inside = true;
        }
        if inside {
            block.push_str(line);
            block.push('\n');
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str = "Resources:\n  ApiFunction:\n    Type: AWS::Lambda::Function\n    Properties:\n      MemorySize: 256\n\n  ApiVersion:\n    Properties:\n      Description: \"settings @@settings-digest:ApiFunction@@\"\n";

    #[test]
    fn a_version_carries_its_functions_settings_digest() {
        let one = stamp_settings_digests(STACK);
        assert!(!one.contains("@@"), "{one}");
        let digest = one.split("settings ").nth(1).unwrap()[..16].to_string();
        assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{digest}");
        // The same settings, the same digest; other settings, another one.
        assert_eq!(stamp_settings_digests(STACK), one);
        let other = stamp_settings_digests(&STACK.replace("MemorySize: 256", "MemorySize: 512"));
        assert_ne!(other, one);
        // Only the function's own block counts.
        let block = resource_block(STACK, "ApiFunction");
        assert!(
            block.ends_with("MemorySize: 256\n\n") || block.ends_with("MemorySize: 256\n"),
            "{block:?}"
        );
        assert!(!block.contains("ApiVersion"));
    }
}
