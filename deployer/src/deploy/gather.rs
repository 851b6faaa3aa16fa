//! Gathering a deploy's inputs before any AWS call: the Terraform outputs, the
//! in-memory render (checked equal to the committed generated/), and the package.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::names::{stack_name, tags};
use super::policy;
use crate::error::{Error, RenderError, Result};
use crate::outputs::{self, Outputs};
use crate::package::{self, Package};
use crate::render::{self, GENERATED_DIR, Templates};
use crate::stage::Stage;

/// Everything one deploy needs, gathered before any AWS call.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The stage.
    pub stage: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `countries-<stage>`.
    pub stack_name: String,
    /// The rendered stack template (equal to generated/<stage>/stack.yaml).
    pub template: String,
    /// The functions' zips.
    pub package: Package,
    /// The artifact bucket.
    pub bucket: String,
    /// The CloudFormation execution role (cloud stages).
    pub role_arn: Option<String>,
    /// The stage file's tags.
    pub stage_tags: BTreeMap<String, String>,
    /// The commit being deployed.
    pub git_commit: String,
    /// True for the emulator stage (its CloudFormation has known gaps, docs/deploying.md).
    pub local: bool,
    /// How the stage releases: the api's traffic shift and the monitoring window.
    pub release: crate::stage::schema::ReleaseSettings,
    /// The functions' architecture (a rollback's package names it).
    pub architecture: crate::stage::schema::Architecture,
    /// A rollback to digests the stage ran before (`--artifact-digest`, a failed
    /// smoke test): no rollback triggers.
    pub rollback_deploy: bool,
    /// The pipeline run deploying it, as tags (none when a person deploys).
    pub pipeline_tags: BTreeMap<String, String>,
}

impl Deployment {
    /// Reads the outputs, renders in memory (it must equal the committed generated/),
    /// and packages (or reads `artifacts`, a package folder).
    pub fn gather(
        root: &Path,
        stage: &Stage,
        outputs_override: Option<&Path>,
        artifacts: Option<&Path>,
        extra_bins: &[&str],
        say: &dyn Fn(&str),
    ) -> Result<Deployment> {
        let (outputs, template) = inputs(root, stage, outputs_override)?;
        let arch = stage.spec.app.architecture;
        let package = match artifacts {
            Some(dir) => {
                let p = package::load(dir, arch)?;
                say(&format!(
                    "artifacts: {} (built from {})",
                    dir.display(),
                    p.manifest.git_commit
                ));
                p
            }
            None => {
                let profile = package::build::Profile::for_stage(stage.spec.local.is_some());
                package::build_and_package(root, arch, profile, extra_bins, say)?
            }
        };
        Ok(Deployment::assemble(stage, &outputs, template, package))
    }

    /// Like `gather`, for zips already in the artifact bucket (promote,
    /// `--artifact-digest`): `package` names them and holds no bytes.
    pub fn with_package(
        root: &Path,
        stage: &Stage,
        outputs_override: Option<&Path>,
        package: Package,
    ) -> Result<Deployment> {
        let (outputs, template) = inputs(root, stage, outputs_override)?;
        Ok(Deployment::assemble(stage, &outputs, template, package))
    }

    fn assemble(stage: &Stage, outputs: &Outputs, template: String, package: Package) -> Self {
        Deployment {
            stage: stage.name.clone(),
            account: stage.spec.account.clone(),
            region: stage.spec.region.clone(),
            stack_name: stack_name(&stage.name),
            template,
            git_commit: package.manifest.git_commit.clone(),
            package,
            bucket: outputs.artifact_bucket.clone(),
            role_arn: outputs.cloudformation_execution_role_arn.clone(),
            stage_tags: stage.spec.tags.clone(),
            local: stage.spec.local.is_some(),
            release: stage.spec.release.clone(),
            architecture: stage.spec.app.architecture,
            rollback_deploy: false,
            pipeline_tags: super::names::pipeline_tags(|k| std::env::var(k).ok()),
        }
    }

    /// The stack parameters: each function's artifact key and CodeSha256 (which
    /// publishes its version).
    pub fn parameters(&self) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        for (name, f) in &self.package.manifest.functions {
            p.insert(package::zip::artifact_parameter(name), f.key.clone());
            if let Some(sha) = package::zip::code_sha256(&f.digest) {
                p.insert(package::zip::code_sha256_parameter(name), sha);
            }
        }
        p
    }

    /// The tags the deploy sets: the stage's, plus stage, digests, commit and time.
    pub fn tags(&self, deployed_at: &str) -> BTreeMap<String, String> {
        let mut t = self.stage_tags.clone();
        let digests = self.package.digests();
        t.insert(tags::STAGE.into(), self.stage.clone());
        t.insert(tags::API_DIGEST.into(), digests.api);
        t.insert(tags::WORKER_DIGEST.into(), digests.worker);
        t.insert(tags::GIT_COMMIT.into(), self.git_commit.clone());
        t.insert(tags::DEPLOYED_AT.into(), deployed_at.into());
        t.extend(self.pipeline_tags.clone());
        t
    }

    /// How often to poll CloudFormation: the emulator answers at once.
    pub fn poll(&self) -> Duration {
        policy::poll(self.local)
    }

    /// How long the change set may take to be created.
    pub fn change_set_deadline(&self) -> Duration {
        policy::change_set_deadline(self.local)
    }
}

/// The outputs and the rendered stack (equal to the committed generated/<stage>/stack.yaml).
pub(super) fn inputs(
    root: &Path,
    stage: &Stage,
    outputs_override: Option<&Path>,
) -> Result<(Outputs, String)> {
    let outputs = outputs::read(root, stage, outputs_override)?;
    let template = rendered_stack(root, stage, &outputs)?;
    Ok((outputs, template))
}

/// Renders the stage's stack in memory and checks it equals the committed file.
pub fn rendered_stack(root: &Path, stage: &Stage, outputs: &Outputs) -> Result<String> {
    let templates = Templates::load(root)?;
    let files = render::render_stage(&templates, stage, outputs)?;
    let shown = Path::new(GENERATED_DIR).join(&stage.name);
    let report = render::check(&root.join(&shown), &shown, &files)?;
    if !report.changed.is_empty() {
        return Err(RenderError::RenderStale {
            stage: stage.name.clone(),
            files: report
                .changed
                .iter()
                .map(|f| shown.join(f).display().to_string())
                .collect(),
        }
        .into());
    }
    files
        .into_iter()
        .find(|f| f.name == "stack.yaml")
        .map(|f| f.text)
        .ok_or_else(|| {
            Error::from(RenderError::NotRendered {
                stage: stage.name.clone(),
                path: shown.join("stack.yaml"),
            })
        })
}
