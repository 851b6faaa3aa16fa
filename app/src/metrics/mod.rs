//! Business metrics in CloudWatch Embedded Metric Format (EMF): each
//! invocation writes at most one JSON line to stdout; CloudWatch Logs turns
//! it into metrics in namespace `Countries` (dimensions `Stage`, `Function`),
//! with no API call and no agent. Locally the same lines land in
//! `.countries/local/logs/`, where `deployer status local --metrics` adds
//! them up.
//!
//! [`list`] is the one list of names, [`emf`] builds a document (pure), and
//! [`Metrics`] writes it: to stdout, or to memory in tests.

pub mod emf;
pub mod list;

pub use emf::Tally;
pub use list::{Function, Metric, Source};

use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Where documents go.
#[derive(Clone)]
enum Sink {
    /// One line each on stdout, as CloudWatch Logs expects.
    Stdout,
    /// Kept in memory (tests).
    Memory(Arc<Mutex<Vec<String>>>),
}

/// Writes one function's documents for one stage.
#[derive(Clone)]
pub struct Metrics {
    stage: Arc<str>,
    function: Function,
    sink: Sink,
}

impl Metrics {
    /// Documents to stdout.
    pub fn stdout(stage: &str, function: Function) -> Self {
        Self { stage: stage.into(), function, sink: Sink::Stdout }
    }

    /// Documents kept in memory; the returned list fills as they are written.
    pub fn memory(stage: &str, function: Function) -> (Self, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (Self { stage: stage.into(), function, sink: Sink::Memory(Arc::clone(&lines)) }, lines)
    }

    /// Writes what `tally` counted as one line, with `properties`; nothing
    /// when it counted nothing.
    pub fn emit(&self, tally: Tally, properties: &[(&'static str, Value)]) {
        let now = crate::timestamp::now_millis();
        let Some(doc) = emf::document(&self.stage, self.function, now, &tally.into_values(), properties) else {
            return;
        };
        let line = doc.to_string();
        match &self.sink {
            Sink::Stdout => {
                // One write of the whole line under stdout's lock: log lines never interleave with it.
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(format!("{line}\n").as_bytes());
                let _ = out.flush();
            }
            Sink::Memory(lines) => lines.lock().unwrap_or_else(|p| p.into_inner()).push(line),
        }
    }
}
