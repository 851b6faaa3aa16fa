//! Terraform outputs: the values the foundation (infrastructure/) hands to
//! each stage's stack.
//!
//! `REQUIRED` is the one list of outputs the deployer needs (docs/contract.md,
//! "Terraform outputs the deployer reads"); every check and message comes
//! from it. The outputs come either from `terraform -chdir=<dir> output
//! -json` or from a file of the same format, which is what CI passes between
//! pipeline steps (`DEPLOYER_OUTPUTS_FILE`).

mod parse;
mod problem;
mod required;
mod source;
mod stage_account;
mod usable;

use std::path::Path;

use crate::error::Result;
use crate::stage::Stage;

pub use parse::{OutputRow, Problem, check, inspect, parse};
pub use required::{
    LOCAL_ARTIFACT_BUCKET, Need, OUTPUTS_FILE_ENV, OutputKind, Outputs, REQUIRED, RequiredOutput,
    local,
};
pub use source::{Source, read_text, source_desc, source_for};
pub use stage_account::STAGE_ALARM_TOPICS;

/// Reads a stage's outputs from its source (the file system or terraform).
pub fn read(root: &Path, stage: &Stage, override_file: Option<&Path>) -> Result<Outputs> {
    match source::read_text(root, stage, override_file)? {
        None => Ok(local()),
        Some((shown, text)) => parse::parse(stage, &shown, &text),
    }
}
