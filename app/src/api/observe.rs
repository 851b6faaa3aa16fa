//! Around every request: the X-Ray trace id on its log lines, and one
//! metrics line when it is answered (route, status class, view-data cache
//! and latency). In Lambda one request is one invocation, so this is the
//! function's one metrics line per invocation.

use super::ApiState;
use crate::metrics::{Metric, Tally};
use crate::trace::TraceHeader;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;

/// Whether view-data found the country in the in-process cache; the
/// handler puts it in the response's extensions for the metrics line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheLookup {
    /// Served from the cache.
    Hit,
    /// Read from the table (found or not).
    Miss,
}

/// The routes the metrics tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    FetchData,
    ViewData,
    Status,
    Other,
}

impl Route {
    /// By the path's first segment (paths arrive without a trailing slash).
    fn of(path: &str) -> Self {
        match path.trim_start_matches('/').split('/').next() {
            Some("fetch-data") => Route::FetchData,
            Some("view-data") => Route::ViewData,
            Some("status") => Route::Status,
            _ => Route::Other,
        }
    }

    fn metric(self) -> Metric {
        match self {
            Route::FetchData => Metric::RequestsFetchData,
            Route::ViewData => Metric::RequestsViewData,
            Route::Status => Metric::RequestsStatus,
            Route::Other => Metric::RequestsOther,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Route::FetchData => "fetch-data",
            Route::ViewData => "view-data",
            Route::Status => "status",
            Route::Other => "other",
        }
    }
}

fn class_metric(status: StatusCode) -> Metric {
    match status.as_u16() {
        100..=299 => Metric::Responses2xx,
        300..=399 => Metric::Responses3xx,
        400..=499 => Metric::Responses4xx,
        _ => Metric::Responses5xx,
    }
}

/// The request's trace: Lambda's invocation context first (the trace its
/// segments go to), else an `X-Amzn-Trace-Id` header (added by the HTTP API,
/// or by a caller locally).
fn trace_of(request: &Request) -> Option<TraceHeader> {
    let from_context = request
        .extensions()
        .get::<lambda_http::Context>()
        .and_then(|c| c.xray_trace_id.as_deref())
        .and_then(TraceHeader::parse);
    from_context.or_else(|| {
        request.headers().get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).and_then(TraceHeader::parse)
    })
}

/// The middleware: traces the request's log lines, answers it, writes its metrics line.
pub async fn observe(State(state): State<ApiState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = Route::of(request.uri().path());
    let trace = trace_of(&request);
    let span = match &trace {
        Some(t) => tracing::info_span!("request", trace_id = t.trace_id()),
        None => tracing::Span::none(),
    };
    let trace_id = trace.as_ref().map(|t| t.trace_id().to_string());
    if let Some(t) = trace {
        request.extensions_mut().insert(t);
    }
    let response = next.run(request).instrument(span).await;

    let tally = Tally::default();
    tally.count(route.metric());
    tally.count(class_metric(response.status()));
    match response.extensions().get::<CacheLookup>() {
        Some(CacheLookup::Hit) => tally.count(Metric::ViewCacheHits),
        Some(CacheLookup::Miss) => tally.count(Metric::ViewCacheMisses),
        None => {}
    }
    if route == Route::ViewData {
        tally.observe(Metric::ViewDataLatency, started.elapsed().as_secs_f64() * 1000.0);
    }
    let mut properties = vec![("route", route.as_str().into()), ("status", response.status().as_u16().into())];
    if let Some(id) = trace_id {
        properties.push(("trace_id", id.into()));
    }
    state.metrics.emit(tally, &properties);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_classes() {
        assert_eq!(Route::of("/fetch-data/PY"), Route::FetchData);
        assert_eq!(Route::of("/view-data/py"), Route::ViewData);
        assert_eq!(Route::of("/status/PY"), Route::Status);
        for other in ["/", "/health", "/openapi.json", "/nope/x", "/view-datax/PY"] {
            assert_eq!(Route::of(other), Route::Other, "{other}");
        }
        assert_eq!(class_metric(StatusCode::ACCEPTED), Metric::Responses2xx);
        assert_eq!(class_metric(StatusCode::NOT_MODIFIED), Metric::Responses3xx);
        assert_eq!(class_metric(StatusCode::NOT_FOUND), Metric::Responses4xx);
        assert_eq!(class_metric(StatusCode::SERVICE_UNAVAILABLE), Metric::Responses5xx);
    }
}
