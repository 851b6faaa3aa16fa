//! Terraform outputs: reading and checking them.

use std::path::PathBuf;

use super::help::{ExitClass, Help};

/// Terraform outputs: reading and checking them. Each variant carries its message (`#[error]`); [`OutputsError::help`]
/// gives its exit class and hint.
#[derive(Debug, thiserror::Error)]
pub enum OutputsError {
    /// The Terraform outputs could not be obtained.
    #[error("stage {stage}: cannot read Terraform outputs from {source_desc}: {detail}")]
    OutputsUnreadable {
        stage: String,
        source_desc: String,
        detail: String,
    },

    /// A Terraform output the templates need is absent.
    #[error("stage {stage}: Terraform output `{name}` is missing from {source_desc}")]
    OutputMissing {
        stage: String,
        name: String,
        source_desc: String,
    },

    /// A Terraform output has the wrong JSON type or content.
    #[error("stage {stage}: Terraform output `{name}` in {source_desc} {problem}")]
    OutputInvalid {
        stage: String,
        name: String,
        source_desc: String,
        problem: String,
    },

    /// `terraform` is needed (a stage reads outputs with `chdir:`) but is not on PATH.
    #[error(
        "stage {stage}: `terraform` is not installed or not on PATH (needed to read outputs from {dir})"
    )]
    TerraformMissing { stage: String, dir: PathBuf },

    /// `deployer outputs` found required outputs missing (or unreadable).
    #[error("Terraform outputs missing or unusable: {}", missing.join("; "))]
    OutputsIncomplete { missing: Vec<String> },
}

impl OutputsError {
    /// The exit class and the hint: one arm per variant and no catch-all, so a
    /// new variant does not compile until it has both.
    pub fn help(&self) -> Help {
        match self {
            OutputsError::OutputsUnreadable { .. } | OutputsError::OutputMissing { .. } => Help::new(ExitClass::Usage, "check `terraform_outputs` in the stage file, or the --outputs-file / DEPLOYER_OUTPUTS_FILE given; the file must be `terraform output -json` output and declare every output in deployer/src/outputs.rs REQUIRED".into()),
            OutputsError::OutputInvalid { .. } => Help::new(ExitClass::Usage, USABLE.into()),
            OutputsError::TerraformMissing { .. } => Help::new(ExitClass::Usage, "install Terraform >= 1.11, or point DEPLOYER_OUTPUTS_FILE at a saved `terraform output -json`".into()),
            OutputsError::OutputsIncomplete { .. } => Help::new(ExitClass::Usage, format!("a missing output: declare it in infrastructure/outputs.tf and `terraform apply`, then save `terraform output -json` where the stage file's terraform_outputs points; an unusable one: {USABLE}")),
        }
    }
}

/// What to do about outputs that are there but unusable for a stage.
const USABLE: &str = "the outputs must come from the foundation applied in the stage's account and region: the stage file's `account` is what `aws sts get-caller-identity` says, its `region` is `aws_region` in infrastructure/terraform.tfvars (docs/delivery.md, bootstrap); or point terraform_outputs / DEPLOYER_OUTPUTS_FILE at that foundation's `terraform output -json`";
