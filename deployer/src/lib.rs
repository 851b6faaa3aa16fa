//! The `deployer` library: everything the binary does, as modules tests and
//! later commands can use.
//!
//! Pure logic (`stage::{validate, rules, locate}`, `env_contract`,
//! `render::{context, dashboard}`, `metrics::{list, local}`, `outputs::{parse, inspect}`, `plan`,
//! `package::{zip, elf, manifest}`, `deploy::{policy, stack_state,
//! progress}`, `logs::format`, `diagnostics`) has no I/O; the edges
//! (`stage::load`, `outputs::read`, `render::write`, `package::build`, `aws`,
//! `deploy::engine`, `local`, `logs::{reader, cloudwatch}`, `metrics::cloudwatch`) read and write
//! files, run tools or call AWS. `session` holds what every command shares;
//! `commands` drives the rest, and nothing imports `commands`. Errors are by
//! area in `error`.

pub mod aws;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod diagnostics;
pub mod env_contract;
pub mod error;
pub mod github;
pub mod local;
pub mod logs;
pub mod metrics;
pub mod outputs;
pub mod package;
pub mod plan;
pub mod render;
pub mod session;
pub mod stage;

pub use error::{Error, Result};
