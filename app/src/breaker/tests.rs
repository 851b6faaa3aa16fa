use super::*;
use proptest::prelude::*;

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const SETTINGS: BreakerSettings = BreakerSettings { failure_rate_percent: 50, min_calls: 10, window_ms: 5 * MIN, trial_calls: 1 };
const T0: i64 = 1_795_000_000_000;

use CallResult::{Failure as F, Success as S};

/// Ordinary calls at the given times, from a fresh breaker.
fn calls(settings: &BreakerSettings, results: &[(CallResult, i64)]) -> BreakerState {
    results.iter().fold(BreakerState::default(), |s, &(r, t)| settings.after_call(&s, r, t))
}

/// Whether call `i` fails when failures are spread as evenly as a steady
/// `percent` rate allows (call i fails when the running quota grows).
fn steady_fails(i: u64, percent: u64) -> bool {
    (i + 1) * percent / 100 > i * percent / 100
}

#[test]
fn a_dead_upstream_opens_it_after_min_calls() {
    let nine = calls(&SETTINGS, &[(F, T0); 9]);
    assert_eq!(nine.phase, Phase::Closed, "fewer than min_calls calls never decide");
    assert_eq!(SETTINGS.permit(&nine, T0), Permit::Allow);
    let ten = SETTINGS.after_call(&nine, F, T0 + SEC);
    assert_eq!(ten.phase, Phase::Open);
    assert_eq!(ten.opened_at_ms, T0 + SEC);
    assert_eq!(SETTINGS.permit(&ten, T0 + 2 * SEC), Permit::Refuse { retry_at_ms: T0 + SEC + 5 * MIN });
}

#[test]
fn failures_among_enough_successes_keep_it_closed() {
    // 30 % failures: the flaky upstream of the field report.
    let results: Vec<_> = (0..1000).map(|i| (if i % 10 < 3 { F } else { S }, T0 + i * 100)).collect();
    let s = calls(&SETTINGS, &results);
    assert_eq!(s.phase, Phase::Closed);
}

#[test]
fn the_rate_is_taken_over_the_current_and_previous_window() {
    // Window 1: 6 successes. Window 2 (adjacent): 5 failures → 5 of 11 = 45 %: closed.
    let mut r: Vec<_> = (0..6).map(|i| (S, T0 + i)).collect();
    r.extend((0..5).map(|i| (F, T0 + 5 * MIN + i)));
    let s = calls(&SETTINGS, &r);
    assert_eq!((s.previous, s.current), (Counts { successes: 6, failures: 0 }, Counts { successes: 0, failures: 5 }));
    assert_eq!(s.phase, Phase::Closed);
    // One more failure: 6 of 12 = 50 %: open.
    assert_eq!(SETTINGS.after_call(&s, F, T0 + 5 * MIN + 10).phase, Phase::Open);
}

#[test]
fn a_window_two_windows_old_no_longer_counts() {
    let mut r: Vec<_> = (0..9).map(|i| (F, T0 + i)).collect();
    r.push((F, T0 + 10 * MIN)); // two windows later: a fresh start
    let s = calls(&SETTINGS, &r);
    assert_eq!((s.previous, s.current), (Counts::default(), Counts { successes: 0, failures: 1 }));
    assert_eq!(s.phase, Phase::Closed);
    assert_eq!(SETTINGS.recent(&s, T0 + 30 * MIN), Counts::default(), "a day-old count is not recent");
}

#[test]
fn the_window_boundary_is_exact() {
    let s = calls(&SETTINGS, &[(F, T0)]);
    assert_eq!(SETTINGS.window_at(s.window_started_ms, T0 + 5 * MIN - 1), WindowAt::Current);
    assert_eq!(SETTINGS.window_at(s.window_started_ms, T0 + 5 * MIN), WindowAt::NextAdjacent);
    assert_eq!(SETTINGS.window_at(s.window_started_ms, T0 + 10 * MIN), WindowAt::Fresh);
    assert_eq!(SETTINGS.window_at(0, T0), WindowAt::Fresh);
}

#[test]
fn after_the_open_period_one_trial_then_refuse_others() {
    let open = calls(&SETTINGS, &[(F, T0); 10]);
    let over = T0 + 5 * MIN;
    assert_eq!(SETTINGS.permit(&open, over - 1), Permit::Refuse { retry_at_ms: over });
    assert_eq!(SETTINGS.permit(&open, over), Permit::Trial);
    assert!(SETTINGS.starts_half_open_period(&open, over));
    let trial = SETTINGS.after_trial_claimed(&open, over);
    assert_eq!((trial.phase, trial.trials_claimed), (Phase::HalfOpen, 1));
    assert_eq!(SETTINGS.permit(&trial, over + 1), Permit::Refuse { retry_at_ms: over + 5 * MIN });
    // A trial whose caller vanished can be claimed again a window later.
    assert_eq!(SETTINGS.permit(&trial, over + 5 * MIN), Permit::Trial);
    assert!(SETTINGS.starts_half_open_period(&trial, over + 5 * MIN));
}

#[test]
fn several_trials_all_must_succeed_and_one_failure_reopens() {
    let three = BreakerSettings { trial_calls: 3, ..SETTINGS };
    let open = calls(&three, &[(F, T0); 10]);
    let over = T0 + 5 * MIN;
    let mut s = open;
    for claimed in 1..=3 {
        assert_eq!(three.permit(&s, over), Permit::Trial);
        assert_eq!(three.starts_half_open_period(&s, over), claimed == 1);
        s = three.after_trial_claimed(&s, over);
        assert_eq!(s.trials_claimed, claimed);
    }
    assert_eq!(three.permit(&s, over + 1), Permit::Refuse { retry_at_ms: over + 5 * MIN }, "a fourth is refused");
    let one = three.after_trial_success(&s);
    let two = three.after_trial_success(&one);
    assert_eq!((two.phase, two.trial_successes), (Phase::HalfOpen, 2));
    assert_eq!(three.after_trial_success(&two), BreakerState::default(), "the third success closes it, counts cleared");
    let reopened = three.after_trial_failure(&two, over + SEC);
    assert_eq!((reopened.phase, reopened.opened_at_ms, reopened.trials_claimed), (Phase::Open, over + SEC, 0));
    assert_eq!(three.permit(&reopened, over + 2 * SEC), Permit::Refuse { retry_at_ms: over + SEC + 5 * MIN });
}

#[test]
fn unknown_stored_phase_reads_as_closed() {
    assert_eq!(Phase::from_stored("garbage"), Phase::Closed);
    for p in [Phase::Closed, Phase::Open, Phase::HalfOpen] {
        assert_eq!(Phase::from_stored(p.as_str()), p);
    }
}

fn settings() -> impl Strategy<Value = BreakerSettings> {
    (1u32..=100, 1u32..=50, 1i64..=600, 1u32..=5).prop_map(|(rate, min_calls, window_s, trials)| BreakerSettings {
        failure_rate_percent: rate,
        min_calls,
        window_ms: window_s * SEC,
        trial_calls: trials,
    })
}

proptest! {
    /// A steady failure rate below the threshold never opens the breaker,
    /// whatever the timing of the calls. "Below" leaves one call's worth of
    /// granularity: over `min_calls` calls, an evenly spread rate can put one
    /// failure more in a window than its share.
    #[test]
    fn a_steady_rate_below_the_threshold_never_opens(
        s in settings(),
        below in 1u32..=100,
        gaps in proptest::collection::vec(0i64..=1_200_000, 1..400),
    ) {
        let margin = 100u32.div_ceil(s.min_calls);
        prop_assume!(s.failure_rate_percent > margin);
        let percent = u64::from((s.failure_rate_percent - margin).saturating_sub(below % s.failure_rate_percent));
        let mut state = BreakerState::default();
        let mut now = T0;
        for (i, gap) in gaps.iter().enumerate() {
            now += gap;
            let result = if steady_fails(i as u64, percent) { F } else { S };
            state = s.after_call(&state, result, now);
            prop_assert_eq!(state.phase, Phase::Closed, "call {} at {} % (threshold {} %)", i, percent, s.failure_rate_percent);
        }
    }

    /// A steady rate at or above the threshold opens it within `min_calls`
    /// calls made inside one window.
    #[test]
    fn a_steady_rate_at_the_threshold_opens_within_min_calls(rate in 1u32..=100, above in 0u32..=100, window_s in 1i64..=600) {
        // min_calls × rate a whole number of failures, so the threshold is reachable exactly.
        let gcd = (1..=rate).rev().find(|d| rate % d == 0 && 100 % d == 0).unwrap_or(1);
        let s = BreakerSettings { failure_rate_percent: rate, min_calls: 100 / gcd, window_ms: window_s * SEC, trial_calls: 1 };
        let percent = u64::from(rate + above % (101 - rate));
        let mut opened_at = None;
        let mut state = BreakerState::default();
        for i in 0..u64::from(s.min_calls) {
            let result = if steady_fails(i, percent) { F } else { S };
            state = s.after_call(&state, result, T0 + i as i64);
            if state.phase == Phase::Open {
                opened_at = Some(i + 1);
                break;
            }
        }
        prop_assert!(opened_at.is_some(), "{} % against a {} % threshold did not open within {} calls", percent, rate, s.min_calls);
    }

    /// Within one window the counts add up: every call lands in exactly one
    /// counter (the calls are 1 ms apart, the window at least 1 s).
    #[test]
    fn every_call_is_counted_once_within_a_window(s in settings(), results in proptest::collection::vec(any::<bool>(), 1..200)) {
        let mut state = BreakerState::default();
        for (i, &failed) in results.iter().enumerate() {
            state = s.after_call(&state, if failed { F } else { S }, T0 + i as i64);
        }
        // All calls fell inside one window (1 ms apart, window ≥ 1 s).
        let failures = results.iter().filter(|&&f| f).count() as u32;
        prop_assert_eq!(state.current, Counts { successes: results.len() as u32 - failures, failures });
    }
}
