//! [`BreakerStore`] on DynamoDB: the pure transitions of `crate::breaker`
//! applied with conditional writes and `ADD`, so N workers failing at once
//! count exactly N failures and exactly one of them opens the breaker.

use super::BreakerStore;
use crate::breaker::{BreakerSettings, BreakerState, Phase};
use crate::error::{Error, sdk_detail};
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
    client: Client,
    table: String,
    service: String,
}

/// How many times a failure count is retried when other workers keep
/// moving the window underneath it; each retry means someone else succeeded.
const MAX_RACES: usize = 16;

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn state_of(item: Option<&HashMap<String, AttributeValue>>) -> BreakerState {
    let Some(item) = item else { return BreakerState::default() };
    let num = |k: &str| item.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    BreakerState {
        phase: Phase::from_stored(item.get("phase").and_then(|v| v.as_s().ok()).map_or("closed", String::as_str)),
        failures: u32::try_from(num("failures")).unwrap_or(u32::MAX),
        window_started_ms: num("window_started_ms"),
        opened_at_ms: num("opened_at_ms"),
    }
}

enum Write {
    Done(BreakerState),
    LostRace,
}

impl DynamoBreaker {
    /// Wraps a client built once per process; `service` names the upstream.
    pub fn new(client: Client, table: impl Into<String>, service: impl Into<String>) -> Self {
        Self { client, table: table.into(), service: service.into() }
    }

    fn update(&self) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
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

    /// Adds one to the count of the current window, if it is still current.
    async fn add_to_window(&self, settings: BreakerSettings, now: EpochMillis) -> Result<Write, Error> {
        let result = self
            .update()
            .update_expression("ADD failures :one")
            .condition_expression("window_started_ms > :cutoff")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cutoff", n(now - settings.window_ms))
            .send()
            .await;
        self.settle(result)
    }

    /// Starts a new window with this failure, if the old one is over (or absent).
    async fn start_window(&self, settings: BreakerSettings, now: EpochMillis) -> Result<Write, Error> {
        let result = self
            .update()
            .update_expression("SET failures = :one, window_started_ms = :now, phase = if_not_exists(phase, :closed)")
            .condition_expression("attribute_not_exists(service_name) OR window_started_ms <= :cutoff")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":closed", AttributeValue::S(Phase::Closed.as_str().into()))
            .expression_attribute_values(":cutoff", n(now - settings.window_ms))
            .send()
            .await;
        self.settle(result)
    }

    /// Moves the phase from `from` to `to`, stamping `opened_at_ms`; a close
    /// also clears the count. Leaves the count alone otherwise, so a failure
    /// added concurrently is never overwritten.
    async fn transition(&self, from: Phase, to: Phase, opened_at: EpochMillis) -> Result<Write, Error> {
        let expression = if to == Phase::Closed {
            "SET phase = :to, opened_at_ms = :opened, failures = :zero, window_started_ms = :zero"
        } else {
            "SET phase = :to, opened_at_ms = :opened"
        };
        let mut request = self
            .update()
            .update_expression(expression)
            .condition_expression("phase = :from")
            .expression_attribute_values(":to", AttributeValue::S(to.as_str().into()))
            .expression_attribute_values(":from", AttributeValue::S(from.as_str().into()))
            .expression_attribute_values(":opened", n(opened_at));
        if to == Phase::Closed {
            request = request.expression_attribute_values(":zero", n(0));
        }
        self.settle(request.send().await)
    }
}

impl BreakerStore for DynamoBreaker {
    fn load(&self) -> BoxFuture<'_, Result<BreakerState, Error>> {
        Box::pin(async move {
            let out = self
                .client
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

    fn claim_trial(&self, observed: BreakerState, now: EpochMillis) -> BoxFuture<'_, Result<bool, Error>> {
        Box::pin(async move {
            let result = self
                .update()
                .update_expression("SET phase = :half, opened_at_ms = :now")
                .condition_expression("phase = :phase AND opened_at_ms = :opened")
                .expression_attribute_values(":half", AttributeValue::S(Phase::HalfOpen.as_str().into()))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":phase", AttributeValue::S(observed.phase.as_str().into()))
                .expression_attribute_values(":opened", n(observed.opened_at_ms))
                .send()
                .await;
            Ok(matches!(self.settle(result)?, Write::Done(_)))
        })
    }

    fn record_failure(&self, settings: BreakerSettings, now: EpochMillis) -> BoxFuture<'_, Result<BreakerState, Error>> {
        Box::pin(async move {
            for _ in 0..MAX_RACES {
                let counted = match self.add_to_window(settings, now).await? {
                    Write::Done(state) => state,
                    Write::LostRace => match self.start_window(settings, now).await? {
                        Write::Done(state) => state,
                        Write::LostRace => continue,
                    },
                };
                if counted.phase == Phase::Closed && settings.trips(counted.failures) {
                    // Only the worker that moves it from closed stamps the opening time.
                    return Ok(match self.transition(Phase::Closed, Phase::Open, now).await? {
                        Write::Done(state) => state,
                        Write::LostRace => self.load().await?,
                    });
                }
                return Ok(counted);
            }
            Err(Error::Storage {
                operation: "UpdateItem",
                table: self.table.clone(),
                detail: format!("the breaker row kept changing under {MAX_RACES} attempts to count a failure"),
            })
        })
    }

    fn finish_trial(&self, success: bool, now: EpochMillis) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            let to = if success { Phase::Closed } else { Phase::Open };
            self.transition(Phase::HalfOpen, to, if success { 0 } else { now }).await?;
            Ok(())
        })
    }
}
