//! The `deployer` library: everything the binary does, as modules tests and
//! later commands can use.
//!
//! Pure logic (`stage::validate`, `stage::locate`, `render::context`,
//! `outputs::parse`, `plan`, `package::{zip, elf, manifest}`,
//! `deploy::progress`, `logs::format`, `diagnostics`) has no I/O; the edges
//! (`stage::load`, `outputs::read`, `render::write`, `package::build`, `aws`,
//! `local`, `logs::{reader, cloudwatch}`, `commands`) read and write files,
//! run tools or call AWS.

pub mod aws;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod diagnostics;
pub mod env_contract;
pub mod error;
pub mod local;
pub mod logs;
pub mod outputs;
pub mod package;
pub mod plan;
pub mod render;
pub mod session;
pub mod stage;

pub use error::{Error, Result};
