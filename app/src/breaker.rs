//! The circuit breaker's state machine, pure: no I/O, time passed in.
//!
//! Closed: calls go through, and their results are counted in fixed windows
//! of `window` length: successes and transient failures. The breaker opens
//! when, over the current window and the one just before it, at least
//! `min_calls` calls were made and at least `failure_rate_percent` of them
//! failed. A flaky upstream that answers most calls keeps it closed; a dead
//! one opens it after `min_calls` calls. (A count rule, "N failures open it
//! whatever the successes", treats a partly working upstream like a dead one.)
//!
//! Open: calls are refused until `window` has passed since it opened. Then
//! it is half-open: up to `trial_calls` callers each claim one trial call.
//! Any trial failure opens it again for another window; `trial_calls`
//! successes close it with every count cleared.
//!
//! The shared copy of this state lives in DynamoDB (`store::breaker`), which
//! applies these transitions with conditional writes and `ADD`, so that
//! concurrent workers neither lose nor double a count.

use crate::timestamp::EpochMillis;

/// Breaker settings, validated at start (see `config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Share of failed calls, in percent (1–100), that opens the breaker.
    pub failure_rate_percent: u32,
    /// Calls (over the current and previous window) needed before the rate counts.
    pub min_calls: u32,
    /// Length of a counting window, and how long the breaker stays open.
    pub window_ms: i64,
    /// Trial calls allowed, and successes needed to close, when half-open.
    pub trial_calls: u32,
}

/// Where the breaker is in its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// Calls go through; their results are counted.
    #[default]
    Closed,
    /// Calls are refused until the open period has passed.
    Open,
    /// Up to `trial_calls` trial calls decide; everyone else is refused.
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

/// Calls counted in one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Calls that succeeded (the upstream answered, whatever it said).
    pub successes: u32,
    /// Calls that failed transiently (timeout, connection, 5xx, 408, 429).
    pub failures: u32,
}

impl Counts {
    /// All counted calls.
    pub fn calls(self) -> u32 {
        self.successes.saturating_add(self.failures)
    }

    /// These counts plus `other`.
    pub fn plus(self, other: Counts) -> Counts {
        Counts { successes: self.successes.saturating_add(other.successes), failures: self.failures.saturating_add(other.failures) }
    }
}

/// The result of one upstream call, as the breaker counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    /// The upstream answered (a country, a 404, even garbage): it is up.
    Success,
    /// A transient failure: the upstream may be down.
    Failure,
}

/// The breaker's state as stored (one row per upstream service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BreakerState {
    /// Closed, open or half-open.
    pub phase: Phase,
    /// When the current counting window started (0: none yet).
    pub window_started_ms: EpochMillis,
    /// Calls counted in the current window.
    pub current: Counts,
    /// Calls counted in the window just before it (zero when that one was not adjacent).
    pub previous: Counts,
    /// When the breaker last opened, or when its current half-open period began.
    pub opened_at_ms: EpochMillis,
    /// Trial calls claimed in the current half-open period.
    pub trials_claimed: u32,
    /// Trial calls that succeeded in the current half-open period.
    pub trial_successes: u32,
}

/// What the breaker says about a call that is about to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Closed: go ahead.
    Allow,
    /// The caller may claim a trial call (the store decides who wins).
    Trial,
    /// Open (or every trial slot is taken): do not call; try again after this time.
    Refuse { retry_at_ms: EpochMillis },
}

/// Where a new counting window starts, and what its predecessor carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowAt {
    /// The current window still counts at this time.
    Current,
    /// The current window is over; a new one starts now, and the old one,
    /// being the one just before, still counts as `previous`.
    NextAdjacent,
    /// The current window is long over (or there is none): start afresh.
    Fresh,
}

impl BreakerSettings {
    /// Decides whether a call may go ahead at `now`.
    pub fn permit(&self, state: &BreakerState, now: EpochMillis) -> Permit {
        let period_over_at = state.opened_at_ms.saturating_add(self.window_ms);
        match state.phase {
            Phase::Closed => Permit::Allow,
            Phase::Open if now >= period_over_at => Permit::Trial,
            // A half-open period a window old (its trials' callers vanished, or
            // an older worker left it): a new period starts, whatever was claimed.
            Phase::HalfOpen if now >= period_over_at => Permit::Trial,
            Phase::HalfOpen if state.trials_claimed < self.trial_calls => Permit::Trial,
            Phase::Open | Phase::HalfOpen => Permit::Refuse { retry_at_ms: period_over_at },
        }
    }

    /// Where `now` falls relative to the window that started at `started`.
    pub fn window_at(&self, started: EpochMillis, now: EpochMillis) -> WindowAt {
        let age = now.saturating_sub(started);
        if started > 0 && age < self.window_ms {
            WindowAt::Current
        } else if started > 0 && age < 2 * self.window_ms {
            WindowAt::NextAdjacent
        } else {
            WindowAt::Fresh
        }
    }

    /// The counts that decide, at `now`: the current window and the one before it.
    pub fn recent(&self, state: &BreakerState, now: EpochMillis) -> Counts {
        match self.window_at(state.window_started_ms, now) {
            WindowAt::Current => state.current.plus(state.previous),
            WindowAt::NextAdjacent => state.current,
            WindowAt::Fresh => Counts::default(),
        }
    }

    /// True when `counts` are enough calls with enough failures to open the breaker.
    pub fn trips(&self, counts: Counts) -> bool {
        let calls = counts.calls();
        calls >= self.min_calls.max(1)
            && u64::from(counts.failures) * 100 >= u64::from(self.failure_rate_percent) * u64::from(calls)
    }

    /// The state after an ordinary (non-trial) call ended with `result` at `now`:
    /// counted in its window, and opened if the recent counts trip.
    pub fn after_call(&self, state: &BreakerState, result: CallResult, now: EpochMillis) -> BreakerState {
        let mut next = *state;
        match self.window_at(state.window_started_ms, now) {
            WindowAt::Current => {}
            WindowAt::NextAdjacent => {
                next.previous = state.current;
                next.current = Counts::default();
                next.window_started_ms = now;
            }
            WindowAt::Fresh => {
                next.previous = Counts::default();
                next.current = Counts::default();
                next.window_started_ms = now;
            }
        }
        match result {
            CallResult::Success => next.current.successes = next.current.successes.saturating_add(1),
            CallResult::Failure => next.current.failures = next.current.failures.saturating_add(1),
        }
        if next.phase == Phase::Closed && self.trips(next.current.plus(next.previous)) {
            next.phase = Phase::Open;
            next.opened_at_ms = now;
        }
        next
    }

    /// The state once a caller has claimed a trial call at `now` (after
    /// [`Permit::Trial`]): the first claim of a half-open period starts it.
    pub fn after_trial_claimed(&self, state: &BreakerState, now: EpochMillis) -> BreakerState {
        if self.starts_half_open_period(state, now) {
            BreakerState { phase: Phase::HalfOpen, opened_at_ms: now, trials_claimed: 1, trial_successes: 0, ..*state }
        } else {
            BreakerState { trials_claimed: state.trials_claimed.saturating_add(1), ..*state }
        }
    }

    /// True when a trial claimed at `now` begins a new half-open period
    /// (from open, or over a half-open period a window old) rather than
    /// taking a free slot of the current one.
    pub fn starts_half_open_period(&self, state: &BreakerState, now: EpochMillis) -> bool {
        state.phase == Phase::Open || (state.phase == Phase::HalfOpen && now >= state.opened_at_ms.saturating_add(self.window_ms))
    }

    /// The state after a trial call failed: open for another window.
    pub fn after_trial_failure(&self, state: &BreakerState, now: EpochMillis) -> BreakerState {
        BreakerState { phase: Phase::Open, opened_at_ms: now, trials_claimed: 0, trial_successes: 0, ..*state }
    }

    /// The state after a trial call succeeded: closed with every count
    /// cleared once `trial_calls` trials have succeeded, else one more success.
    pub fn after_trial_success(&self, state: &BreakerState) -> BreakerState {
        let successes = state.trial_successes.saturating_add(1);
        if successes >= self.trial_calls {
            BreakerState::default()
        } else {
            BreakerState { trial_successes: successes, ..*state }
        }
    }
}

#[cfg(test)]
mod tests;
