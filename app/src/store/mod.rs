//! Storage in DynamoDB (DESIGN §2.3), behind one small trait per table.
//!
//! Each trait has one real implementation here; the worker and the API are
//! written against the traits so their logic reads without SDK noise.

pub mod attempts;
pub mod breaker;
pub mod budget;
pub mod countries;
pub mod pending;

use crate::breaker::{BreakerSettings, BreakerState, CallResult, Phase};
use crate::country_code::CountryCode;
use crate::error::Error;
use crate::timestamp::EpochMillis;
use futures::future::BoxFuture;
use serde::Serialize;

/// A stored country: the upstream's document, kept as its exact JSON text so
/// it round-trips byte for byte, and an ETag computed once when stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCountry {
    /// The country code (table key).
    pub code: CountryCode,
    /// The v3.1 document as JSON text.
    pub document: String,
    /// When it was fetched from the upstream.
    pub fetched_at_ms: EpochMillis,
    /// The request that fetched it.
    pub request_id: String,
    /// Strong validator for `If-None-Match` (quoted SHA-256 prefix of `document`).
    pub etag: String,
}

impl StoredCountry {
    /// Builds the stored form of a freshly fetched document.
    pub fn new(code: CountryCode, document: String, fetched_at_ms: EpochMillis, request_id: String) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(document.as_bytes());
        let etag = format!("\"{}\"", hex::encode(&digest[..16]));
        Self { code, document, fetched_at_ms, request_id, etag }
    }
}

/// How one fetch attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Fetched from the upstream and stored.
    Stored,
    /// The stored copy was fresh (`refresh_after`); no upstream call.
    ServedFromStore,
    /// The upstream has no such country: permanent.
    NotFound,
    /// The upstream's document was unusable: permanent.
    Malformed,
    /// The breaker was open: retried later.
    CircuitOpen,
    /// Timeout, connection error, 5xx: retried, counted by the breaker.
    UpstreamError,
    /// 401/403 from the upstream: the key or plan needs fixing; retried.
    ConfigurationError,
    /// Storing the country failed: retried.
    StorageError,
    /// The stage's monthly upstream budget is spent: done, no upstream call,
    /// never counted by the breaker.
    BudgetExhausted,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Stored => "stored",
            Outcome::ServedFromStore => "served_from_store",
            Outcome::NotFound => "not_found",
            Outcome::Malformed => "malformed",
            Outcome::CircuitOpen => "circuit_open",
            Outcome::UpstreamError => "upstream_error",
            Outcome::ConfigurationError => "configuration_error",
            Outcome::StorageError => "storage_error",
            Outcome::BudgetExhausted => "budget_exhausted",
        }
    }

    /// Reads a stored name.
    pub fn from_stored(name: &str) -> Option<Self> {
        [
            Outcome::Stored,
            Outcome::ServedFromStore,
            Outcome::NotFound,
            Outcome::Malformed,
            Outcome::CircuitOpen,
            Outcome::UpstreamError,
            Outcome::ConfigurationError,
            Outcome::StorageError,
            Outcome::BudgetExhausted,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
    }

    /// Whether the request is finished (the message is not retried).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Outcome::Stored | Outcome::ServedFromStore | Outcome::NotFound | Outcome::Malformed | Outcome::BudgetExhausted
        )
    }

    /// Whether the attempt counts as a success for `/status`.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Stored | Outcome::ServedFromStore)
    }
}

/// One fetch attempt, as `/status/{code}` shows it (newest first).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    /// The country.
    pub fetched_country: String,
    /// When the attempt ended (RFC 3339, ms).
    pub timestamp: String,
    /// Whether the country is now stored.
    pub success: bool,
    /// Why it failed; empty on success.
    pub error: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The request this attempt served.
    pub request_id: String,
    /// When the request was accepted by the API.
    pub requested_at: String,
    /// How many times SQS had delivered the message.
    pub receive_count: u32,
    /// Time spent on the attempt.
    pub duration_ms: u64,
    /// The X-Ray trace id of the api call that queued the request (its
    /// `AWSTraceHeader`), when it had one: find the whole request in X-Ray with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "1-5759e988-bd862e3fe1be46a994272793")]
    pub trace_id: Option<String>,
    /// How many other fetch-data requests joined this one while it was
    /// pending (answered 202 with `"coalesced": true` and this request's id);
    /// counted on the row that ended the request, 0 on the others.
    pub coalesced_requests: u32,
    /// Sort key: time, request and delivery, so two attempts never collide.
    #[serde(skip)]
    pub attempt_id: String,
}

/// The `countries-<stage>` table.
pub trait CountryStore: Send + Sync {
    /// Reads a stored country, if any.
    fn get<'a>(&'a self, code: &'a CountryCode) -> BoxFuture<'a, Result<Option<StoredCountry>, Error>>;
    /// Stores (or replaces) a country. Idempotent.
    fn put<'a>(&'a self, country: &'a StoredCountry) -> BoxFuture<'a, Result<(), Error>>;
}

/// The `status-<stage>` table.
pub trait AttemptLog: Send + Sync {
    /// Records one attempt. A final attempt is recorded only if the request
    /// has no final attempt yet; `Ok(false)` says another delivery finished it first.
    fn record<'a>(&'a self, attempt: &'a Attempt) -> BoxFuture<'a, Result<bool, Error>>;
    /// The newest `limit` attempts for a country, newest first.
    fn recent<'a>(&'a self, code: &'a CountryCode, limit: u32) -> BoxFuture<'a, Result<Vec<Attempt>, Error>>;
    /// Whether a request for `code` already reached a final outcome (duplicate delivery).
    fn is_finished<'a>(&'a self, code: &'a CountryCode, request_id: &'a str) -> BoxFuture<'a, Result<bool, Error>>;
}

/// How a fetch-data request stands against the country's pending marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// No fetch was pending: this request is now the pending one and is queued.
    Leader,
    /// A fetch is pending: this request joined it (and was counted) and queues nothing.
    Joined {
        /// The pending request's id.
        request_id: String,
    },
}

/// Whether a forced fetch is honoured now (the per-country cooldown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForceClaim {
    /// True when this request takes the country's forced fetch.
    pub granted: bool,
    /// When the next forced fetch of the country is allowed.
    pub next_allowed_ms: EpochMillis,
}

/// Per-country items of the `status-<stage>` table that keep fetch-data
/// cheap: the pending marker (one fetch per country at a time) and the force
/// cooldown. Both are conditional writes with an expiry; an expired item
/// counts as absent, since DynamoDB's TTL deletes lazily (and the emulator never).
pub trait PendingFetches: Send + Sync {
    /// Joins the country's pending fetch, or becomes it (expiring at `expires_at_ms`).
    fn claim<'a>(&'a self, code: &'a CountryCode, request_id: &'a str, now: EpochMillis, expires_at_ms: EpochMillis) -> BoxFuture<'a, Result<Claim, Error>>;
    /// Clears the marker if it is still `request_id`'s: the request ended.
    /// Returns how many requests joined it.
    fn clear<'a>(&'a self, code: &'a CountryCode, request_id: &'a str, now: EpochMillis) -> BoxFuture<'a, Result<u32, Error>>;
    /// Takes the country's forced fetch unless one was taken less than `cooldown_ms` ago.
    fn claim_force<'a>(&'a self, code: &'a CountryCode, now: EpochMillis, cooldown_ms: i64) -> BoxFuture<'a, Result<ForceClaim, Error>>;
}

/// The stage's monthly upstream budget: one counter item per UTC month in
/// the `status-<stage>` table, spent with a conditional `ADD`.
pub trait UpstreamBudget: Send + Sync {
    /// Calls counted in the month `month` (`2026-11`).
    fn used<'a>(&'a self, month: &'a str) -> BoxFuture<'a, Result<u64, Error>>;
    /// Takes one call from the month's `limit`: the count after it, or
    /// `None` when the budget is spent. Concurrent spenders never overspend.
    fn spend<'a>(&'a self, month: &'a str, limit: u32) -> BoxFuture<'a, Result<Option<u64>, Error>>;
    /// Gives back a unit taken for a call that was not made (the breaker refused it).
    fn refund<'a>(&'a self, month: &'a str) -> BoxFuture<'a, Result<(), Error>>;
}

/// The `circuit-breaker-state-<stage>` table: one row per upstream service,
/// changed only with conditional writes.
pub trait BreakerStore: Send + Sync {
    /// The current shared state (strongly consistent).
    fn load(&self) -> BoxFuture<'_, Result<BreakerState, Error>>;
    /// Tries to claim a trial call after `observed` said [`crate::breaker::Permit::Trial`]:
    /// the half-open period it belongs to (to finish it with), or `None` if
    /// other workers took every slot.
    fn claim_trial(&self, settings: BreakerSettings, observed: BreakerState, now: EpochMillis) -> BoxFuture<'_, Result<Option<EpochMillis>, Error>>;
    /// Counts one ordinary call atomically and opens the breaker when the recent counts trip.
    fn record_call(&self, settings: BreakerSettings, result: CallResult, now: EpochMillis) -> BoxFuture<'_, Result<BreakerState, Error>>;
    /// Ends a trial of the half-open period `period`: a failure reopens the
    /// breaker, the last needed success closes it. Returns the phase this
    /// trial moved it to, or `None` when another trial had already decided.
    fn finish_trial(&self, settings: BreakerSettings, period: EpochMillis, success: bool, now: EpochMillis) -> BoxFuture<'_, Result<Option<Phase>, Error>>;
}
