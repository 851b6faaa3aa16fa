//! The functions' integration tests, in one test binary: each file here is a module of it, and
//! cargo-nextest still runs every test in a process of its own. One binary
//! links the dependencies once instead of once per file (12 files: about 50 CPU seconds of every fresh build).

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
