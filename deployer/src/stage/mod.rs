//! Stage files: schema, loading, key positions and semantic checks.

pub mod load;
pub mod locate;
pub mod rules;
pub mod schema;
pub mod validate;

use std::path::Path;

use crate::error::{Error, Result, StageError};
pub use load::Stage;

/// The folder of stage files, relative to the repository root.
pub const STAGES_DIR: &str = "stages";

/// Loads and validates every stage under `root/stages`; all problems are reported together.
pub fn load_all(root: &Path) -> Result<Vec<Stage>> {
    let stages = load::load_dir(&root.join(STAGES_DIR), Path::new(STAGES_DIR))?;
    let diagnostics = validate::validate(&stages);
    if diagnostics.is_empty() {
        Ok(stages)
    } else {
        Err(StageError::InvalidStage { diagnostics }.into())
    }
}

/// Picks the stages a command works on: one by name, or all of them.
pub fn select<'a>(stages: &'a [Stage], name: Option<&str>) -> Result<Vec<&'a Stage>> {
    match name {
        None => Ok(stages.iter().collect()),
        Some(name) => stages
            .iter()
            .find(|s| s.name == name)
            .map(|s| vec![s])
            .ok_or_else(|| {
                Error::from(StageError::UnknownStage {
                    name: name.to_string(),
                    available: stages.iter().map(|s| s.name.clone()).collect(),
                })
            }),
    }
}
