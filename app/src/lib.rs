//! The countries service: an HTTP API and an SQS worker that run inside AWS
//! Lambda or as local processes, storing REST Countries data in DynamoDB.
//!
//! Pure logic (codes, messages, the breaker, configuration, the v5 mapping)
//! lives in plain modules; AWS and HTTP sit at the edges behind small traits
//! (`store`, `queue`, `upstream`), each with one real implementation.

pub mod api;
pub mod breaker;
pub mod config;
pub mod country_code;
pub mod error;
pub mod guard;
pub mod logging;
pub mod message;
pub mod metrics;
pub mod offline_upstream;
pub mod queue;
pub mod sdk;
pub mod setup;
pub mod shutdown;
pub mod store;
pub mod timestamp;
pub mod trace;
pub mod untrusted;
pub mod upstream;
pub mod worker;
