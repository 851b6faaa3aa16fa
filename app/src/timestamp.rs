//! Time as the service writes it: RFC 3339 UTC with milliseconds.
//!
//! Fixed width, so the strings sort in time order; the status table's sort
//! key relies on that.

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Milliseconds since the Unix epoch, the unit the breaker and freshness checks use.
pub type EpochMillis = i64;

/// The current time in epoch milliseconds.
pub fn now_millis() -> EpochMillis {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as EpochMillis
}

/// Formats epoch milliseconds as `2026-11-28T04:45:20.123Z`.
pub fn format_millis(ms: EpochMillis) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(FORMAT).unwrap_or_default()
}

/// Parses what [`format_millis`] writes (and any RFC 3339 time) back to epoch milliseconds.
pub fn parse_millis(text: &str) -> Option<EpochMillis> {
    let at = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some((at.unix_timestamp_nanos() / 1_000_000) as EpochMillis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_fixed_width_with_millis_and_round_trips() {
        let ms = 1_795_841_120_123;
        let text = format_millis(ms);
        assert_eq!(text, "2026-11-28T04:45:20.123Z");
        assert_eq!(parse_millis(&text), Some(ms));
        assert_eq!(format_millis(ms - 123).len(), text.len());
    }
}
