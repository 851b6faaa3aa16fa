//! The upstream country providers (DESIGN §2.4), behind [`CountrySource`].
//!
//! HTTP is at the edge ([`HttpSource`]); turning a status and body into a
//! country or a classified failure is pure ([`classify`]), so every rule is
//! unit tested without a server.

pub mod key;
pub mod v5;

use crate::config::{Provider, WorkerConfig};
use crate::country_code::CountryCode;
use crate::error::{Error, UpstreamFailure};
use futures::future::BoxFuture;
use serde_json::Value;

/// The largest upstream answer read. A country is a few kB (the largest of the
/// bundled 250 is 6.5 kB); this bounds the worker's memory, and keeps every
/// stored document well under DynamoDB's 400 KB item limit.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Something that can fetch a country document in the v3.1 shape.
pub trait CountrySource: Send + Sync {
    /// Fetches one country; failures are classified (see [`UpstreamFailure`]).
    fn fetch<'a>(&'a self, code: &'a CountryCode) -> BoxFuture<'a, Result<Value, Error>>;
}

/// The real upstream: a v3.1-compatible server or REST Countries v5.
pub struct HttpSource {
    http: reqwest::Client,
    provider: Provider,
    base_url: String,
    api_key: Option<String>,
}

impl HttpSource {
    /// Builds the client once per process; `api_key` is the resolved v5 key.
    pub fn new(config: &WorkerConfig, api_key: Option<String>) -> Result<Self, Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(config.upstream_timeout)
            .connect_timeout(config.upstream_timeout)
            .user_agent(concat!("countries-worker/", env!("CARGO_PKG_VERSION")))
            // A redirect is answered as what it is (see `classify`), never followed with the key.
            .redirect(reqwest::redirect::Policy::none());
        if config.upstream_base_url.starts_with("http://") {
            // A plain-HTTP upstream (the offline server) needs no CA store; reading the
            // system's would cost every worker start milliseconds for nothing.
            builder = builder.tls_certs_only(std::iter::empty::<reqwest::Certificate>());
        }
        let http = builder
            .build()
            .map_err(|e| Error::Startup(format!("cannot build the upstream HTTP client: {e}")))?;
        Ok(Self { http, provider: config.provider, base_url: config.upstream_base_url.clone(), api_key })
    }

    fn url(&self, code: &CountryCode) -> String {
        match self.provider {
            Provider::V3 => format!("{}/v3.1/alpha/{}", self.base_url, code),
            Provider::V5 => format!("{}/alpha_2/{}", self.base_url, code),
        }
    }
}

impl CountrySource for HttpSource {
    fn fetch<'a>(&'a self, code: &'a CountryCode) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(async move {
            let mut request = self.http.get(self.url(code)).header("accept", "application/json");
            if let Some(key) = &self.api_key {
                request = request.bearer_auth(key);
            }
            let mut response = request.send().await.map_err(transport_error)?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    if status != 200 {
                        // An error page's body only adds the upstream's words; its status decides.
                        return classify(self.provider, code, status, b"");
                    }
                    return Err(Error::Upstream {
                        kind: UpstreamFailure::Malformed,
                        detail: format!("the upstream's answer is over {} KiB; a country is a few kB", MAX_ANSWER_BYTES / 1024),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            classify(self.provider, code, status, &body)
        })
    }
}

fn transport_error(e: reqwest::Error) -> Error {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // The URL is ours (no key in it); the key travels only in a header.
    Error::Upstream { kind: UpstreamFailure::Transient, detail: format!("{what}: {}", e.without_url()) }
}

/// Turns an upstream answer into a v3.1 country document or a classified failure.
pub fn classify(provider: Provider, code: &CountryCode, status: u16, body: &[u8]) -> Result<Value, Error> {
    let fail = |kind, detail: String| Error::Upstream { kind, detail };
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let said = parsed.as_ref().map(error_message).unwrap_or_default();
    match status {
        200 => {}
        404 => return Err(fail(UpstreamFailure::NotFound, format!("the upstream has no country {code}"))),
        401 | 403 => {
            return Err(fail(
                UpstreamFailure::Rejected,
                format!("the upstream refused the API key or plan (HTTP {status}{said}); check the stage's upstream key parameter"),
            ));
        }
        408 | 429 | 500..=599 => return Err(fail(UpstreamFailure::Transient, format!("HTTP {status}{said}"))),
        300..=399 => {
            return Err(fail(
                UpstreamFailure::Malformed,
                format!("the upstream redirects (HTTP {status}); redirects are not followed: set the upstream base URL to the final address"),
            ));
        }
        _ => return Err(fail(UpstreamFailure::Malformed, format!("unexpected HTTP {status}{said}"))),
    }
    let Some(parsed) = parsed else {
        return Err(fail(UpstreamFailure::Malformed, "the upstream's 200 answer is not JSON".into()));
    };
    let country = match provider {
        Provider::V3 => match parsed {
            Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            object @ Value::Object(_) => object,
            _ => return Err(fail(UpstreamFailure::Malformed, "expected a JSON array with one country".into())),
        },
        Provider::V5 => {
            let first = parsed.pointer("/data/objects/0").ok_or_else(|| {
                fail(UpstreamFailure::Malformed, format!("the v5 answer has no data.objects[0]{said}"))
            })?;
            v5::to_v31(first).map_err(|e| fail(UpstreamFailure::Malformed, e))?
        }
    };
    match country.get("cca2").and_then(Value::as_str) {
        Some(cca2) if cca2.eq_ignore_ascii_case(code.as_str()) => Ok(country),
        other => Err(fail(
            UpstreamFailure::Malformed,
            format!("asked for {code}, the upstream answered with cca2 {}", other.unwrap_or("(none)")),
        )),
    }
}

/// The upstream's own explanation, from v5's `{"errors": [{"message"}]}` or v3's `{"message"}`.
fn error_message(body: &Value) -> String {
    let message = body
        .pointer("/errors/0/message")
        .or_else(|| body.get("message"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if message.is_empty() { String::new() } else { format!(": {}", message.chars().take(200).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(c: &str) -> CountryCode {
        CountryCode::parse(c).unwrap()
    }

    fn kind(r: Result<Value, Error>) -> UpstreamFailure {
        match r {
            Err(Error::Upstream { kind, .. }) => kind,
            other => panic!("expected an upstream failure, got {other:?}"),
        }
    }

    #[test]
    fn v3_array_gives_the_country() {
        let body = json!([{"cca2": "PY", "name": {"common": "Paraguay"}}]).to_string();
        let c = classify(Provider::V3, &code("py"), 200, body.as_bytes()).unwrap();
        assert_eq!(c["name"]["common"], "Paraguay");
    }

    #[test]
    fn status_codes_are_classified() {
        let cases = [
            (404, UpstreamFailure::NotFound),
            (401, UpstreamFailure::Rejected),
            (403, UpstreamFailure::Rejected),
            (408, UpstreamFailure::Transient),
            (429, UpstreamFailure::Transient),
            (500, UpstreamFailure::Transient),
            (302, UpstreamFailure::Malformed),
            (503, UpstreamFailure::Transient),
            (400, UpstreamFailure::Malformed),
        ];
        for (status, expected) in cases {
            assert_eq!(kind(classify(Provider::V5, &code("DE"), status, b"{}")), expected, "HTTP {status}");
        }
    }

    #[test]
    fn upstream_message_is_kept_and_retry_rules_follow_the_kind() {
        let body = json!({"errors": [{"message": "Quota exceeded"}]}).to_string();
        let err = classify(Provider::V5, &code("DE"), 403, body.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("Quota exceeded"), "{err}");
        assert!(UpstreamFailure::Transient.is_retried() && UpstreamFailure::Transient.counts_against_breaker());
        assert!(!UpstreamFailure::NotFound.is_retried() && !UpstreamFailure::NotFound.counts_against_breaker());
        assert!(!UpstreamFailure::Rejected.counts_against_breaker());
    }

    #[test]
    fn malformed_answers_are_permanent() {
        for body in [&b"<html>"[..], b"[]", b"{\"data\": null}", b"42"] {
            assert_eq!(kind(classify(Provider::V3, &code("DE"), 200, body)), UpstreamFailure::Malformed);
        }
        let wrong = json!([{"cca2": "FR"}]).to_string();
        assert_eq!(kind(classify(Provider::V3, &code("DE"), 200, wrong.as_bytes())), UpstreamFailure::Malformed);
    }

    #[test]
    fn v5_answer_is_mapped() {
        let body = json!({"data": {"objects": [{"names": {"common": "Paraguay"}, "codes": {"alpha_2": "PY"}}],
            "meta": {"total": 1}}}).to_string();
        let c = classify(Provider::V5, &code("PY"), 200, body.as_bytes()).unwrap();
        assert_eq!(c["name"]["common"], "Paraguay");
        assert_eq!(c["cca2"], "PY");
    }
}
