//! JSON logs, one line per event, via `tracing`.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Filter, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Installs the JSON subscriber: the service's own events at `level`,
/// libraries' (the AWS SDK's, hyper's) at warn, so debug stays readable;
/// `RUST_LOG` overrides it when set. Every line carries the current span's
/// fields (the request id among them).
pub fn init(level: &str, stage: &str) {
    let layer = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stdout)
        .with_filter(filter(level));
    let _ = tracing_subscriber::registry().with(layer).try_init();
    tracing::debug!(stage, "logging ready");
}

/// `RUST_LOG` in `EnvFilter`'s syntax when it is set and valid; otherwise a
/// plain target list, which, unlike `EnvFilter`, parses without compiling
/// regular expressions (a sixth of the api's start before it listens).
fn filter(level: &str) -> Box<dyn Filter<Registry> + Send + Sync> {
    if let Ok(filter) = EnvFilter::try_from_default_env() {
        return Box::new(filter);
    }
    let level = level.parse().unwrap_or(LevelFilter::INFO);
    Box::new(
        Targets::new()
            .with_default(LevelFilter::WARN)
            .with_target("countries", level)
            .with_target("api", level)
            .with_target("worker", level),
    )
}
