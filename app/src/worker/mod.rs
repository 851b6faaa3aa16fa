//! The queue worker (DESIGN §2.2): one per-message flow ([`process`]),
//! driven by Lambda's SQS events ([`lambda`]) or by long polling locally
//! ([`poll`]); [`redrive`] moves dead letters back.

pub mod lambda;
pub mod poll;
pub mod process;
pub mod redrive;

pub use process::{Delivery, Disposition, Worker};
