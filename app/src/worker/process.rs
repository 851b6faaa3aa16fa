//! What happens to one fetch request, in Lambda and locally alike.
//!
//! Every delivery ends in exactly one recorded attempt and a disposition:
//! `Done` (the message is deleted) only once the outcome is final and
//! recorded; anything else is `Retry`, so SQS delivers it again and, after
//! `maxReceiveCount`, moves it to the dead-letter queue. Nothing is lost.
//!
//! A request's end (a final outcome, or the last receive before the
//! dead-letter queue) clears the country's pending marker, so the next
//! fetch-data queues again; the requests that joined it are counted on that
//! row. Each upstream call first takes a unit of the monthly budget.

use crate::breaker::{BreakerSettings, CallResult, Permit, Phase};
use crate::country_code::CountryCode;
use crate::error::{Error, UpstreamFailure};
use crate::guard::{self, Budget};
use crate::message::FetchRequest;
use crate::metrics::{Metric, Metrics, Tally};
use crate::store::attempts::attempt_id;
use crate::store::{Attempt, AttemptLog, BreakerStore, CountryStore, Outcome, PendingFetches, StoredCountry, UpstreamBudget};
use crate::timestamp::{self, EpochMillis};
use crate::trace::TraceHeader;
use crate::upstream::CountrySource;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// One SQS delivery of a message.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// SQS message id (the batch item identifier).
    pub message_id: String,
    /// The message body.
    pub body: String,
    /// `ApproximateReceiveCount`: 1 on the first delivery.
    pub receive_count: u32,
    /// The `AWSTraceHeader` system attribute: the trace of the api call that queued it.
    pub trace_header: Option<String>,
}

/// What to do with a delivery once handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Final and recorded: delete the message.
    Done,
    /// Report as a batch item failure: SQS delivers it again.
    Retry,
}

/// The per-message flow and the edges it needs.
#[derive(Clone)]
pub struct Worker {
    /// The countries table.
    pub countries: Arc<dyn CountryStore>,
    /// The status table.
    pub attempts: Arc<dyn AttemptLog>,
    /// The shared breaker row.
    pub breaker: Arc<dyn BreakerStore>,
    /// The countries' pending markers (status table).
    pub pending: Arc<dyn PendingFetches>,
    /// The monthly upstream budget's counters (status table).
    pub budget: Arc<dyn UpstreamBudget>,
    /// The upstream provider.
    pub upstream: Arc<dyn CountrySource>,
    /// Breaker settings.
    pub breaker_settings: BreakerSettings,
    /// Freshness limit for stored countries, in ms.
    pub refresh_after_ms: i64,
    /// Writes one metrics line per batch.
    pub metrics: Metrics,
    /// Upstream calls allowed per UTC month.
    pub budget_limit: Budget,
    /// The queue's `maxReceiveCount`: a retried delivery with this receive count is dead-lettered.
    pub max_receive_count: u32,
    /// The stage, on the budget's log line (the `UpstreamBudgetUsed` metric's dimension).
    pub stage: String,
}

/// Whether this call is an ordinary one or a trial of the half-open
/// period that started at the given time.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Call {
    Normal,
    Trial(EpochMillis),
}

impl Worker {
    /// Handles a batch concurrently; returns the message ids to retry.
    /// Writes one metrics line for the whole batch.
    pub async fn handle_batch(&self, deliveries: Vec<Delivery>) -> Vec<String> {
        let tally = Tally::default();
        let messages = deliveries.len();
        let handled = futures::future::join_all(deliveries.into_iter().map(|d| {
            let tally = &tally;
            async move {
                let disposition = self.handle_counted(&d, tally).await;
                (d.message_id, disposition)
            }
        }))
        .await;
        self.metrics.emit(tally, &[("messages", messages.into())]);
        handled.into_iter().filter(|(_, d)| *d == Disposition::Retry).map(|(id, _)| id).collect()
    }

    /// Handles one delivery (a batch of one, with its own metrics line).
    pub async fn handle(&self, delivery: &Delivery) -> Disposition {
        let tally = Tally::default();
        let disposition = self.handle_counted(delivery, &tally).await;
        self.metrics.emit(tally, &[("messages", 1.into())]);
        disposition
    }

    /// Handles one delivery, counting what happened into `tally`.
    async fn handle_counted(&self, delivery: &Delivery, tally: &Tally) -> Disposition {
        let (request, code) = match FetchRequest::parse(&delivery.body, &delivery.message_id) {
            Ok(parsed) => parsed,
            Err(e) => {
                // Left to reach the dead-letter queue, where a person can see it.
                tracing::error!(message_id = %delivery.message_id, error = %e, "unreadable message; it will go to the dead-letter queue");
                return Disposition::Retry;
            }
        };
        let trace_id = delivery.trace_header.as_deref().and_then(TraceHeader::parse).map(|t| t.trace_id().to_string());
        let span = tracing::info_span!("fetch", request_id = %request.request_id, code = %code, receive_count = delivery.receive_count, trace_id = tracing::field::Empty);
        if let Some(id) = &trace_id {
            span.record("trace_id", id.as_str());
        }
        self.handle_request(&request, &code, delivery.receive_count, trace_id, tally).instrument(span).await
    }

    async fn handle_request(&self, request: &FetchRequest, code: &CountryCode, receive_count: u32, trace_id: Option<String>, tally: &Tally) -> Disposition {
        let started = Instant::now();
        match self.attempts.is_finished(code, &request.request_id).await {
            Ok(true) => {
                tracing::info!("duplicate delivery of a finished request; nothing to do");
                // An earlier delivery may have recorded the end but not cleared the marker.
                self.clear_pending(code, &request.request_id).await;
                return Disposition::Done;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not check for a duplicate delivery; processing it"),
        }
        let (outcome, error) = self.attempt(request, code, tally).await;
        // The request ends here: final, or retried into the dead-letter queue.
        let ends = outcome.is_final() || receive_count >= self.max_receive_count;
        let coalesced_requests = if ends { self.clear_pending(code, &request.request_id).await } else { 0 };
        let now = timestamp::now_millis();
        let stamp = timestamp::format_millis(now);
        let attempt = Attempt {
            fetched_country: code.to_string(),
            attempt_id: attempt_id(&stamp, &request.request_id, receive_count),
            timestamp: stamp,
            success: outcome.is_success(),
            error,
            outcome,
            request_id: request.request_id.clone(),
            requested_at: request.requested_at.clone(),
            receive_count,
            duration_ms: started.elapsed().as_millis() as u64,
            coalesced_requests,
            trace_id,
        };
        match self.attempts.record(&attempt).await {
            Ok(true) => tally.count(outcome_metric(outcome)),
            Ok(false) => {
                tracing::info!(outcome = outcome.as_str(), "another delivery of this request finished first; nothing recorded");
                return Disposition::Done;
            }
            Err(e) => {
                tracing::error!(error = %e, outcome = outcome.as_str(), "could not record the attempt; the message will be retried");
                return Disposition::Retry;
            }
        }
        tracing::info!(outcome = outcome.as_str(), error = %attempt.error, duration_ms = attempt.duration_ms, coalesced_requests, "attempt recorded");
        if outcome.is_final() { Disposition::Done } else { Disposition::Retry }
    }

    /// Runs the attempt and says how it ended (and why, when it failed).
    async fn attempt(&self, request: &FetchRequest, code: &CountryCode, tally: &Tally) -> (Outcome, String) {
        if !request.force {
            match self.countries.get(code).await {
                Ok(Some(stored)) if timestamp::now_millis() - stored.fetched_at_ms < self.refresh_after_ms => {
                    return (Outcome::ServedFromStore, String::new());
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not check the stored copy; fetching"),
            }
        }
        let month = guard::budget_month(timestamp::now_millis());
        if let Err(refused) = self.spend_budget(&month).await {
            return refused;
        }
        let call = match self.permit(tally).await {
            Ok(call) => call,
            Err(retry_at) => {
                if self.budget_limit != Budget::Unlimited
                    && let Err(e) = self.budget.refund(&month.key).await
                {
                    tracing::warn!(error = %e, "could not give back the budget unit of a call the breaker refused");
                }
                let at = timestamp::format_millis(retry_at);
                return (Outcome::CircuitOpen, format!("circuit open: the upstream failed repeatedly; retrying after {at}"));
            }
        };
        let called = Instant::now();
        let fetched = self.upstream.fetch(code).await;
        tally.observe(Metric::UpstreamLatency, called.elapsed().as_secs_f64() * 1000.0);
        self.update_breaker(call, &fetched, tally).await;
        match fetched {
            Ok(document) => {
                let stored = StoredCountry::new(
                    code.clone(),
                    document.to_string(),
                    timestamp::now_millis(),
                    request.request_id.clone(),
                );
                match self.countries.put(&stored).await {
                    Ok(()) => (Outcome::Stored, String::new()),
                    Err(e) => (Outcome::StorageError, e.to_string()),
                }
            }
            Err(Error::Upstream { kind, detail }) => {
                let outcome = match kind {
                    UpstreamFailure::NotFound => Outcome::NotFound,
                    UpstreamFailure::Malformed => Outcome::Malformed,
                    UpstreamFailure::Transient => Outcome::UpstreamError,
                    UpstreamFailure::Rejected => {
                        tracing::error!(detail = %detail, "CONFIGURATION: the upstream rejected the API key or plan; fix the stage's key parameter");
                        Outcome::ConfigurationError
                    }
                };
                (outcome, detail)
            }
            Err(other) => (Outcome::UpstreamError, other.to_string()),
        }
    }

    /// Takes a unit of the month's upstream budget; `Err` is how the attempt
    /// ends without a call: spent (final), or the counter cannot be written (retried).
    async fn spend_budget(&self, month: &guard::BudgetMonth) -> Result<(), (Outcome, String)> {
        let Budget::Monthly(limit) = self.budget_limit else { return Ok(()) };
        match self.budget.spend(&month.key, limit).await {
            Ok(Some(used)) => {
                // The UpstreamBudgetUsed metric (and its 80 % alarm) is read from this line.
                tracing::info!(stage = %self.stage, budget_used = used, budget_limit = limit, month = %month.key, "upstream budget unit spent");
                Ok(())
            }
            Ok(None) => {
                let resets = timestamp::format_millis(month.resets_at_ms);
                tracing::warn!(budget_limit = limit, month = %month.key, "the monthly upstream budget is spent; no upstream call");
                Err((Outcome::BudgetExhausted, format!("the monthly upstream budget ({limit} calls) is spent; it resets at {resets}")))
            }
            Err(e) => Err((Outcome::StorageError, format!("could not take a unit of the monthly upstream budget: {e}"))),
        }
    }

    /// Clears the country's pending marker if it is this request's; returns
    /// how many requests joined it. A failure only delays the next fetch
    /// until the marker expires.
    async fn clear_pending(&self, code: &CountryCode, request_id: &str) -> u32 {
        match self.pending.clear(code, request_id, timestamp::now_millis()).await {
            Ok(joined) => joined,
            Err(e) => {
                tracing::warn!(error = %e, "could not clear the pending marker; it expires by itself");
                0
            }
        }
    }

    /// Asks the shared breaker; `Err(retry_at)` when the call must not be made.
    async fn permit(&self, tally: &Tally) -> Result<Call, EpochMillis> {
        let state = match self.breaker.load().await {
            Ok(state) => state,
            Err(e) => {
                // The breaker protects the upstream; it must not stop fetching when its own table is down.
                tracing::warn!(error = %e, "could not read the circuit breaker; calling the upstream");
                return Ok(Call::Normal);
            }
        };
        let now = timestamp::now_millis();
        match self.breaker_settings.permit(&state, now) {
            Permit::Allow => Ok(Call::Normal),
            Permit::Trial => match self.breaker.claim_trial(self.breaker_settings, state, now).await {
                Ok(Some(period)) => {
                    tally.count(Metric::BreakerTrial);
                    tracing::info!("circuit half-open: this call is a trial");
                    Ok(Call::Trial(period))
                }
                Ok(None) => Err(now + self.breaker_settings.window_ms),
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim a trial call of the breaker");
                    Err(now + self.breaker_settings.window_ms)
                }
            },
            Permit::Refuse { retry_at_ms } => Err(retry_at_ms),
        }
    }

    /// Counts the call's result (successes and transient failures); a
    /// trial's result closes or reopens the breaker.
    async fn update_breaker(&self, call: Call, fetched: &Result<serde_json::Value, Error>, tally: &Tally) {
        let result = match fetched {
            Ok(_) => Some(CallResult::Success),
            // The upstream answered (a 404, garbage): it is up.
            Err(Error::Upstream { kind, .. }) if kind.counts_against_breaker() => Some(CallResult::Failure),
            // A refused key says nothing about the upstream's health.
            Err(Error::Upstream { kind: UpstreamFailure::Rejected, .. }) => None,
            Err(Error::Upstream { .. }) => Some(CallResult::Success),
            Err(_) => Some(CallResult::Failure),
        };
        let now = timestamp::now_millis();
        let settings = self.breaker_settings;
        match (call, result) {
            (Call::Trial(period), result) => {
                // A trial ends either way: a refused key means the upstream
                // answered (the key problem is logged as a configuration error).
                let success = result != Some(CallResult::Failure);
                match self.breaker.finish_trial(settings, period, success, now).await {
                    Ok(Some(Phase::Open)) => {
                        tally.count(Metric::BreakerOpened);
                        tracing::warn!("circuit reopened: a trial call failed; upstream calls stop for another window");
                    }
                    Ok(Some(Phase::Closed)) => {
                        tally.count(Metric::BreakerClosed);
                        tracing::info!("circuit closed: the trial calls succeeded");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not update the circuit breaker"),
                }
            }
            (Call::Normal, Some(result)) => match self.breaker.record_call(settings, result, now).await {
                Ok(state) if state.phase == Phase::Open && state.opened_at_ms == now => {
                    tally.count(Metric::BreakerOpened);
                    let recent = settings.recent(&state, now);
                    tracing::warn!(
                        failures = recent.failures,
                        calls = recent.calls(),
                        "circuit open: too many recent upstream calls failed; upstream calls stop for one window"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not update the circuit breaker"),
            },
            (Call::Normal, None) => {}
        }
    }
}

/// The metric that counts an outcome: one per outcome, so a new outcome does
/// not compile until it has one (add it to `metrics::list`).
pub fn outcome_metric(outcome: Outcome) -> Metric {
    match outcome {
        Outcome::Stored => Metric::FetchStored,
        Outcome::ServedFromStore => Metric::FetchServedFromStore,
        Outcome::NotFound => Metric::FetchNotFound,
        Outcome::Malformed => Metric::FetchMalformed,
        Outcome::CircuitOpen => Metric::FetchCircuitOpen,
        Outcome::UpstreamError => Metric::FetchUpstreamError,
        Outcome::ConfigurationError => Metric::FetchConfigurationError,
        Outcome::StorageError => Metric::FetchStorageError,
        Outcome::BudgetExhausted => Metric::FetchBudgetExhausted,
    }
}
