//! The route handlers. Input is validated before any table or queue is
//! touched; dependency failures are logged in full and answered briefly.

use super::ApiState;
use super::error::ApiError;
use crate::country_code::CountryCode;
use crate::message::FetchRequest;
use crate::store::StoredCountry;
use crate::timestamp;
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

type PathCode = Result<Path<String>, PathRejection>;
type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

fn country_code(path: PathCode) -> Result<CountryCode, ApiError> {
    let Path(raw) = path.map_err(|_| ApiError::bad_request(CountryCode::rejection_message("")))?;
    CountryCode::parse(&raw).ok_or_else(|| ApiError::bad_request(CountryCode::rejection_message(&raw)))
}

fn params(query: Params) -> Result<HashMap<String, String>, ApiError> {
    query.map(|Query(q)| q).map_err(|_| ApiError::bad_request("The query string could not be read."))
}

/// `GET /`: a welcome and the list of routes.
pub async fn welcome() -> Json<serde_json::Value> {
    let routes: Vec<String> = super::ROUTES.iter().map(|(m, p)| format!("{m} {p}")).collect();
    Json(json!({ "welcome": "countries api demo", "routes": routes }))
}

/// `GET /health`: no dependencies, for smoke tests.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET|POST /fetch-data/{code}[?force=true]`: queues a fetch request.
pub async fn fetch_data(State(state): State<ApiState>, path: PathCode, query: Params) -> Result<Response, ApiError> {
    let code = country_code(path)?;
    let force = match params(query)?.get("force").map(String::as_str) {
        None | Some("false") => false,
        Some("true") | Some("") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!("force must be true or false, got [{}]", other.chars().take(16).collect::<String>())));
        }
    };
    let request = FetchRequest {
        code: code.to_string(),
        request_id: uuid::Uuid::new_v4().to_string(),
        requested_at: timestamp::format_millis(timestamp::now_millis()),
        force,
    };
    match state.queue.send(&request).await {
        Ok(message_id) => {
            tracing::info!(request_id = %request.request_id, code = %code, message_id, force, "fetch request queued");
            let body = json!({
                "message": format!("fetch data request for country ({code}) successfully queued."),
                "request_id": request.request_id,
                "status_url": format!("/status/{code}"),
            });
            Ok((StatusCode::ACCEPTED, Json(body)).into_response())
        }
        Err(e) => {
            tracing::error!(request_id = %request.request_id, code = %code, error = %e, "could not queue the fetch request");
            Err(ApiError::dependency(
                "QueueSendMessageFailure",
                format!("The fetch request for country ({code}) could not be queued; nothing was queued, try again shortly."),
            ))
        }
    }
}

/// `GET /view-data/{code}`: the stored document, with `ETag` and `Cache-Control`.
pub async fn view_data(State(state): State<ApiState>, path: PathCode, headers: HeaderMap) -> Result<Response, ApiError> {
    let code = country_code(path)?;
    let country = match state.cache.get(&code) {
        Some(hit) => hit,
        None => match state.countries.get(&code).await {
            Ok(Some(found)) => {
                let found = Arc::new(found);
                state.cache.put(Arc::clone(&found));
                found
            }
            Ok(None) => {
                return Err(ApiError::not_found(format!(
                    "Country ({code}) has not been fetched yet: request it with /fetch-data/{code}, then check /status/{code}."
                )));
            }
            Err(e) => {
                tracing::error!(code = %code, error = %e, "could not read the country");
                return Err(ApiError::dependency(
                    "GetCountryFailure",
                    format!("Country ({code}) could not be read from the store; try again shortly."),
                ));
            }
        },
    };
    Ok(document_response(&country, &headers, state.http_max_age_seconds))
}

fn document_response(country: &StoredCountry, headers: &HeaderMap, max_age: u64) -> Response {
    let etag = HeaderValue::from_str(&country.etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    let cache_control = HeaderValue::from_str(&format!("public, max-age={max_age}"))
        .unwrap_or_else(|_| HeaderValue::from_static("no-cache"));
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == country.etag
        });
    let common = [(header::ETAG, etag), (header::CACHE_CONTROL, cache_control)];
    if matches {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let content_type = (header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    (StatusCode::OK, common, [content_type], country.document.clone()).into_response()
}

/// `GET /status/{code}?limit=N`: the newest attempts, newest first.
pub async fn status(State(state): State<ApiState>, path: PathCode, query: Params) -> Result<Response, ApiError> {
    let code = country_code(path)?;
    let limit = match params(query)?.get("limit") {
        None => 1,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n @ 1..=100) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limit must be a whole number from 1 to 100, got [{}]",
                    raw.chars().take(16).collect::<String>()
                )));
            }
        },
    };
    match state.attempts.recent(&code, limit).await {
        Ok(attempts) => Ok(Json(attempts).into_response()),
        Err(e) => {
            tracing::error!(code = %code, error = %e, "could not read the status");
            Err(ApiError::dependency(
                "GetStatusFailure",
                format!("The status of country ({code}) could not be read; try again shortly."),
            ))
        }
    }
}

/// Unknown routes.
pub async fn no_route(method: Method, uri: Uri) -> ApiError {
    let path: String = uri.path().chars().take(64).collect();
    ApiError::not_found(format!("No route for {method} {path}: GET / lists the routes."))
}

/// Known routes with a method they do not take.
pub async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    let path: String = uri.path().chars().take(64).collect();
    ApiError::method_not_allowed(format!("{method} is not allowed on {path}: GET / lists the routes and their methods."))
}
