//! Every API error, 4xx and 5xx alike, in the seed's `{"Code", "Message"}` shape.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error response: `Code` names the failure, `Message` says what a caller can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// HTTP status.
    #[serde(skip)]
    #[schema(ignore)]
    pub status: StatusCode,
    /// e.g. `BadRequestError`, `NotFoundError`, `GetCountryFailure`.
    #[serde(rename = "Code")]
    #[schema(example = "BadRequestError")]
    pub code: &'static str,
    /// What went wrong, in words a caller can act on. Never internals.
    #[serde(rename = "Message")]
    pub message: String,
}

impl ApiError {
    /// 400 `BadRequestError`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code: "BadRequestError", message: message.into() }
    }

    /// 404 `NotFoundError`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, code: "NotFoundError", message: message.into() }
    }

    /// 405 `MethodNotAllowedError`.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self { status: StatusCode::METHOD_NOT_ALLOWED, code: "MethodNotAllowedError", message: message.into() }
    }

    /// 429 `TooManyRequestsError`: a limit of the service, e.g. the monthly upstream budget.
    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self { status: StatusCode::TOO_MANY_REQUESTS, code: "TooManyRequestsError", message: message.into() }
    }

    /// A 5xx for a failing dependency; the details go to the log, not the caller.
    pub fn dependency(code: &'static str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}
