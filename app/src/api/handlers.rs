//! The route handlers. Input is validated before any table or queue is
//! touched; dependency failures are logged in full and answered briefly.

use super::ApiState;
use super::error::ApiError;
use super::observe::CacheLookup;
use super::schema::{Country, FetchAccepted, Health, Welcome};
use crate::country_code::CountryCode;
use crate::store::{Attempt, StoredCountry};
use crate::trace::TraceHeader;
use crate::untrusted;
use axum::{Extension, Json};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

type PathCode = Result<Path<String>, PathRejection>;
type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn country_code(path: PathCode) -> Result<CountryCode, ApiError> {
    let Path(raw) = path.map_err(|_| {
        ApiError::bad_request("Provided country code is not UTF-8 text: use two letters, an ISO 3166-1 alpha-2 code such as PY or de.")
    })?;
    CountryCode::parse(&raw).ok_or_else(|| ApiError::bad_request(CountryCode::rejection_message(&raw)))
}

/// The query parameters of a route that takes `allowed`: each at most once and
/// no others, so a misspelt `FORCE=true` is an error rather than silently ignored.
fn params(query: Params, allowed: &[&str]) -> Result<HashMap<String, String>, ApiError> {
    let Query(pairs) = query.map_err(|_| ApiError::bad_request("The query string could not be read."))?;
    let mut params = HashMap::new();
    for (name, value) in pairs {
        if !allowed.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Unknown query parameter [{}]: this route takes {}.",
                untrusted::show(&name, 16),
                allowed.join(", ")
            )));
        }
        if params.insert(name, value).is_some() {
            return Err(ApiError::bad_request("A query parameter is given more than once: give each once."));
        }
    }
    Ok(params)
}

/// The routes, as `GET /` lists them.
const ROUTES: [&str; 6] = [
    "GET /",
    "GET, POST /fetch-data/{code}?force=true",
    "GET /view-data/{code}",
    "GET /status/{code}?limit=N",
    "GET /health",
    "GET /openapi.json",
];

/// A welcome and the list of routes.
#[utoipa::path(get, path = "/", responses((status = 200, description = "Welcome", body = Welcome)))]
pub async fn welcome() -> Json<Welcome> {
    Json(Welcome { welcome: "countries api demo", routes: ROUTES.iter().map(|r| r.to_string()).collect() })
}

/// Liveness, touching no dependency: for smoke tests.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "The process answers", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Queues a request to fetch a country from the upstream.
///
/// The worker fetches it asynchronously; follow it with `/status/{code}`.
/// A country stored less than the stage's refresh interval ago is served
/// from the store unless `force=true`, which is honoured once per country
/// per force cooldown. While a fetch of the country is queued or in
/// progress, another request joins it (`"coalesced": true`, the pending
/// request's id) and queues nothing. When the stage's monthly upstream
/// budget is spent, nothing is queued: 429 with `Retry-After`.
#[utoipa::path(
    method(get, post),
    path = "/fetch-data/{code}",
    params(
        ("code" = String, Path, description = "Two letters: an ISO 3166-1 alpha-2 code, any case", example = "PY", pattern = "^[A-Za-z]{2}$"),
        ("force" = Option<bool>, Query, description = "Fetch even if a fresh copy is stored"),
        ("X-Amzn-Trace-Id" = Option<String>, Header, description = "An X-Ray trace header (Root=1-...;Parent=...;Sampled=...); in Lambda the invocation's own trace is used. Its trace id travels with the request to the worker and into the status rows; a malformed one is ignored."),
    ),
    responses(
        (status = 202, description = "Queued, or joined the fetch already pending for the country (coalesced)", body = FetchAccepted),
        (status = 400, description = "Not a two-letter code, or a bad query", body = ApiError),
        (status = 429, description = "The stage's monthly upstream budget is spent (TooManyRequestsError); nothing was queued", body = ApiError, headers(
            ("Retry-After" = u64, description = "Seconds until the budget resets (the first of next month, 00:00 UTC)"),
        )),
        (status = 500, description = "The queue refused the request (QueueSendMessageFailure)", body = ApiError),
    )
)]
pub async fn fetch_data(
    State(state): State<ApiState>,
    method: Method,
    path: PathCode,
    query: Params,
    trace: Option<Extension<TraceHeader>>,
) -> Result<Response, ApiError> {
    if method == Method::HEAD {
        // axum answers HEAD wherever GET is routed; here GET queues a fetch, and HEAD must change nothing.
        let refusal = ApiError::method_not_allowed("HEAD is not allowed on /fetch-data: it would queue a fetch; use GET or POST.");
        return Ok(([(header::ALLOW, "GET, POST")], refusal).into_response());
    }
    let code = country_code(path)?;
    let force = match params(query, &["force"])?.get("force").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!("force must be true or false, got [{}]", untrusted::show(other, 16))));
        }
    };
    let trace = trace.map(|Extension(t)| t);
    super::fetch::accept(&state, &code, force, trace.as_ref()).await
}

/// The stored country document, as the upstream served it (v3.1 shape).
#[utoipa::path(
    get,
    path = "/view-data/{code}",
    params(
        ("code" = String, Path, description = "Two letters: an ISO 3166-1 alpha-2 code, any case", example = "PY", pattern = "^[A-Za-z]{2}$"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer"),
    ),
    responses(
        (status = 200, description = "The country", body = Country, headers(
            ("ETag" = String, description = "Strong validator of the document"),
            ("Cache-Control" = String, description = "public, max-age=N (per stage)"),
        )),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "Not a two-letter code", body = ApiError),
        (status = 404, description = "Never fetched: request it with /fetch-data/{code}", body = ApiError),
        (status = 500, description = "The store could not be read (GetCountryFailure)", body = ApiError),
    )
)]
pub async fn view_data(State(state): State<ApiState>, path: PathCode, headers: HeaderMap) -> Result<Response, ApiError> {
    let code = country_code(path)?;
    if let Some(hit) = state.cache.get(&code) {
        let mut response = document_response(&hit, &headers, state.http_max_age_seconds);
        response.extensions_mut().insert(CacheLookup::Hit);
        return Ok(response);
    }
    let mut response = read_country(&state, &code, &headers).await.unwrap_or_else(IntoResponse::into_response);
    response.extensions_mut().insert(CacheLookup::Miss);
    Ok(response)
}

/// view-data from the table (a cache miss): the document, or why not.
async fn read_country(state: &ApiState, code: &CountryCode, headers: &HeaderMap) -> Result<Response, ApiError> {
    let country = match state.countries.get(code).await {
        Ok(Some(found)) => {
            let found = Arc::new(found);
            state.cache.put(Arc::clone(&found));
            found
        }
        Ok(None) => {
            return Err(ApiError::not_found(format!(
                "Country ({code}) is not stored: request it with /fetch-data/{code}; /status/{code} shows how requests for it ended."
            )));
        }
        Err(e) => {
            tracing::error!(code = %code, error = %e, "could not read the country");
            return Err(ApiError::dependency(
                "GetCountryFailure",
                format!("Country ({code}) could not be read from the store; try again shortly."),
            ));
        }
    };
    Ok(document_response(&country, headers, state.http_max_age_seconds))
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

/// The newest fetch attempts for a country, newest first.
#[utoipa::path(
    get,
    path = "/status/{code}",
    params(
        ("code" = String, Path, description = "Two letters: an ISO 3166-1 alpha-2 code, any case", example = "PY", pattern = "^[A-Za-z]{2}$"),
        ("limit" = Option<u32>, Query, description = "How many attempts, 1 to 100 (default 1)", minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "Attempts, newest first (empty if never requested)", body = [Attempt]),
        (status = 400, description = "Not a two-letter code, or a bad limit", body = ApiError),
        (status = 500, description = "The status could not be read (GetStatusFailure)", body = ApiError),
    )
)]
pub async fn status(State(state): State<ApiState>, path: PathCode, query: Params) -> Result<Response, ApiError> {
    let code = country_code(path)?;
    let limit = match params(query, &["limit"])?.get("limit") {
        None => 1,
        // Digits only: `u32::from_str` would also take "+5".
        Some(raw) => match raw.bytes().all(|b| b.is_ascii_digit()).then(|| raw.parse::<u32>()) {
            Some(Ok(n @ 1..=100)) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limit must be a whole number from 1 to 100, got [{}]",
                    untrusted::show(raw, 16)
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
    let path = untrusted::show(uri.path(), 64);
    ApiError::not_found(format!("No route for {method} {path}: GET / lists the routes."))
}

/// Known routes with a method they do not take.
pub async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    let path = untrusted::show(uri.path(), 64);
    ApiError::method_not_allowed(format!("{method} is not allowed on {path}: GET / lists the routes and their methods."))
}
