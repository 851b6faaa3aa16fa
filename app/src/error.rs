//! The crate's one error type. Each message says what failed and, where a
//! person can act on it, what to do next.

/// How an upstream call failed; decides whether a message is retried and
/// whether the circuit breaker counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// The upstream has no such country (404): permanent, never counted.
    NotFound,
    /// The upstream refused our credentials or plan (401/403): a
    /// configuration problem, logged loudly; retried, since a fixed key heals it.
    Rejected,
    /// The upstream answered 2xx with a document we cannot use: permanent.
    Malformed,
    /// Timeout, connection error, 5xx or throttling: retried and counted.
    Transient,
}

impl UpstreamFailure {
    /// Whether SQS should deliver the message again.
    pub fn is_retried(self) -> bool {
        matches!(self, UpstreamFailure::Transient | UpstreamFailure::Rejected)
    }

    /// Whether the circuit breaker counts this failure.
    pub fn counts_against_breaker(self) -> bool {
        matches!(self, UpstreamFailure::Transient)
    }
}

/// Everything that can go wrong in the service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration variable is missing or malformed; the process stops.
    #[error("configuration variable {name} {problem}")]
    Config {
        /// The variable's name.
        name: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A DynamoDB call failed.
    #[error("DynamoDB {operation} on table {table} failed: {detail}")]
    Storage {
        /// The API operation, e.g. GetItem.
        operation: &'static str,
        /// The table it was called on.
        table: String,
        /// The SDK's explanation.
        detail: String,
    },
    /// A stored item could not be read back.
    #[error("item {key} in table {table} is corrupt: {detail}")]
    CorruptItem {
        /// The table.
        table: String,
        /// The item's key.
        key: String,
        /// What is wrong.
        detail: String,
    },
    /// An SQS call failed.
    #[error("SQS {operation} on {queue} failed: {detail}")]
    Queue {
        /// The API operation, e.g. SendMessage.
        operation: &'static str,
        /// The queue URL.
        queue: String,
        /// The SDK's explanation.
        detail: String,
    },
    /// The upstream provider failed; `kind` decides what happens next.
    #[error("upstream {kind:?}: {detail}")]
    Upstream {
        /// The failure class.
        kind: UpstreamFailure,
        /// What the upstream said (never the API key).
        detail: String,
    },
    /// The v5 API key could not be read from SSM.
    #[error("could not read the upstream API key from SSM parameter {parameter}: {detail}; check that it exists as a SecureString and that the function may read it")]
    Secret {
        /// The parameter name.
        parameter: String,
        /// The SDK's explanation.
        detail: String,
    },
    /// A queue message that is not a fetch request.
    #[error("queue message is not a fetch request: {0}")]
    BadMessage(String),
    /// A local server or runtime could not start.
    #[error("{0}")]
    Startup(String),
}

/// Renders an SDK error with its service code and message, not just "service error".
pub fn sdk_detail<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_dynamodb::error::DisplayErrorContext;
    match err.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("ServiceError"),
            service.message().unwrap_or("no message")
        ),
        None => DisplayErrorContext(err).to_string(),
    }
}
