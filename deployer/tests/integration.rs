//! The deployer's integration tests, in one test binary: each file here is a module of it, and
//! cargo-nextest still runs every test in a process of its own. One binary
//! links the dependencies once instead of once per file (35 files: about 60 CPU seconds of every fresh build).

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
mod stage_errors;
mod status_budget;
mod templates;
mod terraform_outputs;
mod throttling;
mod up_local;
mod up_local_watch;
