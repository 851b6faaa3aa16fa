//! The HTTP API (DESIGN §2.1): one axum `Router`, served by `lambda_http`
//! inside Lambda and on a TCP port locally.

pub mod cache;
pub mod error;
mod handlers;

use crate::queue::FetchQueue;
use crate::store::{AttemptLog, CountryStore};
use axum::Router;
use axum::routing::get;
use cache::ViewCache;
use std::sync::Arc;

/// What the handlers share: the edges, built once per process.
#[derive(Clone)]
pub struct ApiState {
    /// The countries table.
    pub countries: Arc<dyn CountryStore>,
    /// The status table.
    pub attempts: Arc<dyn AttemptLog>,
    /// The fetch queue.
    pub queue: Arc<dyn FetchQueue>,
    /// The view-data cache.
    pub cache: Arc<ViewCache>,
    /// `Cache-Control: max-age` for view-data.
    pub http_max_age_seconds: u64,
}

/// The routes, each with and without a trailing slash.
pub const ROUTES: [(&str, &str); 5] = [
    ("GET", "/"),
    ("GET, POST", "/fetch-data/{code}"),
    ("GET", "/view-data/{code}"),
    ("GET", "/status/{code}?limit=N"),
    ("GET", "/health"),
];

/// Builds the router.
pub fn router(state: ApiState) -> Router {
    let mut router = Router::new().route("/", get(handlers::welcome));
    for (path, method_router) in [
        ("/fetch-data/{code}", get(handlers::fetch_data).post(handlers::fetch_data)),
        ("/view-data/{code}", get(handlers::view_data)),
        ("/status/{code}", get(handlers::status)),
        ("/health", get(handlers::health)),
    ] {
        router = router.route(path, method_router.clone()).route(&format!("{path}/"), method_router);
    }
    router
        .fallback(handlers::no_route)
        .method_not_allowed_fallback(handlers::wrong_method)
        .with_state(state)
}
