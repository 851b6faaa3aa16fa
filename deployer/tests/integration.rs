//! The deployer's integration tests, in one binary: each file here is a module of
//! it, and cargo-nextest still runs every test in a process of its own. As
//! 35 binaries they took 75 CPU seconds to compile and link; one links the
//! dependencies once.

mod common;

mod alarm_rollback;
mod assume_role_refused;
mod aws_errors;
mod bootstrap;
mod cli;
mod completions;
mod concurrency;
mod deploy;
mod diagnostics;
mod docs;
mod drift;
mod env_contract;
mod examples;
mod golden;
mod logs;
mod metrics_local;
mod multi_account;
mod observability;
mod outputs_usable;
mod package;
mod pipeline;
mod pipeline_tools;
mod plan_markdown;
mod pr_comment;
mod promote;
mod release;
mod release_template;
mod render_check;
mod signed_calls;
mod stage_errors;
mod status_budget;
mod templates;
mod terraform_outputs;
mod throttling;
mod up_local;
mod up_local_watch;
