//! The fetch queue's settings: receives before the dead-letter queue, the
//! visibility timeout (which must outlast the breaker window), retention, batch.

/// Lambda sees a message again after this many receives, then it goes to the DLQ (docs/contract.md).
pub const MAX_RECEIVE_COUNT: u32 = 4;
/// The queue's visibility timeout is this multiple of the worker timeout (AWS's advice for Lambda consumers).
pub const VISIBILITY_TIMEOUT_FACTOR: u32 = 6;
/// SQS's longest visibility timeout (12 hours).
pub const MAX_VISIBILITY_TIMEOUT_SECONDS: u32 = 43_200;

/// The fetch queue's visibility timeout: [`VISIBILITY_TIMEOUT_FACTOR`] x the
/// worker timeout, and longer if need be so that the last of a message's
/// receives comes after a breaker window: a message that finds the breaker
/// open is retried once per visibility timeout, and must not be dead-lettered
/// before the upstream is asked again.
pub fn visibility_timeout(worker_timeout_seconds: u32, breaker_window_seconds: u32) -> u32 {
    let outlasts_window = breaker_window_seconds / (MAX_RECEIVE_COUNT - 1) + 1;
    (VISIBILITY_TIMEOUT_FACTOR * worker_timeout_seconds)
        .max(outlasts_window)
        .min(MAX_VISIBILITY_TIMEOUT_SECONDS)
}

/// The DLQ keeps messages 14 days, SQS's maximum.
pub const DLQ_RETENTION_SECONDS: u32 = 1_209_600;
/// Messages per worker invocation.
pub const BATCH_SIZE: u32 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_outlast_the_breaker_window() {
        assert_eq!(visibility_timeout(30, 300), 180, "6 x the worker timeout");
        assert_eq!(
            visibility_timeout(10, 300),
            101,
            "three retries outlast a 300 s window"
        );
        for (timeout, window) in [(1, 1), (10, 300), (30, 3600), (900, 86_400)] {
            let v = visibility_timeout(timeout, window);
            assert!(
                v * (MAX_RECEIVE_COUNT - 1) > window,
                "{timeout} {window}: {v}"
            );
            assert!(v >= 6 * timeout && v <= MAX_VISIBILITY_TIMEOUT_SECONDS);
        }
    }
}
