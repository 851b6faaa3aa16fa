//! The HTTP API (DESIGN §2.1): one axum `Router`, served by `lambda_http`
//! inside Lambda and on a TCP port locally. The routes and the OpenAPI
//! document come from the same handler annotations, so they cannot drift.

pub mod cache;
pub mod error;
mod fetch;
mod handlers;
pub mod observe;
pub mod schema;

use crate::guard::FetchGuards;
use crate::metrics::Metrics;
use crate::queue::FetchQueue;
use crate::store::{AttemptLog, CountryStore, PendingFetches, UpstreamBudget};
use axum::Router;
use axum::extract::Request;
use axum::routing::MethodRouter;
use cache::ViewCache;
use std::sync::Arc;
use tower::Layer;
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::{PathItemExt, routes};

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
    /// Writes one metrics line per request.
    pub metrics: Metrics,
    /// Pending markers and force cooldowns (status table).
    pub pending: Arc<dyn PendingFetches>,
    /// The monthly upstream budget's counters (status table).
    pub budget: Arc<dyn UpstreamBudget>,
    /// What fetch-data enforces.
    pub guards: FetchGuards,
}

/// The service the binaries run: the router behind trailing-slash
/// normalisation, so every route answers with and without one.
pub type Service = NormalizePath<Router>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Countries API",
        description = "Countries data from REST Countries, fetched asynchronously through a queue and stored in DynamoDB. Every route also answers with a trailing slash. Every error is {\"Code\", \"Message\"}.",
        license(name = "MIT")
    ),
    components(schemas(error::ApiError))
)]
struct ApiDoc;

/// The documented handlers, listed once. Each is routed at the path and
/// methods of its `#[utoipa::path]` annotation, and the OpenAPI document is
/// made from the same annotations. The api builds the document on the first
/// request for it: building it took longer than the rest of its start.
macro_rules! documented {
    ($($handler:ident),+ $(,)?) => {
        utoipa_axum::paste! {
            fn documented_routes() -> Router<ApiState> {
                Router::new()$(.route(
                    &<handlers::[<__path_ $handler>] as utoipa::Path>::path(),
                    <handlers::[<__path_ $handler>] as utoipa::Path>::methods()
                        .iter()
                        .fold(MethodRouter::new(), |router, method| router.on(method.to_method_filter(), handlers::$handler)),
                ))+
            }

            /// The OpenAPI 3.1 document, as `/openapi.json` serves it.
            pub fn openapi() -> utoipa::openapi::OpenApi {
                OpenApiRouter::<ApiState>::with_openapi(ApiDoc::openapi())
                    $(.routes(routes!(handlers::$handler)))+
                    .split_for_parts()
                    .1
            }
        }
    };
}

documented!(welcome, fetch_data, view_data, status, health);

/// Builds the service.
pub fn router(state: ApiState) -> Service {
    let document = Arc::new(std::sync::OnceLock::new());
    let app = documented_routes()
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let text = document.get_or_init(|| openapi().to_pretty_json().unwrap_or_default()).clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], text) }
            }),
        )
        .fallback(handlers::no_route)
        .method_not_allowed_fallback(handlers::wrong_method)
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state);
    NormalizePathLayer::trim_trailing_slash().layer(app)
}

/// Serves the api on a local TCP listener until `shutdown` resolves. Not
/// generic (the future boxed): hyper's server is compiled here, with the
/// library, instead of in the binary (`up local` then builds its binaries in
/// a few seconds).
pub async fn serve_local(
    listener: tokio::net::TcpListener,
    service: Service,
    shutdown: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
) -> std::io::Result<()> {
    axum::serve(listener, axum::ServiceExt::<Request>::into_make_service(service))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves the api under Lambda's Runtime API (`lambda_http`), compiled with
/// the library for the same reason as [`serve_local`].
pub async fn serve_lambda(service: Service) -> Result<(), lambda_http::Error> {
    lambda_http::run(service).await
}
