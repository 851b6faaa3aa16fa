//! Concurrency settings of the two functions that only make sense together:
//! the worker's queue trigger can run at most `max_concurrency` instances
//! (its cap on upstream calls in flight), which must stay within the
//! worker's reserved concurrency when it has one.

use crate::stage::schema::FunctionSettings;

/// The queue trigger's `ScalingConfig.MaximumConcurrency` range.
pub const MAX_CONCURRENCY: (u32, u32) = (2, 1000);

/// Reports the worker's reservation below the trigger's minimum, a
/// `max_concurrency` on the api (it has no trigger), out of range, or above
/// the worker's reservation (throttled invocations count as receives and
/// push messages to the dead-letter queue).
pub(super) fn check_concurrency(
    api: &FunctionSettings,
    worker: &FunctionSettings,
    err: &mut impl FnMut(&str, String),
) {
    if worker.reserved_concurrency == Some(1) {
        err(
            "app.worker.reserved_concurrency",
            "1 is below the queue trigger's minimum concurrency; allowed: 2 or more, or omit the key".into(),
        );
    }
    if api.max_concurrency.is_some() {
        err(
            "app.api.max_concurrency",
            "only the worker has a queue trigger to cap; remove the key (the api's cap is reserved_concurrency)".into(),
        );
    }
    let Some(max) = worker.max_concurrency else {
        return;
    };
    let (lo, hi) = MAX_CONCURRENCY;
    if !(lo..=hi).contains(&max) {
        err(
            "app.worker.max_concurrency",
            format!("{max} is not allowed: {lo}-{hi} (the queue trigger's limits)"),
        );
    } else if let Some(reserved) = worker.reserved_concurrency
        && max > reserved
    {
        err(
            "app.worker.max_concurrency",
            format!(
                "{max} is above reserved_concurrency ({reserved}): the trigger would be throttled, and throttled invocations count as receives that push messages to the DLQ; allowed: at most {reserved}, or omit the key"
            ),
        );
    }
}
