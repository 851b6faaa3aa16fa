//! The public API's guards against burning the upstream quota (DESIGN §6), as
//! pure time arithmetic: the monthly budget's calendar month and when it
//! resets, and the windows of the pending marker and the force cooldown.
//! The DynamoDB side is `store::pending` and `store::budget`.

use crate::timestamp::EpochMillis;
use time::{Date, Month, OffsetDateTime, Time};

/// What fetch-data enforces, from the api's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchGuards {
    /// The monthly upstream budget: when spent, fetch-data answers 429.
    pub budget: Budget,
    /// A forced fetch per country at most this often (0: every one).
    pub force_cooldown_ms: i64,
    /// How long a pending marker holds without a final outcome.
    pub pending_ttl_ms: i64,
}

/// How many upstream calls a stage may make per UTC calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// No limit (the offline v3 server).
    Unlimited,
    /// At most this many calls a month (REST Countries v5's free tier: 500).
    Monthly(u32),
}

impl Budget {
    /// From `UPSTREAM_MONTHLY_BUDGET`, where 0 means unlimited.
    pub fn from_setting(calls: u32) -> Self {
        if calls == 0 { Budget::Unlimited } else { Budget::Monthly(calls) }
    }

    /// Whether another call fits after `used` calls this month.
    pub fn allows(self, used: u64) -> bool {
        match self {
            Budget::Unlimited => true,
            Budget::Monthly(limit) => used < u64::from(limit),
        }
    }
}

/// The UTC calendar month a budget counts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetMonth {
    /// `2026-11`: names the month's counter.
    pub key: String,
    /// The first millisecond of the next month, when the budget resets.
    pub resets_at_ms: EpochMillis,
}

/// The month `now` falls in.
pub fn budget_month(now: EpochMillis) -> BudgetMonth {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(now) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (year, month) = (at.year(), at.month());
    let (next_year, next_month) = if month == Month::December { (year + 1, Month::January) } else { (year, month.next()) };
    let reset = Date::from_calendar_date(next_year, next_month, 1)
        .map(|d| d.with_time(Time::MIDNIGHT).assume_utc())
        .unwrap_or(at);
    BudgetMonth {
        key: format!("{year:04}-{:02}", u8::from(month)),
        resets_at_ms: (reset.unix_timestamp_nanos() / 1_000_000) as EpochMillis,
    }
}

/// `Retry-After` for a moment in the future: whole seconds, rounded up, at least 1.
pub fn retry_after_seconds(now: EpochMillis, at: EpochMillis) -> u64 {
    let ms = (at - now).max(1) as u64;
    ms.div_ceil(1000)
}

/// DynamoDB's TTL attribute (epoch seconds) for a time in milliseconds,
/// rounded up so DynamoDB never removes an item before it expires.
pub fn ttl_seconds(at: EpochMillis) -> i64 {
    at.div_euclid(1000) + i64::from(at.rem_euclid(1000) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::{format_millis, parse_millis};
    use proptest::prelude::*;

    #[test]
    fn months_reset_at_midnight_utc_on_the_first() {
        let m = budget_month(parse_millis("2026-11-28T04:45:20.123Z").unwrap());
        assert_eq!(m.key, "2026-11");
        assert_eq!(format_millis(m.resets_at_ms), "2026-12-01T00:00:00.000Z");
        let december = budget_month(parse_millis("2026-12-31T23:59:59.999Z").unwrap());
        assert_eq!((december.key.as_str(), format_millis(december.resets_at_ms).as_str()), ("2026-12", "2027-01-01T00:00:00.000Z"));
        let first = budget_month(parse_millis("2027-01-01T00:00:00.000Z").unwrap());
        assert_eq!(first.key, "2027-01");
    }

    #[test]
    fn a_budget_of_n_allows_n_calls_and_zero_means_unlimited() {
        let three = Budget::from_setting(3);
        assert_eq!((0..5).filter(|&used| three.allows(used)).count(), 3);
        assert!(Budget::from_setting(0).allows(u64::MAX));
    }

    #[test]
    fn retry_after_and_ttl_round_up() {
        assert_eq!(retry_after_seconds(1_000, 2_001), 2);
        assert_eq!(retry_after_seconds(1_000, 1_000), 1, "never 0: the client must wait");
        assert_eq!((ttl_seconds(5_000), ttl_seconds(5_001)), (5, 6));
    }

    proptest! {
        /// Every moment belongs to exactly one month, which ends when it resets.
        #[test]
        fn a_month_ends_exactly_when_it_resets(now in 0i64..4_102_444_800_000) {
            let month = budget_month(now);
            prop_assert!(month.resets_at_ms > now);
            prop_assert!(month.resets_at_ms - now <= 31 * 86_400_000);
            prop_assert_eq!(budget_month(month.resets_at_ms - 1).key, month.key.clone());
            prop_assert_ne!(budget_month(month.resets_at_ms).key, month.key);
        }
    }
}
