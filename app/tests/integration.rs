//! The functions' integration tests, in one binary: each file here is a module of
//! it, and cargo-nextest still runs every test in a process of its own. As
//! 12 binaries they took 68 CPU seconds to compile and link; one links the
//! dependencies once.

mod support;

mod api_contract;
mod circuit_breaker;
mod failure_paths;
mod fault_injection;
mod fetch_guards;
mod input_properties;
mod lambda_runtime;
mod metrics;
mod offline_upstream_cli;
mod openapi;
mod redrive;
mod round_trip;
