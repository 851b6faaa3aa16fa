//! fetch-data past its input checks (DESIGN §6): the monthly upstream budget,
//! one pending fetch per country (coalescing), the force cooldown, then the
//! queue. Each guard is one DynamoDB call on the status table; a guard whose
//! table cannot be read lets the request through (logged), because the
//! worker still enforces the budget before any upstream call.

use super::ApiState;
use super::error::ApiError;
use super::schema::FetchAccepted;
use crate::country_code::CountryCode;
use crate::guard::{self, Budget};
use crate::message::FetchRequest;
use crate::store::Claim;
use crate::timestamp::{self, EpochMillis};
use crate::trace::TraceHeader;
use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Queues a fetch of `code` (carrying the request's trace), or answers why
/// not (joined, or the budget is spent).
pub(super) async fn accept(state: &ApiState, code: &CountryCode, force: bool, trace: Option<&TraceHeader>) -> Result<Response, ApiError> {
    let now = timestamp::now_millis();
    if let Some(spent) = budget_spent(state, code, now).await {
        return Ok(spent);
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let status_url = format!("/status/{code}");
    let marked = match state.pending.claim(code, &request_id, now, now + state.guards.pending_ttl_ms).await {
        Ok(Claim::Leader) => true,
        Ok(Claim::Joined { request_id: pending }) => {
            tracing::info!(request_id = %pending, code = %code, force, "fetch request joined the pending one; nothing queued");
            let body = FetchAccepted {
                message: format!("fetch data request for country ({code}) joined the pending request; nothing new was queued."),
                request_id: pending,
                status_url,
                coalesced: true,
                forced: false,
                force_allowed_at: None,
            };
            return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
        }
        Err(e) => {
            tracing::warn!(request_id = %request_id, code = %code, error = %e, "could not check for a pending fetch; queueing without coalescing");
            false
        }
    };
    let (forced, next_force) = force_decision(state, code, force, now).await;
    let request = FetchRequest { code: code.to_string(), request_id, requested_at: timestamp::format_millis(now), force: forced };
    match state.queue.send(&request, trace).await {
        Ok(message_id) => {
            tracing::info!(request_id = %request.request_id, code = %code, message_id, force, forced, "fetch request queued");
            let body = FetchAccepted {
                message: format!("fetch data request for country ({code}) successfully queued."),
                request_id: request.request_id,
                status_url,
                coalesced: false,
                forced,
                force_allowed_at: next_force.map(timestamp::format_millis),
            };
            Ok((StatusCode::ACCEPTED, Json(body)).into_response())
        }
        Err(e) => {
            tracing::error!(request_id = %request.request_id, code = %code, error = %e, "could not queue the fetch request");
            // Nothing is pending after all: let the next request queue at once.
            if marked && let Err(e) = state.pending.clear(code, &request.request_id, now).await {
                tracing::warn!(request_id = %request.request_id, error = %e, "could not clear the pending marker; it expires by itself");
            }
            Err(ApiError::dependency(
                "QueueSendMessageFailure",
                format!("The fetch request for country ({code}) could not be queued; nothing was queued, try again shortly."),
            ))
        }
    }
}

/// The 429 answer when the month's upstream budget is spent.
async fn budget_spent(state: &ApiState, code: &CountryCode, now: EpochMillis) -> Option<Response> {
    let Budget::Monthly(limit) = state.guards.budget else { return None };
    let month = guard::budget_month(now);
    let used = match state.budget.used(&month.key).await {
        Ok(used) => used,
        Err(e) => {
            tracing::warn!(code = %code, error = %e, "could not read the monthly upstream budget; queueing (the worker enforces it)");
            return None;
        }
    };
    if state.guards.budget.allows(used) {
        return None;
    }
    let resets = timestamp::format_millis(month.resets_at_ms);
    tracing::warn!(code = %code, used, limit, month = %month.key, "the monthly upstream budget is spent; fetch refused");
    let refusal = ApiError::too_many_requests(format!(
        "The monthly upstream budget ({limit} calls) is spent, so nothing was queued; it resets at {resets}."
    ));
    let retry_after = guard::retry_after_seconds(now, month.resets_at_ms).to_string();
    Some(([(header::RETRY_AFTER, retry_after)], refusal).into_response())
}

/// Whether a queued request forces the fetch, and when the next forced one is allowed.
async fn force_decision(state: &ApiState, code: &CountryCode, force: bool, now: EpochMillis) -> (bool, Option<EpochMillis>) {
    let cooldown = state.guards.force_cooldown_ms;
    if !force {
        return (false, None);
    }
    if cooldown == 0 {
        return (true, Some(now));
    }
    match state.pending.claim_force(code, now, cooldown).await {
        Ok(claim) => (claim.granted, Some(claim.next_allowed_ms)),
        Err(e) => {
            tracing::warn!(code = %code, error = %e, "could not check the force cooldown; serving the request as a normal one");
            (false, None)
        }
    }
}
