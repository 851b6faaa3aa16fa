//! Promotion decisions (DESIGN §3.5), pure: what a stage runs, whether it may
//! be promoted to the next one, whether `up` may deploy an artifact to a stage
//! with `promote_from`, which pipeline approval waits, and whether promote may
//! answer it. The AWS calls that feed these functions are in `commands::promote`.
//!
//! An artifact is named by its two zips' SHA-256 digests (the stack parameters
//! `ApiArtifactKey` / `WorkerArtifactKey`, which the emulator keeps current,
//! with the stack tags as a fallback). A pipeline execution is matched to a
//! stack by commit: the pipeline builds each commit once, reproducibly, and
//! the deploy actions tag the stack with that commit.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::aws::cloudformation::StackInfo;
use crate::error::{DeployError, Error, Result};
use crate::package::manifest::{FORMAT, FunctionArtifact, Manifest};
use crate::package::zip::{artifact_key, digest_of_key};
use crate::package::{FUNCTIONS, Package};
use crate::stage::Stage;
use crate::stage::schema::Architecture;

use super::names::tags;

pub mod pipeline;
pub use pipeline::{
    ApprovalStep, PipelineRow, WaitingApproval, approval_step, pipeline_rows, waiting_approval,
};

/// The pipeline's manual approval action (infrastructure/pipeline.tf).
pub const APPROVAL_ACTION: &str = "Approve";

/// The Build action, whose output variables carry `PACKAGE_DIGEST`.
pub const BUILD_ACTION: &str = "Build";

/// The artifact a stage's stack runs: one zip per function, and the commit it was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Running {
    /// The stage.
    pub stage: String,
    /// Function name → SHA-256 of its zip.
    pub digests: BTreeMap<String, String>,
    /// The commit the stack is tagged with (none when untagged).
    pub commit: Option<String>,
}

impl Running {
    /// Reads what a stack runs; refuses a stack that is missing or carries no digests.
    pub fn from_stack(stage: &str, info: Option<&StackInfo>) -> Result<Running> {
        let refuse = |problem: String| {
            Error::from(DeployError::NothingToPromote {
                stage: stage.to_string(),
                problem,
            })
        };
        let info =
            info.ok_or_else(|| refuse(format!("its stack countries-{stage} does not exist")))?;
        if !super::progress::succeeded(&info.status) {
            return Err(refuse(format!(
                "its stack {} is {}, not a finished deploy",
                info.name, info.status
            )));
        }
        let mut digests = BTreeMap::new();
        for function in FUNCTIONS {
            let param = crate::package::zip::artifact_parameter(function);
            let tag = match function {
                "api" => tags::API_DIGEST,
                _ => tags::WORKER_DIGEST,
            };
            let digest = info
                .parameters
                .get(&param)
                .and_then(|k| digest_of_key(k))
                .map(str::to_string)
                .or_else(|| info.tags.get(tag).cloned())
                .ok_or_else(|| {
                    refuse(format!(
                        "its stack has no parameter {param} naming a zip, and no tag {tag}"
                    ))
                })?;
            digests.insert(function.to_string(), digest);
        }
        Ok(Running {
            stage: stage.to_string(),
            digests,
            commit: info.tags.get(tags::GIT_COMMIT).cloned(),
        })
    }

    /// A package that names these zips by their keys and holds no bytes: promote and
    /// `--artifact-digest` deploy zips that are already in the artifact bucket.
    pub fn package(&self, architecture: Architecture, build: &str) -> Package {
        package_of(
            &self.digests,
            self.commit.as_deref().unwrap_or("unknown"),
            architecture,
            build,
        )
    }
}

/// A package without bytes naming `digests` (function → SHA-256).
pub fn package_of(
    digests: &BTreeMap<String, String>,
    commit: &str,
    architecture: Architecture,
    build: &str,
) -> Package {
    let functions = digests
        .iter()
        .map(|(name, digest)| {
            (
                name.clone(),
                FunctionArtifact {
                    file: format!("{name}.zip"),
                    digest: digest.clone(),
                    size: 0,
                    key: artifact_key(name, digest),
                    glibc: None,
                },
            )
        })
        .collect();
    Package {
        dir: std::path::PathBuf::new(),
        manifest: Manifest {
            format: FORMAT,
            git_commit: commit.to_string(),
            architecture: architecture.as_str().to_string(),
            build: build.to_string(),
            glibc_max: None,
            functions,
        },
        zips: BTreeMap::new(),
        binaries: None,
    }
}

/// Refuses a promotion `from` → `to` unless `to`'s stage file names `from` as
/// `promote_from`, and unless both run on the same architecture.
pub fn check_order(from: &Stage, to: &Stage) -> Result<()> {
    if to.spec.promote_from.as_deref() != Some(from.name.as_str()) {
        return Err(DeployError::PromoteOrder {
            from: from.name.clone(),
            to: to.name.clone(),
            promote_from: to.spec.promote_from.clone(),
        }
        .into());
    }
    if from.spec.app.architecture != to.spec.app.architecture {
        return Err(DeployError::NothingToPromote {
            stage: from.name.clone(),
            problem: format!(
                "it runs on {} but {} runs on {}; its zips cannot run there",
                from.spec.app.architecture.as_str(),
                to.name,
                to.spec.app.architecture.as_str()
            ),
        }
        .into());
    }
    Ok(())
}

/// Whether `up` may deploy `wanted` (function → digest) to `stage`, whose stage file
/// promotes from `from`, when `from` runs `predecessor` (or, as an error, why it
/// runs nothing usable: [`Running::from_stack`]'s refusal). With `force` a mismatch
/// is allowed and the returned warning says so (to be printed loudly).
pub fn check_up(
    stage: &str,
    from: &str,
    predecessor: std::result::Result<&Running, &Error>,
    wanted: &BTreeMap<String, String>,
    force: bool,
) -> Result<Option<String>> {
    let problem = match predecessor {
        Err(Error::Deploy(DeployError::NothingToPromote { problem, .. })) => {
            format!("{from} runs nothing usable: {problem}")
        }
        Err(other) => format!("{from} runs nothing usable: {other}"),
        Ok(p) if &p.digests == wanted => return Ok(None),
        Ok(p) => format!(
            "{from} runs {}, this artifact is {}",
            describe(&p.digests),
            describe(wanted)
        ),
    };
    if force {
        Ok(Some(format!(
            "WARNING: --force: deploying to {stage} an artifact that {from} does not run ({problem}); the promotion order is bypassed"
        )))
    } else {
        Err(DeployError::NotPromoted {
            stage: stage.to_string(),
            from: from.to_string(),
            problem,
        }
        .into())
    }
}

fn describe(digests: &BTreeMap<String, String>) -> String {
    digests
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::plan::render::short(v)))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::codepipeline::{ActionState, Execution, StageState};

    fn stage(name: &str, extra: &str) -> Stage {
        let text = format!(
            "account: '111111111111'
region: us-east-1
terraform_outputs: {{file: o.json}}
{extra}app:
  architecture: arm64
  log_level: info
  api: {{memory_mb: 256, timeout_seconds: 10}}
  worker: {{memory_mb: 256, timeout_seconds: 30}}
  upstream: {{provider: v3, base_url: 'http://x'}}
"
        );
        let file = std::path::PathBuf::from(format!("stages/{name}.yaml"));
        let spec = crate::stage::load::parse(&file, &text).expect("parses");
        Stage {
            name: name.into(),
            file,
            text,
            spec,
        }
    }

    fn stack(api: &str, worker: &str, commit: &str) -> StackInfo {
        let mut info = StackInfo {
            name: "countries-dev".into(),
            status: "UPDATE_COMPLETE".into(),
            ..StackInfo::default()
        };
        info.parameters
            .insert("ApiArtifactKey".into(), artifact_key("api", api));
        info.parameters
            .insert("WorkerArtifactKey".into(), artifact_key("worker", worker));
        info.tags.insert(tags::GIT_COMMIT.into(), commit.into());
        info
    }

    fn digests(api: &str, worker: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("api".into(), api.into()), ("worker".into(), worker.into())])
    }

    #[test]
    fn order_follows_promote_from() {
        let dev = stage("dev", "");
        let staging = stage("staging", "promote_from: dev\n");
        let prod = stage("prod", "promote_from: staging\napproval: true\n");
        assert!(check_order(&dev, &staging).is_ok());
        assert!(check_order(&staging, &prod).is_ok());
        let err = check_order(&dev, &prod).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("prod is promoted from staging"),
            "{err}"
        );
        assert!(check_order(&staging, &dev).is_err());
    }

    #[test]
    fn running_reads_parameters_and_refuses_an_empty_stage() {
        let (a, w) = ("a".repeat(64), "b".repeat(64));
        let r = Running::from_stack("dev", Some(&stack(&a, &w, "c1"))).unwrap();
        assert_eq!(r.digests, digests(&a, &w));
        assert_eq!(r.commit.as_deref(), Some("c1"));
        let p = r.package(Architecture::Arm64, "promoted");
        assert_eq!(p.manifest.functions["api"].key, artifact_key("api", &a));
        assert!(Running::from_stack("dev", None).is_err());
        let mut failed = stack(&a, &w, "c1");
        failed.status = "UPDATE_ROLLBACK_FAILED".into();
        assert!(Running::from_stack("dev", Some(&failed)).is_err());
    }

    #[test]
    fn up_of_an_unpromoted_artifact_is_refused_unless_forced() {
        let (a, w) = ("a".repeat(64), "b".repeat(64));
        let r = Running::from_stack("dev", Some(&stack(&a, &w, "c1"))).unwrap();
        assert_eq!(
            check_up("staging", "dev", Ok(&r), &digests(&a, &w), false).unwrap(),
            None
        );
        let other = digests(&"c".repeat(64), &w);
        let err = check_up("staging", "dev", Ok(&r), &other, false).unwrap_err();
        assert!(err.to_string().contains("dev does not run"), "{err}");
        let bare = StackInfo {
            name: "countries-dev".into(),
            status: "CREATE_COMPLETE".into(),
            ..StackInfo::default()
        };
        let untagged = Running::from_stack("dev", Some(&bare)).unwrap_err();
        let err = check_up("staging", "dev", Err(&untagged), &other, false).unwrap_err();
        assert!(
            err.to_string()
                .contains("dev runs nothing usable: its stack has no parameter"),
            "{err}"
        );
        let warning = check_up("staging", "dev", Err(&untagged), &other, true)
            .unwrap()
            .unwrap();
        assert!(warning.contains("--force"), "{warning}");
    }

    fn state(token: Option<&str>, status: &str) -> Vec<StageState> {
        vec![StageState {
            name: "prod".into(),
            execution_id: Some("e1".into()),
            status: Some("InProgress".into()),
            actions: vec![
                ActionState {
                    name: APPROVAL_ACTION.into(),
                    status: Some(status.into()),
                    token: token.map(str::to_string),
                    ..ActionState::default()
                },
                ActionState {
                    name: "Promote".into(),
                    ..ActionState::default()
                },
            ],
        }]
    }

    #[test]
    fn a_waiting_approval_is_answered_only_for_the_same_commit() {
        let execs = vec![Execution {
            id: "e1".into(),
            commit: Some("c1".into()),
            ..Execution::default()
        }];
        let w = waiting_approval("countries", "prod", &state(Some("t"), "InProgress"), &execs)
            .expect("waits");
        assert_eq!((w.token.as_str(), w.commit.as_deref()), ("t", Some("c1")));
        assert!(waiting_approval("countries", "prod", &state(None, "Succeeded"), &execs).is_none());
        assert!(
            waiting_approval(
                "countries",
                "staging",
                &state(Some("t"), "InProgress"),
                &execs
            )
            .is_none()
        );

        let (a, wd) = ("a".repeat(64), "b".repeat(64));
        let same = Running::from_stack("staging", Some(&stack(&a, &wd, "c1"))).unwrap();
        assert!(matches!(
            approval_step(&same, Some(w.clone())).unwrap(),
            ApprovalStep::Answer(_)
        ));
        let other = Running::from_stack("staging", Some(&stack(&a, &wd, "c2"))).unwrap();
        let err = approval_step(&other, Some(w)).unwrap_err();
        assert!(
            err.to_string().contains("c1") && err.to_string().contains("c2"),
            "{err}"
        );
        assert_eq!(approval_step(&other, None).unwrap(), ApprovalStep::Nothing);
    }

    #[test]
    fn pipeline_rows_join_state_and_executions() {
        let execs = vec![Execution {
            id: "e1".into(),
            commit: Some("c1".into()),
            ..Execution::default()
        }];
        let pkg = BTreeMap::from([("e1".to_string(), "p1".to_string())]);
        let rows = pipeline_rows(&state(Some("t"), "InProgress"), &execs, &pkg);
        assert_eq!(rows[0].commit.as_deref(), Some("c1"));
        assert_eq!(rows[0].package_digest.as_deref(), Some("p1"));
        assert_eq!(rows[0].action.as_deref(), Some("Approve: InProgress"));
    }
}
