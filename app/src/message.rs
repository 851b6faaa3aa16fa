//! The fetch request that travels from the API through SQS to the worker.

use crate::country_code::CountryCode;
use crate::error::Error;
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
    pub fn parse(body: &str, message_id: &str) -> Result<(Self, CountryCode), Error> {
        let trimmed = body.trim();
        let request = if trimmed.starts_with('{') {
            serde_json::from_str::<FetchRequest>(trimmed).map_err(|e| Error::BadMessage(e.to_string()))?
        } else {
            let bare = serde_json::from_str::<String>(trimmed).unwrap_or_else(|_| trimmed.to_string());
            FetchRequest { code: bare, request_id: message_id.to_string(), requested_at: String::new(), force: false }
        };
        let code = CountryCode::parse(&request.code)
            .ok_or_else(|| Error::BadMessage(CountryCode::rejection_message(&request.code)))?;
        Ok((FetchRequest { code: code.as_str().to_string(), ..request }, code))
    }
}

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
    fn rejects_garbage() {
        for body in ["", "{}", r#"{"code":"PRY","request_id":"r","requested_at":"t"}"#, "[1]", "\"P1\""] {
            assert!(FetchRequest::parse(body, "m").is_err(), "{body:?}");
        }
    }
}
