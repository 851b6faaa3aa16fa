//! CloudFormation: stacks, change sets, events and resources.
//!
//! `Stacks` is what the deployer needs from CloudFormation, in its own
//! types; `CloudFormation` is the one implementation (aws-sdk-cloudformation).

use std::collections::BTreeMap;

use crate::error::Result;

mod client;
pub mod drift;
pub use client::CloudFormation;

/// A stack as DescribeStacks reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackInfo {
    /// The stack's ARN.
    pub id: String,
    /// `countries-<stage>`.
    pub name: String,
    /// e.g. `UPDATE_COMPLETE`.
    pub status: String,
    /// Why it is in that status, if CloudFormation says.
    pub status_reason: Option<String>,
    /// Parameter values.
    pub parameters: BTreeMap<String, String>,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// Outputs (the emulator has none after a change-set create).
    pub outputs: BTreeMap<String, String>,
    /// Last update (or creation) time, RFC 3339.
    pub updated_at: Option<String>,
}

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChange {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    /// The template's logical id.
    pub logical_id: String,
    /// e.g. `AWS::Lambda::Function`.
    pub resource_type: String,
    /// `True`, `False`, `Conditional` for Modify (the emulator never says).
    pub replacement: Option<String>,
    /// What changes: `Properties`, `Tags`, ...
    pub scope: Vec<String>,
}

/// A change set's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetInfo {
    /// `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `FAILED`, ...
    pub status: String,
    /// Why it failed, if it did.
    pub reason: Option<String>,
    /// The resource changes (all pages).
    pub changes: Vec<RawChange>,
}

/// A stack event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    /// Unique id.
    pub id: String,
    /// RFC 3339 time.
    pub timestamp: String,
    /// Logical id (the stack's name for stack-level events).
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// e.g. `CREATE_FAILED`.
    pub status: String,
    /// CloudFormation's reason, for failures.
    pub reason: Option<String>,
}

/// A stack resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    /// Logical id.
    pub logical_id: String,
    /// Physical id: a table's name, a queue's URL, a function's name.
    pub physical_id: Option<String>,
    /// Resource type.
    pub resource_type: String,
    /// e.g. `CREATE_COMPLETE`.
    pub status: String,
}

/// Everything a change set needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetRequest {
    /// The stack.
    pub stack_name: String,
    /// A unique name for the change set.
    pub change_set_name: String,
    /// CREATE for a new stack, UPDATE otherwise.
    pub create: bool,
    /// The template body.
    pub template: String,
    /// Parameter values.
    pub parameters: BTreeMap<String, String>,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// The role CloudFormation assumes (cloud stages).
    pub role_arn: Option<String>,
    /// Rollback triggers (alarm ARNs) and the monitoring window in minutes; none
    /// leaves the stack's own configuration (the local stage).
    pub rollback: Option<(Vec<String>, u32)>,
}

/// What CreateChangeSet answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The change set's id.
    ChangeSet(String),
    /// CloudFormation (or the emulator) says there is nothing to change.
    NoChanges,
}

/// The CloudFormation operations the deployer uses.
#[allow(async_fn_in_trait)]
pub trait Stacks {
    /// The stack, or none when it does not exist.
    async fn describe_stack(&self, name: &str) -> Result<Option<StackInfo>>;
    /// The deployed template's body.
    async fn template(&self, name: &str) -> Result<String>;
    /// Creates a change set.
    async fn create_change_set(&self, request: &ChangeSetRequest) -> Result<Created>;
    /// Describes a change set (every page of changes).
    async fn describe_change_set(&self, id: &str) -> Result<ChangeSetInfo>;
    /// Waits until the change set is created (or failed) and describes it; fails
    /// with `ChangeSetTimeout` after `deadline`.
    async fn wait_change_set(
        &self,
        stack: &str,
        id: &str,
        deadline: std::time::Duration,
    ) -> Result<ChangeSetInfo>;
    /// Executes a change set.
    async fn execute_change_set(&self, id: &str) -> Result<()>;
    /// Deletes a change set.
    async fn delete_change_set(&self, id: &str) -> Result<()>;
    /// The stack's events, newest first, stopping at `after_id` (exclusive) if given.
    async fn events(&self, stack: &str, after_id: Option<&str>) -> Result<Vec<StackEvent>>;
    /// The stack's resources.
    async fn resources(&self, stack: &str) -> Result<Vec<StackResource>>;
    /// Deletes the stack (as `role_arn` when given).
    async fn delete_stack(&self, stack: &str, role_arn: Option<&str>) -> Result<()>;
}

/// True when an error message is CloudFormation's (or the emulator's) "nothing changed".
pub fn is_no_changes(message: &str) -> bool {
    message.contains("didn't contain changes")
        || message.contains("No updates are to be performed")
        || message.contains("does not contain changes")
}
