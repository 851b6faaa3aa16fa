//! The deploy engine shared by `plan`, `up` and `up local`: gather the
//! inputs (outputs, render, package), build the plan (a change set, kept),
//! and execute it (upload, execute, follow the stack).
//!
//! `plan` and `up` call the same `prepare`; `plan` then discards the change
//! set, `up` executes it. The AWS calls go through the traits in `aws`.

pub mod change_set;
pub mod concurrency;
pub mod engine;
pub mod execute;
pub mod follow;
pub mod gather;
pub mod names;
pub mod policy;
pub mod progress;
pub mod promotion;
pub mod rollback;
pub mod smoke;
pub mod stack_state;
pub mod triggers;

pub use change_set::{discard, prepare};
pub use execute::execute;
pub use follow::follow;
pub use gather::{Deployment, rendered_stack};
pub use names::{now_rfc3339, stack_name, tags};
pub use stack_state::{Deployed, change_set_type_for, deployed};
