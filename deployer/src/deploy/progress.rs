//! Following a stack while CloudFormation works: one line per stack event,
//! under a live spinner when stderr is a terminal (indicatif), plain lines
//! otherwise. Formatting and status classification are pure.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::aws::cloudformation::StackEvent;

/// One event as a line: time, status, logical id, type, reason.
pub fn event_line(e: &StackEvent) -> String {
    // `2026-11-28T04:45:20.123Z` -> `04:45:20`
    let time = e
        .timestamp
        .split('T')
        .nth(1)
        .map(|t| t.chars().take(8).collect::<String>())
        .unwrap_or_default();
    let mut line = format!(
        "{time}  {:<28} {:<28} {}",
        e.status, e.logical_id, e.resource_type
    );
    if let Some(reason) = e.reason.as_deref().filter(|r| !r.is_empty()) {
        line.push_str(&format!("  ({reason})"));
    }
    line
}

/// True while CloudFormation is still working on the stack.
pub fn in_progress(status: &str) -> bool {
    status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS"
}

/// True when a finished operation succeeded (a rollback is a failure).
pub fn succeeded(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

/// True for an event that reports a failure.
pub fn is_failure(event: &StackEvent) -> bool {
    event.status.ends_with("_FAILED")
}

/// Where progress goes: a spinner on a terminal, plain lines otherwise.
pub struct Display {
    bar: Option<ProgressBar>,
}

impl Display {
    /// A live display when stderr is a terminal and `plain` is false.
    pub fn new(plain: bool) -> Self {
        let bar = (!plain && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Display { bar }
    }

    /// Prints a line (above the spinner when there is one).
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Sets the spinner's message (no-op in plain mode).
    pub fn status(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(text.to_string());
        }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            id: "1".into(),
            timestamp: "2026-11-28T04:45:20.123Z".into(),
            logical_id: "CountriesTable".into(),
            resource_type: "AWS::DynamoDB::Table".into(),
            status: status.into(),
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn lines_show_time_status_and_reason() {
        let line = event_line(&event("CREATE_FAILED", Some("Table already exists")));
        assert!(line.starts_with("04:45:20  CREATE_FAILED"), "{line}");
        assert!(
            line.ends_with("AWS::DynamoDB::Table  (Table already exists)"),
            "{line}"
        );
        assert!(is_failure(&event("CREATE_FAILED", None)));
    }

    #[test]
    fn statuses() {
        assert!(in_progress("UPDATE_ROLLBACK_IN_PROGRESS"));
        assert!(!in_progress("REVIEW_IN_PROGRESS"));
        assert!(succeeded("UPDATE_COMPLETE"));
        assert!(!succeeded("UPDATE_ROLLBACK_COMPLETE"));
        assert!(!succeeded("ROLLBACK_COMPLETE"));
    }
}
