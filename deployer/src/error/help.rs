//! An error's exit class and hint, which every area's error type gives.

/// What kind of failure an error is, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// A check ran and failed (a build, a deploy, a smoke test): exit 1.
    Failed,
    /// The input or the set-up is wrong (usage, configuration, a missing tool): exit 2.
    Usage,
}

/// An error's exit class and the one line telling the user what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help {
    /// Decides the exit code.
    pub class: ExitClass,
    /// Printed after `hint: `.
    pub hint: String,
}

impl Help {
    /// Pairs a class with its hint.
    pub fn new(class: ExitClass, hint: String) -> Self {
        Help { class, hint }
    }
}
