//! [`BreakerStore`] on DynamoDB: the pure transitions of `crate::breaker`
//! applied with conditional writes and `ADD`, so N workers counting at once
//! count exactly N calls and exactly one of them opens the breaker.
//!
//! One caveat, shared by every `ADD` over HTTP: when DynamoDB applies a
//! write but its answer is lost, the SDK's retry (or this module's race loop)
//! can count that call twice. The breaker tolerates a rare extra count; it
//! never loses one.

use super::BreakerStore;
use crate::breaker::{BreakerSettings, BreakerState, CallResult, Counts, Phase};
use crate::error::{Error, sdk_detail};
use crate::sdk::LazyClient;
use crate::timestamp::EpochMillis;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use futures::future::BoxFuture;
use std::collections::HashMap;

/// The shared breaker row of one upstream service.
#[derive(Clone)]
pub struct DynamoBreaker {
    client: LazyClient<Client>,
    table: String,
    service: String,
}

/// How many times a count is retried when other workers keep moving the
/// window underneath it; each retry means someone else's write landed.
const MAX_RACES: usize = 16;

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn state_of(item: Option<&HashMap<String, AttributeValue>>) -> BreakerState {
    let Some(item) = item else { return BreakerState::default() };
    let num = |k: &str| item.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let count = |k: &str| u32::try_from(num(k).max(0)).unwrap_or(u32::MAX);
    BreakerState {
        phase: Phase::from_stored(item.get("phase").and_then(|v| v.as_s().ok()).map_or("closed", String::as_str)),
        window_started_ms: num("window_started_ms"),
        current: Counts { successes: count("successes"), failures: count("failures") },
        previous: Counts { successes: count("prev_successes"), failures: count("prev_failures") },
        opened_at_ms: num("opened_at_ms"),
        trials_claimed: count("trials_claimed"),
        trial_successes: count("trial_successes"),
    }
}

enum Write {
    Done(BreakerState),
    LostRace,
}

/// The counter attribute a call result adds to.
fn counter(result: CallResult) -> &'static str {
    match result {
        CallResult::Success => "successes",
        CallResult::Failure => "failures",
    }
}

impl DynamoBreaker {
    /// Wraps the process's client (made on first use when the SDK is deferred); `service` names the upstream.
    pub fn new(client: impl Into<LazyClient<Client>>, table: impl Into<String>, service: impl Into<String>) -> Self {
        Self { client: client.into(), table: table.into(), service: service.into() }
    }

    async fn update(&self) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client.get().await
            .update_item()
            .table_name(&self.table)
            .key("service_name", AttributeValue::S(self.service.clone()))
            .return_values(ReturnValue::AllNew)
    }

    fn settle(&self, result: Result<UpdateItemOutput, SdkError<UpdateItemError, aws_sdk_dynamodb::config::http::HttpResponse>>) -> Result<Write, Error> {
        match result {
            Ok(out) => Ok(Write::Done(state_of(out.attributes.as_ref()))),
            Err(e) if e.as_service_error().is_some_and(UpdateItemError::is_conditional_check_failed_exception) => {
                Ok(Write::LostRace)
            }
            Err(e) => Err(Error::Storage { operation: "UpdateItem", table: self.table.clone(), detail: sdk_detail(&e) }),
        }
    }

    /// Adds one call to the current window, if it is still current.
    async fn add_to_window(&self, settings: BreakerSettings, result: CallResult, now: EpochMillis) -> Result<Write, Error> {
        let request = self
            .update().await
            .update_expression(format!("ADD {} :one", counter(result)))
            .condition_expression("window_started_ms > :cutoff")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cutoff", n(now - settings.window_ms));
        self.settle(request.send().await)
    }

    /// Starts a new window with this call, if the current one is over. When
    /// it ended less than a window ago its counts move to `prev_*`; an older
    /// one (or none) leaves `prev_*` at zero. Which of the two applies is the
    /// write's condition, so concurrent workers roll a window exactly once.
    async fn start_window(&self, settings: BreakerSettings, result: CallResult, now: EpochMillis, adjacent: bool) -> Result<Write, Error> {
        let (successes, failures) = match result {
            CallResult::Success => (1, 0),
            CallResult::Failure => (0, 1),
        };
        let (previous, condition) = if adjacent {
            (
                "prev_successes = if_not_exists(successes, :zero), prev_failures = if_not_exists(failures, :zero)",
                "window_started_ms <= :cutoff AND window_started_ms > :cutoff2",
            )
        } else {
            (
                "prev_successes = :zero, prev_failures = :zero",
                "attribute_not_exists(service_name) OR attribute_not_exists(window_started_ms) OR window_started_ms <= :cutoff2",
            )
        };
        let mut request = self
            .update().await
            .update_expression(format!(
                "SET {previous}, successes = :successes, failures = :failures, window_started_ms = :now, phase = if_not_exists(phase, :closed)"
            ))
            .condition_expression(condition)
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":successes", n(successes))
            .expression_attribute_values(":failures", n(failures))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":closed", s(Phase::Closed.as_str()))
            .expression_attribute_values(":cutoff2", n(now - 2 * settings.window_ms));
        if adjacent {
            request = request.expression_attribute_values(":cutoff", n(now - settings.window_ms));
        }
        self.settle(request.send().await)
    }

    /// Opens a closed breaker at `now`, if it is still in the window whose
    /// counts tripped it (`window`): only the worker that moves it from closed
    /// stamps the opening time, and a worker that stalled while the breaker
    /// opened and closed again cannot reopen it on cleared counts.
    async fn open(&self, window: EpochMillis, now: EpochMillis) -> Result<BreakerState, Error> {
        let request = self
            .update().await
            .update_expression("SET phase = :open, opened_at_ms = :now, trials_claimed = :zero, trial_successes = :zero")
            .condition_expression("phase = :closed AND window_started_ms = :window")
            .expression_attribute_values(":window", n(window))
            .expression_attribute_values(":open", s(Phase::Open.as_str()))
            .expression_attribute_values(":closed", s(Phase::Closed.as_str()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":zero", n(0));
        match self.settle(request.send().await)? {
            Write::Done(state) => Ok(state),
            Write::LostRace => self.load().await,
        }
    }

    /// Writes `expression` if the row is still in the half-open period that
    /// started at `period`, plus `extra` conditions.
    async fn in_period(&self, period: EpochMillis, expression: &str, extra: &str, values: &[(&str, AttributeValue)]) -> Result<Write, Error> {
        let mut request = self
            .update().await
            .update_expression(expression)
            .condition_expression(format!("phase = :half AND opened_at_ms = :period{extra}"))
            .expression_attribute_values(":half", s(Phase::HalfOpen.as_str()))
            .expression_attribute_values(":period", n(period));
        for (name, value) in values {
            request = request.expression_attribute_values(*name, value.clone());
        }
        self.settle(request.send().await)
    }
}

impl BreakerStore for DynamoBreaker {
    fn load(&self) -> BoxFuture<'_, Result<BreakerState, Error>> {
        Box::pin(async move {
            let out = self
                .client.get().await
                .get_item()
                .table_name(&self.table)
                .key("service_name", AttributeValue::S(self.service.clone()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| Error::Storage { operation: "GetItem", table: self.table.clone(), detail: sdk_detail(&e) })?;
            Ok(state_of(out.item.as_ref()))
        })
    }

    fn claim_trial(&self, settings: BreakerSettings, observed: BreakerState, now: EpochMillis) -> BoxFuture<'_, Result<Option<EpochMillis>, Error>> {
        Box::pin(async move {
            let mut observed = observed;
            if settings.starts_half_open_period(&observed, now) {
                let request = self
                    .update().await
                    .update_expression("SET phase = :half, opened_at_ms = :now, trials_claimed = :one, trial_successes = :zero")
                    .condition_expression("phase = :phase AND opened_at_ms = :opened")
                    .expression_attribute_values(":half", s(Phase::HalfOpen.as_str()))
                    .expression_attribute_values(":now", n(now))
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":zero", n(0))
                    .expression_attribute_values(":phase", s(observed.phase.as_str()))
                    .expression_attribute_values(":opened", n(observed.opened_at_ms));
                if let Write::Done(_) = self.settle(request.send().await)? {
                    return Ok(Some(now));
                }
                // Another worker started the period a moment ago: join it if a slot is left.
                observed = self.load().await?;
                if observed.phase != Phase::HalfOpen || settings.starts_half_open_period(&observed, now) {
                    return Ok(None);
                }
            }
            let claimed = self
                .in_period(
                    observed.opened_at_ms,
                    "ADD trials_claimed :one",
                    // A row an older worker left half-open has no trials_claimed.
                    " AND (attribute_not_exists(trials_claimed) OR trials_claimed < :slots)",
                    &[(":one", n(1)), (":slots", n(i64::from(settings.trial_calls)))],
                )
                .await?;
            Ok(matches!(claimed, Write::Done(_)).then_some(observed.opened_at_ms))
        })
    }

    fn record_call(&self, settings: BreakerSettings, result: CallResult, now: EpochMillis) -> BoxFuture<'_, Result<BreakerState, Error>> {
        Box::pin(async move {
            for _ in 0..MAX_RACES {
                let counted = match self.add_to_window(settings, result, now).await? {
                    Write::Done(state) => state,
                    Write::LostRace => match self.start_window(settings, result, now, true).await? {
                        Write::Done(state) => state,
                        Write::LostRace => match self.start_window(settings, result, now, false).await? {
                            Write::Done(state) => state,
                            Write::LostRace => continue,
                        },
                    },
                };
                if counted.phase == Phase::Closed && settings.trips(settings.recent(&counted, now)) {
                    return self.open(counted.window_started_ms, now).await;
                }
                return Ok(counted);
            }
            Err(Error::Storage {
                operation: "UpdateItem",
                table: self.table.clone(),
                detail: format!("the breaker row kept changing under {MAX_RACES} attempts to count a call"),
            })
        })
    }

    fn finish_trial(&self, settings: BreakerSettings, period: EpochMillis, success: bool, now: EpochMillis) -> BoxFuture<'_, Result<Option<Phase>, Error>> {
        Box::pin(async move {
            if !success {
                let reopened = self
                    .in_period(
                        period,
                        "SET phase = :open, opened_at_ms = :now, trials_claimed = :zero, trial_successes = :zero",
                        "",
                        &[(":open", s(Phase::Open.as_str())), (":now", n(now)), (":zero", n(0))],
                    )
                    .await?;
                return Ok(matches!(reopened, Write::Done(_)).then_some(Phase::Open));
            }
            let Write::Done(state) = self.in_period(period, "ADD trial_successes :one", "", &[(":one", n(1))]).await? else {
                return Ok(None); // another trial already decided this period
            };
            if state.trial_successes < settings.trial_calls {
                return Ok(Some(Phase::HalfOpen));
            }
            let closed = self
                .in_period(
                    period,
                    "SET phase = :closed, opened_at_ms = :zero, window_started_ms = :zero, successes = :zero, failures = :zero, \
                     prev_successes = :zero, prev_failures = :zero, trials_claimed = :zero, trial_successes = :zero",
                    " AND trial_successes >= :needed",
                    &[(":closed", s(Phase::Closed.as_str())), (":zero", n(0)), (":needed", n(i64::from(settings.trial_calls)))],
                )
                .await?;
            Ok(matches!(closed, Write::Done(_)).then_some(Phase::Closed))
        })
    }
}
