//! Response bodies as types, so the OpenAPI document describes exactly
//! what the handlers send.

use serde::Serialize;
use utoipa::ToSchema;

/// `GET /`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Welcome {
    /// Always "countries api demo".
    pub welcome: &'static str,
    /// The routes, as "METHOD /path".
    pub routes: Vec<String>,
}

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always "ok".
    pub status: &'static str,
}

/// `fetch-data`'s 202 answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FetchAccepted {
    /// "fetch data request for country (PY) successfully queued.", or, when
    /// coalesced, "... joined the pending request ...".
    pub message: String,
    /// Follows the request through the queue, the worker's logs and the
    /// status rows. When `coalesced`, the id of the pending request this one joined.
    pub request_id: String,
    /// Where to watch the request: `/status/{code}`.
    pub status_url: String,
    /// True when a fetch of this country was already queued or in progress:
    /// this request joined it and queued nothing. The joined request's final
    /// status row counts it in `coalesced_requests`.
    pub coalesced: bool,
    /// Whether the queued fetch bypasses the freshness rule: `force=true`
    /// was asked and the country's force cooldown allowed it.
    pub forced: bool,
    /// Present when `force=true` was asked of a queued request: when the next
    /// forced fetch of this country is allowed (RFC 3339). Within the cooldown
    /// a forced request is served as a normal one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_allowed_at: Option<String>,
}

/// A REST Countries v3.1 country document, exactly as the upstream served
/// it. Only a few of its fields are listed; all v3.1 fields may appear.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Country {
    /// `{"common", "official", "nativeName"}`.
    pub name: serde_json::Map<String, serde_json::Value>,
    /// ISO 3166-1 alpha-2 code.
    pub cca2: String,
}
