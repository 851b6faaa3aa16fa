//! JSON logs, one line per event, via `tracing`.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber: the service's own events at `level`,
/// libraries' (the AWS SDK's, hyper's) at warn, so debug stays readable;
/// `RUST_LOG` overrides it when set. Every line carries the current span's
/// fields (the request id among them).
pub fn init(level: &str, stage: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,countries={level},api={level},worker={level}")));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
    tracing::debug!(stage, "logging ready");
}
