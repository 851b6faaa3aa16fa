//! The circuit breaker's state machine, pure: no I/O, time passed in.
//!
//! Closed: calls go through and transient failures are counted within a
//! window that starts at the first failure. `threshold` failures inside one
//! window open the breaker. Open: calls are refused until `window` has passed
//! since it opened; then exactly one caller gets a trial call (half-open).
//! The trial's success closes the breaker, its failure opens it again.
//!
//! The shared copy of this state lives in DynamoDB (`store::breaker`), which
//! applies these transitions with conditional writes so that concurrent
//! workers neither lose nor double a count.

use crate::timestamp::EpochMillis;

/// Breaker settings, validated at start (threshold ≥ 1, window ≥ 1 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Failures within one window that open the breaker.
    pub threshold: u32,
    /// Length of the counting window, and how long the breaker stays open.
    pub window_ms: i64,
}

/// Where the breaker is in its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Calls go through; failures are counted.
    Closed,
    /// Calls are refused until the window has passed.
    Open,
    /// One trial call is in flight; everyone else is refused.
    HalfOpen,
}

impl Phase {
    /// The name stored in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Closed => "closed",
            Phase::Open => "open",
            Phase::HalfOpen => "half_open",
        }
    }

    /// Reads a stored name; unknown names are treated as closed so that a
    /// corrupted row can never stop fetching for good.
    pub fn from_stored(name: &str) -> Self {
        match name {
            "open" => Phase::Open,
            "half_open" => Phase::HalfOpen,
            _ => Phase::Closed,
        }
    }
}

/// The breaker's state as stored (one row per upstream service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerState {
    /// Closed, open or half-open.
    pub phase: Phase,
    /// Failures counted in the current window.
    pub failures: u32,
    /// When the current counting window started (its first failure).
    pub window_started_ms: EpochMillis,
    /// When the breaker last opened, or when the current trial started.
    pub opened_at_ms: EpochMillis,
}

impl Default for BreakerState {
    fn default() -> Self {
        Self { phase: Phase::Closed, failures: 0, window_started_ms: 0, opened_at_ms: 0 }
    }
}

/// What the breaker says about a call that is about to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Closed: go ahead.
    Allow,
    /// The open period is over: the caller may claim the one trial call.
    Trial,
    /// Open (or a trial is in flight): do not call; try again after this time.
    Refuse { retry_at_ms: EpochMillis },
}

impl BreakerSettings {
    /// Decides whether a call may go ahead at `now`.
    pub fn permit(&self, state: &BreakerState, now: EpochMillis) -> Permit {
        let reopen_at = state.opened_at_ms.saturating_add(self.window_ms);
        match state.phase {
            Phase::Closed => Permit::Allow,
            Phase::Open | Phase::HalfOpen if now >= reopen_at => Permit::Trial,
            Phase::Open | Phase::HalfOpen => Permit::Refuse { retry_at_ms: reopen_at },
        }
    }

    /// True when a window that started at `window_started_ms` still counts at `now`.
    /// A failure a window (or a day) old is not recent.
    pub fn window_is_current(&self, window_started_ms: EpochMillis, now: EpochMillis) -> bool {
        window_started_ms > 0 && now.saturating_sub(window_started_ms) < self.window_ms
    }

    /// True when `failures` in one window are enough to open the breaker.
    pub fn trips(&self, failures: u32) -> bool {
        failures >= self.threshold
    }

    /// The state after a transient failure of an ordinary (non-trial) call.
    pub fn after_failure(&self, state: &BreakerState, now: EpochMillis) -> BreakerState {
        let (failures, window_started_ms) = if self.window_is_current(state.window_started_ms, now) {
            (state.failures.saturating_add(1), state.window_started_ms)
        } else {
            (1, now)
        };
        let mut next = BreakerState { failures, window_started_ms, ..*state };
        if state.phase == Phase::Closed && self.trips(failures) {
            next.phase = Phase::Open;
            next.opened_at_ms = now;
        }
        next
    }

    /// The state once a caller has claimed the trial call at `now`.
    pub fn after_trial_claimed(&self, state: &BreakerState, now: EpochMillis) -> BreakerState {
        BreakerState { phase: Phase::HalfOpen, opened_at_ms: now, ..*state }
    }

    /// The state after the trial call failed: open for another window.
    pub fn after_trial_failure(&self, state: &BreakerState, now: EpochMillis) -> BreakerState {
        BreakerState { phase: Phase::Open, opened_at_ms: now, ..*state }
    }

    /// The state after the trial call succeeded: closed, count cleared.
    pub fn after_trial_success(&self) -> BreakerState {
        BreakerState::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const SETTINGS: BreakerSettings = BreakerSettings { threshold: 3, window_ms: 5 * MIN };
    const T0: i64 = 1_795_000_000_000;

    fn fail_times(times: &[i64]) -> BreakerState {
        times.iter().fold(BreakerState::default(), |s, &t| SETTINGS.after_failure(&s, t))
    }

    #[test]
    fn closed_allows_and_counts_failures_in_a_window() {
        let s = fail_times(&[T0, T0 + MIN]);
        assert_eq!(s.phase, Phase::Closed);
        assert_eq!(s.failures, 2);
        assert_eq!(s.window_started_ms, T0);
        assert_eq!(SETTINGS.permit(&s, T0 + MIN), Permit::Allow);
    }

    #[test]
    fn threshold_failures_within_the_window_open_it() {
        let s = fail_times(&[T0, T0 + MIN, T0 + 4 * MIN]);
        assert_eq!(s.phase, Phase::Open);
        assert_eq!(s.opened_at_ms, T0 + 4 * MIN);
        assert_eq!(
            SETTINGS.permit(&s, T0 + 5 * MIN),
            Permit::Refuse { retry_at_ms: T0 + 9 * MIN }
        );
    }

    #[test]
    fn window_boundary_starts_a_new_count() {
        // The third failure lands exactly one window after the first: not recent.
        let s = fail_times(&[T0, T0 + MIN, T0 + 5 * MIN]);
        assert_eq!(s.phase, Phase::Closed);
        assert_eq!(s.failures, 1);
        assert_eq!(s.window_started_ms, T0 + 5 * MIN);
        // One millisecond earlier it still counts.
        let s = fail_times(&[T0, T0 + MIN, T0 + 5 * MIN - 1]);
        assert_eq!(s.phase, Phase::Open);
    }

    #[test]
    fn a_failure_a_day_old_is_not_recent() {
        let day = 24 * 60 * MIN;
        let s = fail_times(&[T0, T0 + 1, T0 + day + 2]);
        assert_eq!(s.phase, Phase::Closed);
        assert_eq!(s.failures, 1);
        assert!(!SETTINGS.window_is_current(T0, T0 + day));
    }

    #[test]
    fn after_the_window_one_trial_then_refuse_others() {
        let open = fail_times(&[T0, T0, T0]);
        let reopen = T0 + 5 * MIN;
        assert_eq!(SETTINGS.permit(&open, reopen - 1), Permit::Refuse { retry_at_ms: reopen });
        assert_eq!(SETTINGS.permit(&open, reopen), Permit::Trial);
        let trial = SETTINGS.after_trial_claimed(&open, reopen);
        assert_eq!(trial.phase, Phase::HalfOpen);
        assert_eq!(
            SETTINGS.permit(&trial, reopen + 1),
            Permit::Refuse { retry_at_ms: reopen + 5 * MIN }
        );
        // A trial whose caller vanished can be claimed again a window later.
        assert_eq!(SETTINGS.permit(&trial, reopen + 5 * MIN), Permit::Trial);
    }

    #[test]
    fn trial_success_closes_and_failure_reopens() {
        let trial = SETTINGS.after_trial_claimed(&fail_times(&[T0, T0, T0]), T0 + 5 * MIN);
        let closed = SETTINGS.after_trial_success();
        assert_eq!(closed, BreakerState::default());
        assert_eq!(SETTINGS.permit(&closed, T0 + 5 * MIN), Permit::Allow);
        let reopened = SETTINGS.after_trial_failure(&trial, T0 + 6 * MIN);
        assert_eq!(reopened.phase, Phase::Open);
        assert_eq!(SETTINGS.permit(&reopened, T0 + 7 * MIN), Permit::Refuse { retry_at_ms: T0 + 11 * MIN });
    }

    #[test]
    fn threshold_one_opens_on_first_failure() {
        let one = BreakerSettings { threshold: 1, window_ms: MIN };
        let s = one.after_failure(&BreakerState::default(), T0);
        assert_eq!(s.phase, Phase::Open);
    }

    #[test]
    fn unknown_stored_phase_reads_as_closed() {
        assert_eq!(Phase::from_stored("garbage"), Phase::Closed);
        for p in [Phase::Closed, Phase::Open, Phase::HalfOpen] {
            assert_eq!(Phase::from_stored(p.as_str()), p);
        }
    }
}
