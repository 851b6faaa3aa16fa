//! The fetch request that travels from the API through SQS to the worker.

use crate::country_code::CountryCode;
use crate::error::Error;
use crate::untrusted;
use serde::{Deserialize, Serialize};

/// One request to fetch a country, as queued by `fetch-data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchRequest {
    /// The country, upper case.
    pub code: String,
    /// Follows the request through API, queue, worker logs and status rows.
    pub request_id: String,
    /// When the API accepted the request (RFC 3339).
    pub requested_at: String,
    /// Fetch even if the stored copy is fresh (`?force=true`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
}

impl FetchRequest {
    /// Reads a message body: the JSON object above, or the old app's bare
    /// `"PY"` (JSON string or plain text). `message_id` stands in for the
    /// request id of old-style messages, which carried none.
    ///
    /// Any producer can write to the queue, so what becomes a key, a log
    /// field or a status row is bounded here: an empty request id is the
    /// message id, a longer or invisible one is refused, as is a `requested_at`
    /// that is not a short line of text.
    pub fn parse(body: &str, message_id: &str) -> Result<(Self, CountryCode), Error> {
        let trimmed = body.trim();
        let mut request = if trimmed.starts_with('{') {
            serde_json::from_str::<FetchRequest>(trimmed)
                .map_err(|e| Error::BadMessage(untrusted::show(&e.to_string(), 200)))?
        } else {
            let bare = serde_json::from_str::<String>(trimmed).unwrap_or_else(|_| trimmed.to_string());
            FetchRequest { code: bare, request_id: String::new(), requested_at: String::new(), force: false }
        };
        let code = CountryCode::parse(&request.code)
            .ok_or_else(|| Error::BadMessage(CountryCode::rejection_message(&request.code)))?;
        if request.request_id.is_empty() {
            request.request_id = message_id.to_string();
        }
        let id = &request.request_id;
        if id.len() > MAX_ID_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::BadMessage(format!(
                "request_id must be 1 to {MAX_ID_LEN} visible ASCII characters, got [{}]",
                untrusted::show(id, 16)
            )));
        }
        let at = &request.requested_at;
        if at.chars().count() > MAX_ID_LEN || at.chars().any(char::is_control) {
            return Err(Error::BadMessage(format!(
                "requested_at must be a time of at most {MAX_ID_LEN} characters, got [{}]",
                untrusted::show(at, 16)
            )));
        }
        Ok((FetchRequest { code: code.as_str().to_string(), ..request }, code))
    }
}

/// The longest request id (and `requested_at`) a message may carry: the api's
/// are 36 (a UUID) and 24 (RFC 3339 with milliseconds).
const MAX_ID_LEN: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_json_message() {
        let body = r#"{"code":"py","request_id":"r-1","requested_at":"2026-11-28T04:45:20.123Z"}"#;
        let (req, code) = FetchRequest::parse(body, "m-1").unwrap();
        assert_eq!(code.as_str(), "PY");
        assert_eq!(req.request_id, "r-1");
        assert!(!req.force);
    }

    #[test]
    fn accepts_the_old_apps_bare_code() {
        for body in ["\"PY\"", "PY", " py\n"] {
            let (req, code) = FetchRequest::parse(body, "m-9").unwrap();
            assert_eq!(code.as_str(), "PY");
            assert_eq!(req.request_id, "m-9");
        }
    }

    #[test]
    fn round_trips_with_force() {
        let req = FetchRequest { code: "DE".into(), request_id: "r".into(), requested_at: "t".into(), force: true };
        let text = serde_json::to_string(&req).unwrap();
        assert_eq!(FetchRequest::parse(&text, "m").unwrap().0, req);
    }

    #[test]
    fn bounds_what_becomes_a_key_or_a_log_field() {
        let body = |id: &str, at: &str| format!(r#"{{"code":"PE","request_id":{id:?},"requested_at":{at:?}}}"#);
        assert_eq!(FetchRequest::parse(&body("", "t"), "m-7").unwrap().0.request_id, "m-7");
        for (id, at) in [("r".repeat(129), "t".to_string()), ("a b".into(), "t".into()), ("r\n".into(), "t".into()), ("r".into(), "x".repeat(129)), ("r".into(), "t\u{0}".into())] {
            let err = FetchRequest::parse(&body(&id, &at), "m").unwrap_err().to_string();
            assert!(err.len() < 300, "{err}");
        }
        let huge = format!(r#"{{"code":"UY","request_id":"r","requested_at":"t","force":"{}"}}"#, "F".repeat(10_240));
        let err = FetchRequest::parse(&huge, "m").unwrap_err().to_string();
        assert!(err.len() < 300, "{err}");
    }

    #[test]
    fn rejects_garbage() {
        for body in ["", "{}", r#"{"code":"PRY","request_id":"r","requested_at":"t"}"#, "[1]", "\"P1\""] {
            assert!(FetchRequest::parse(body, "m").is_err(), "{body:?}");
        }
    }
}
