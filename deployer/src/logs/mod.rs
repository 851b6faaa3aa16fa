//! `deployer logs`: the functions' JSON log lines, from CloudWatch Logs for a
//! deployed stage or from the local stage's log files, filtered by request id
//! and shown readably or raw.
//!
//! `format` is pure (parsing, filtering, formatting); `reader` reads the local
//! files; `cloudwatch` is the SDK edge behind the `LogSource` trait.

pub mod cloudwatch;
pub mod format;
pub mod reader;

/// One of the stage's two functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Function {
    /// The HTTP API.
    Api,
    /// The queue worker.
    Worker,
}

impl Function {
    /// Both functions, in the order their lines are merged.
    pub const ALL: [Function; 2] = [Function::Api, Function::Worker];

    /// `api` or `worker`: the binary, the local log file's stem, part of the Lambda name.
    pub fn as_str(self) -> &'static str {
        match self {
            Function::Api => "api",
            Function::Worker => "worker",
        }
    }

    /// The Lambda function's name in a stage (as render::context names it).
    pub fn lambda_name(self, stage: &str) -> String {
        format!("countries-{}-{stage}", self.as_str())
    }

    /// The CloudWatch log group Lambda writes the function's lines to.
    pub fn log_group(self, stage: &str) -> String {
        format!("/aws/lambda/{}", self.lambda_name(stage))
    }

    /// The functions `--function` selects: the one given, or both.
    pub fn selected(choice: Option<Function>) -> Vec<Function> {
        choice.map_or_else(|| Self::ALL.to_vec(), |f| vec![f])
    }
}

/// One log line and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// The function that wrote it.
    pub function: Function,
    /// Milliseconds since the Unix epoch (the line's own `timestamp`, else the store's).
    pub timestamp_ms: i64,
    /// The line as written (normally one JSON object).
    pub raw: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_groups_match_the_rendered_stack() {
        let stack = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/dev/stack.yaml"),
        )
        .expect("generated/dev/stack.yaml");
        for f in Function::ALL {
            assert!(
                stack.contains(&f.log_group("dev")),
                "{}",
                f.log_group("dev")
            );
        }
    }
}
