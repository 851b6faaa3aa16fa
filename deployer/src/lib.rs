//! The `deployer` library: everything the binary does, as modules tests and
//! later commands can use.
//!
//! Pure logic (`stage::validate`, `stage::locate`, `render::context`,
//! `outputs::parse`) has no I/O; the edges (`stage::load`, `outputs::read`,
//! `render::write`, `commands`) read and write files or run tools.

pub mod cli;
pub mod commands;
pub mod error;
pub mod outputs;
pub mod render;
pub mod stage;

pub use error::{Error, Result};
