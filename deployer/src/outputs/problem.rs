//! What can be wrong with one required output, and how each is worded (the
//! checks that find an unusable one are in `usable`).

use serde_json::Value;

/// What is wrong with one required output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The output is not there.
    Missing,
    /// It has no `value` (not the `terraform output -json` format).
    NoValue,
    /// A string output that is not a non-empty string.
    NotString {
        /// What it is instead.
        found: &'static str,
    },
    /// A map output that is not a map.
    NotMap {
        /// What it is instead.
        found: &'static str,
    },
    /// A map output with an entry that is not a string.
    NonStringEntry {
        /// The entry's key.
        key: String,
        /// What it is instead.
        found: &'static str,
    },
    /// A map output without the stage's entry.
    NoStageEntry {
        /// The stage.
        stage: String,
    },
    /// An ARN that is not one, or in another account or region than the
    /// stage's (or a bucket whose name says so).
    Arn(String),
}

impl Problem {
    /// As `deployer outputs` shows it in its table.
    pub fn row_text(&self) -> String {
        match self {
            Problem::Missing => "missing".into(),
            Problem::NoValue => "has no `value`".into(),
            Problem::NotString { found } => format!("must be a non-empty string, found {found}"),
            Problem::NotMap { found } => format!("must be a map(string) by stage, found {found}"),
            Problem::NonStringEntry { key, found } => {
                format!("must be a map(string), but `{key}` is {found}")
            }
            Problem::NoStageEntry { stage } => format!("has no entry for stage `{stage}`"),
            Problem::Arn(problem) => problem.clone(),
        }
    }

    /// As an error message says it (after "Terraform output `name` in source").
    pub fn error_text(&self) -> String {
        match self {
            Problem::NoValue => {
                "has no `value` (expected the `terraform output -json` format)".into()
            }
            other => other.row_text(),
        }
    }
}

/// A JSON value's kind, in the words the problems use. Pure.
pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}
