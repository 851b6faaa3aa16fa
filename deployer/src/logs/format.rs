//! Pure log handling: `--since` durations, request-id matching and the
//! readable one-line form of a tracing JSON line. No I/O.

use std::time::Duration;

use serde_json::Value;

use super::{Function, LogEvent};
use crate::error::{Error, Result, SessionError};

/// Parses `--since`: a number and a unit (`s`, `m`, `h`, `d`), e.g. `10m`;
/// at most ten years back, so the start time is always a real time.
pub fn parse_since(text: &str) -> Result<Duration> {
    const MAX_SECONDS: u64 = 3650 * 86_400;
    let text = text.trim();
    let invalid = || {
        Error::from(SessionError::InvalidArgument {
            flag: "--since".into(),
            value: text.into(),
            expected: "a number and a unit, at most ten years: 30s, 10m, 2h or 1d".into(),
        })
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| invalid())?;
    let unit_seconds = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(invalid()),
    };
    match n.checked_mul(unit_seconds) {
        Some(seconds) if seconds <= MAX_SECONDS => Ok(Duration::from_secs(seconds)),
        _ => Err(invalid()),
    }
}

/// The request id a tracing JSON line carries: at the top level (the api's
/// "fetch request queued"), in the current span, or in any span of `spans`.
pub fn request_id(line: &Value) -> Option<&str> {
    fn direct(v: &Value) -> Option<&str> {
        v.get("request_id").and_then(Value::as_str)
    }
    direct(line)
        .or_else(|| line.get("fields").and_then(direct))
        .or_else(|| line.get("span").and_then(direct))
        .or_else(|| {
            line.get("spans")
                .and_then(Value::as_array)
                .and_then(|spans| spans.iter().find_map(direct))
        })
}

/// True when the raw line belongs to request `id` (non-JSON lines never do).
pub fn matches_request(raw: &str, id: &str) -> bool {
    serde_json::from_str::<Value>(raw)
        .ok()
        .is_some_and(|v| request_id(&v) == Some(id))
}

/// The line's own time in epoch milliseconds: its `timestamp` (RFC 3339), or a
/// metrics line's `_aws.Timestamp`.
pub fn line_timestamp_ms(raw: &str) -> Option<i64> {
    let v: Value = serde_json::from_str(raw).ok()?;
    if let Some(ms) = v
        .get("_aws")
        .and_then(|a| a.get("Timestamp"))
        .and_then(Value::as_i64)
    {
        return Some(ms);
    }
    let t = v.get("timestamp")?.as_str()?;
    let parsed =
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()?;
    Some((parsed.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Keeps the events at or after `start_ms` and, when given, of request `id`;
/// sorted by time (stable, so one function's lines keep their order).
pub fn select(mut events: Vec<LogEvent>, start_ms: i64, id: Option<&str>) -> Vec<LogEvent> {
    events
        .retain(|e| e.timestamp_ms >= start_ms && id.is_none_or(|id| matches_request(&e.raw, id)));
    events.sort_by_key(|e| e.timestamp_ms);
    events
}

/// Fields shown after the message, in this order, when present.
const KEY_FIELDS: &[&str] = &[
    "request_id",
    "trace_id",
    "code",
    "outcome",
    "error",
    "status",
    "duration_ms",
    "receive_count",
    "force",
    "url",
];

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One event as a person reads it: `HH:MM:SS.mmm LEVEL function message key=value ...`.
/// Lines that are not JSON (a Lambda START/REPORT line, a separator) are shown as they are.
/// `color` adds ANSI colours (only on a terminal).
pub fn readable(event: &LogEvent, color: bool) -> String {
    let function = event.function.as_str();
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&event.raw) else {
        return format!("{function:<6} {}", event.raw.trim_end());
    };
    if let Some(aws) = map.get("_aws") {
        return metrics_line(function, aws, &map);
    }
    let line = Value::Object(map.clone());
    let time = map
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.split('T').nth(1))
        .map(|t| {
            let t = t.trim_end_matches('Z');
            t.get(..12).unwrap_or(t).to_string()
        })
        .unwrap_or_else(|| "-".into());
    let level = map.get("level").and_then(Value::as_str).unwrap_or("-");
    let message = map
        .get("message")
        .or_else(|| map.get("fields").and_then(|f| f.get("message")))
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut fields = Vec::new();
    for key in KEY_FIELDS {
        let value = if *key == "request_id" {
            request_id(&line).map(str::to_string)
        } else {
            map.get(*key)
                .or_else(|| map.get("span").and_then(|s| s.get(*key)))
                .and_then(scalar)
        };
        if let Some(value) = value {
            fields.push(format!("{key}={value}"));
        }
    }
    let level_text = format!("{level:<5}");
    let (level_text, dim, reset) = if color {
        let code = match level {
            "ERROR" => "31",
            "WARN" => "33",
            "INFO" => "32",
            _ => "2",
        };
        (
            format!("\x1b[{code}m{level_text}\x1b[0m"),
            "\x1b[2m",
            "\x1b[0m",
        )
    } else {
        (level_text, "", "")
    };
    let mut out = format!("{dim}{time}{reset} {level_text} {function:<6} {message}");
    if !fields.is_empty() {
        out.push_str(&format!(" {dim}{}{reset}", fields.join(" ")));
    }
    out
}

/// A metrics (Embedded Metric Format) line: `HH:MM:SS.mmm METRIC function Name=value ...`.
fn metrics_line(function: &str, aws: &Value, map: &serde_json::Map<String, Value>) -> String {
    let time = aws
        .get("Timestamp")
        .and_then(Value::as_i64)
        .and_then(|ms| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        })
        .map(|t| {
            format!(
                "{:02}:{:02}:{:02}.{:03}",
                t.hour(),
                t.minute(),
                t.second(),
                t.millisecond()
            )
        })
        .unwrap_or_else(|| "-".into());
    let names = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("Metrics").and_then(Value::as_array))
        .flatten()
        .filter_map(|m| m.get("Name").and_then(Value::as_str));
    let values: Vec<String> = names
        .map(|name| {
            format!(
                "{name}={}",
                map.get(name)
                    .map_or_else(|| "-".to_string(), Value::to_string)
            )
        })
        .collect();
    format!("{time} METRIC {function:<6} {}", values.join(" "))
}

/// The CloudWatch filter pattern that finds a request's lines (a quoted term
/// matches it anywhere in the line: top level or span).
pub fn filter_pattern(id: &str) -> String {
    format!("\"{}\"", id.replace('"', ""))
}

/// The function a CloudWatch log group belongs to.
pub fn function_of_group(group: &str) -> Option<Function> {
    let name = group.rsplit('/').next()?;
    Function::ALL
        .into_iter()
        .find(|f| name.starts_with(&format!("countries-{}-", f.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKER: &str = r#"{"timestamp":"2026-11-28T04:39:19.241828Z","level":"INFO","message":"attempt recorded","outcome":"stored","error":"","duration_ms":17,"span":{"code":"PY","receive_count":2,"request_id":"831b","name":"fetch"}}"#;
    const API: &str = r#"{"timestamp":"2026-11-28T04:39:18.730096Z","level":"INFO","message":"fetch request queued","request_id":"831b","code":"PY","message_id":"9","force":false}"#;

    #[test]
    fn since_takes_units() {
        assert_eq!(parse_since("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_since("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_since("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_since("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(
            parse_since("3650d").unwrap(),
            Duration::from_secs(3650 * 86_400)
        );
        for too_far in ["3651d", "9999999999999999d", "99999999999999999999s"] {
            assert!(parse_since(too_far).is_err(), "{too_far}");
        }
        assert!(parse_since("soon").is_err());
        assert!(parse_since("5y").is_err());
    }

    #[test]
    fn request_id_is_found_at_top_level_and_in_the_span() {
        assert!(matches_request(API, "831b"));
        assert!(matches_request(WORKER, "831b"));
        assert!(!matches_request(WORKER, "other"));
        assert!(!matches_request("--- started ---", "831b"));
        let nested = r#"{"spans":[{"name":"x"},{"request_id":"r1"}]}"#;
        assert!(matches_request(nested, "r1"));
    }

    #[test]
    fn readable_shows_time_level_function_message_and_fields() {
        let e = LogEvent {
            function: Function::Worker,
            timestamp_ms: line_timestamp_ms(WORKER).unwrap(),
            raw: WORKER.into(),
        };
        assert_eq!(
            readable(&e, false),
            "04:39:19.241 INFO  worker attempt recorded request_id=831b code=PY outcome=stored duration_ms=17 receive_count=2"
        );
        assert!(readable(&e, true).contains("\x1b[32mINFO"));
        let plain = LogEvent {
            function: Function::Api,
            timestamp_ms: 0,
            raw: "START RequestId: x".into(),
        };
        assert_eq!(readable(&plain, false), "api    START RequestId: x");
    }

    #[test]
    fn metrics_lines_read_as_their_values() {
        let raw = r#"{"_aws":{"Timestamp":1795841120123,"CloudWatchMetrics":[{"Namespace":"Countries","Dimensions":[["Stage","Function"]],"Metrics":[{"Name":"FetchStored","Unit":"Count"},{"Name":"UpstreamLatency","Unit":"Milliseconds"}]}]},"Stage":"local","Function":"worker","FetchStored":2,"UpstreamLatency":[12,30.5],"messages":2}"#;
        assert_eq!(line_timestamp_ms(raw), Some(1_795_841_120_123));
        let e = LogEvent {
            function: Function::Worker,
            timestamp_ms: 0,
            raw: raw.into(),
        };
        assert_eq!(
            readable(&e, false),
            "04:45:20.123 METRIC worker FetchStored=2 UpstreamLatency=[12,30.5]"
        );
    }

    #[test]
    fn select_filters_and_orders() {
        let ev = |f, raw: &str| LogEvent {
            function: f,
            timestamp_ms: line_timestamp_ms(raw).unwrap_or(0),
            raw: raw.into(),
        };
        let out = select(
            vec![
                ev(Function::Worker, WORKER),
                ev(Function::Api, API),
                ev(Function::Api, "x"),
            ],
            1,
            Some("831b"),
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].function, Function::Api);
    }

    #[test]
    fn groups_map_to_functions() {
        assert_eq!(
            function_of_group("/aws/lambda/countries-worker-dev"),
            Some(Function::Worker)
        );
        assert_eq!(function_of_group("/aws/lambda/other"), None);
        assert_eq!(filter_pattern("ab-1"), "\"ab-1\"");
    }
}
