//! A REST Countries v3.1-compatible server over the bundled dataset, so
//! tests, benchmarks and the local stage work offline. It answers like the
//! legacy service: `GET /v3.1/alpha/{code}` matches cca2, cca3, ccn3 or cioc
//! without regard to case, 404 `{"status":404,"message":"Not Found"}` for no
//! match, 400 for a code that is not 2–3 characters. [`Faults`] makes it
//! fail or stall a share of requests, for the failure tests and benchmarks;
//! `GET /faults` shows them and the request counts, `POST /faults?...`
//! changes them while it runs (a failing upstream healing, on `up local`).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// The dataset, indexed by every code the legacy service matched.
pub struct Dataset {
    /// Pre-serialized `[record]` answers, shared by all their codes.
    answers: Vec<Arc<[u8]>>,
    by_code: HashMap<String, usize>,
}

impl Dataset {
    /// Parses a REST Countries v3.1 JSON array (the bundled file).
    pub fn from_json(text: &str) -> Result<Self, String> {
        let records: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("the dataset is not a JSON array of countries: {e}"))?;
        let mut by_code = HashMap::new();
        let mut answers = Vec::with_capacity(records.len());
        for (index, record) in records.iter().enumerate() {
            for field in ["cca2", "cca3", "ccn3", "cioc"] {
                if let Some(code) = record.get(field).and_then(|v| v.as_str()).filter(|c| !c.is_empty()) {
                    by_code.insert(code.to_ascii_uppercase(), index);
                }
            }
            let answer = serde_json::to_vec(&[record]).map_err(|e| e.to_string())?;
            answers.push(Arc::from(answer));
        }
        Ok(Self { answers, by_code })
    }

    /// Number of countries.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// True when there are no countries.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// The `[record]` answer for a code, if any.
    pub fn answer(&self, code: &str) -> Option<Arc<[u8]>> {
        self.by_code.get(&code.to_ascii_uppercase()).map(|&i| Arc::clone(&self.answers[i]))
    }
}

/// Injected faults, changeable while the server runs. Rates are per mille.
#[derive(Default)]
pub struct Faults {
    /// Share of requests answered 500.
    pub fail_per_mille: AtomicU32,
    /// Share of requests that stall for `stall_ms` before answering (a client timeout).
    pub stall_per_mille: AtomicU32,
    /// How long a stalled request waits.
    pub stall_ms: AtomicU64,
    /// Delay added to every answer (a slow upstream).
    pub delay_ms: AtomicU64,
    /// Requests received, for tests that count upstream calls.
    pub requests: AtomicU64,
    /// Requests answered 500 by the fault switch, so a test can tell that
    /// faults really happened rather than trusting the setting.
    pub failed: AtomicU64,
    /// Requests stalled by the fault switch (before answering normally).
    pub stalled: AtomicU64,
}

impl Faults {
    /// Sets the failure and stall shares at once.
    pub fn set(&self, fail_per_mille: u32, stall_per_mille: u32) {
        self.fail_per_mille.store(fail_per_mille, Ordering::SeqCst);
        self.stall_per_mille.store(stall_per_mille, Ordering::SeqCst);
    }
}

/// A deterministic pseudo-random number in 0..1000 for the n-th request
/// (splitmix64), so a fault run can be repeated exactly.
fn roll(n: u64) -> u32 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % 1000) as u32
}

#[derive(Clone)]
struct Server {
    dataset: Arc<Dataset>,
    faults: Arc<Faults>,
}

/// The router: `/v3.1/alpha/{code}`, `/faults` and `/health`.
pub fn router(dataset: Arc<Dataset>, faults: Arc<Faults>) -> Router {
    Router::new()
        .route("/v3.1/alpha/{code}", get(alpha))
        .route("/faults", get(show_faults).post(set_faults))
        .route("/health", get(|| async { "ok" }))
        .with_state(Server { dataset, faults })
}

/// The fault switches and the counts, as JSON.
async fn show_faults(State(server): State<Server>) -> Response {
    let f = &server.faults;
    let load = |a: &AtomicU64| a.load(Ordering::SeqCst);
    let body = serde_json::json!({
        "fail_per_mille": f.fail_per_mille.load(Ordering::SeqCst),
        "stall_per_mille": f.stall_per_mille.load(Ordering::SeqCst),
        "stall_ms": load(&f.stall_ms),
        "delay_ms": load(&f.delay_ms),
        "requests": load(&f.requests),
        "failed": load(&f.failed),
        "stalled": load(&f.stalled),
    });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// Sets the switches given as query parameters (the command-line flags' names
/// without `--`, with `_`); the others keep their values.
async fn set_faults(State(server): State<Server>, Query(params): Query<HashMap<String, String>>) -> Response {
    let f = &server.faults;
    for (name, value) in &params {
        let Ok(n) = value.parse::<u64>() else {
            return legacy_error(StatusCode::BAD_REQUEST, "Fault values are whole numbers");
        };
        match name.as_str() {
            "fail_per_mille" if n <= 1000 => f.fail_per_mille.store(n as u32, Ordering::SeqCst),
            "stall_per_mille" if n <= 1000 => f.stall_per_mille.store(n as u32, Ordering::SeqCst),
            "stall_ms" => f.stall_ms.store(n, Ordering::SeqCst),
            "delay_ms" => f.delay_ms.store(n, Ordering::SeqCst),
            _ => return legacy_error(StatusCode::BAD_REQUEST, "Unknown fault or value out of range"),
        }
    }
    show_faults(State(server)).await
}

fn legacy_error(status: StatusCode, message: &str) -> Response {
    let body = format!("{{\"status\":{},\"message\":\"{message}\"}}", status.as_u16());
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn alpha(State(server): State<Server>, Path(code): Path<String>) -> Response {
    let n = server.faults.requests.fetch_add(1, Ordering::SeqCst);
    let delay = server.faults.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let dice = roll(n);
    let fail = server.faults.fail_per_mille.load(Ordering::Relaxed);
    let stall = server.faults.stall_per_mille.load(Ordering::Relaxed);
    if dice < fail {
        server.faults.failed.fetch_add(1, Ordering::SeqCst);
        return legacy_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    }
    if dice < fail + stall {
        server.faults.stalled.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(server.faults.stall_ms.load(Ordering::Relaxed))).await;
    }
    if !(2..=3).contains(&code.chars().count()) {
        return legacy_error(StatusCode::BAD_REQUEST, "Bad Request");
    }
    match server.dataset.answer(&code) {
        Some(answer) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, immutable, max-age=31556926")],
            answer.to_vec(),
        )
            .into_response(),
        None => legacy_error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_every_legacy_code_without_case() {
        let data = Dataset::from_json(
            r#"[{"cca2":"DE","cca3":"DEU","ccn3":"276","cioc":"GER","fifa":"GER"},{"cca2":"XK","cca3":"UNK","ccn3":"","cioc":""}]"#,
        )
        .unwrap();
        assert_eq!(data.len(), 2);
        for code in ["de", "DEU", "276", "ger", "xk", "unk"] {
            assert!(data.answer(code).is_some(), "{code}");
        }
        assert!(data.answer("").is_none());
        let answer: serde_json::Value = serde_json::from_slice(&data.answer("de").unwrap()).unwrap();
        assert_eq!(answer[0]["cca2"], "DE");
    }

    #[tokio::test]
    async fn faults_can_be_read_and_changed_while_it_runs() {
        use tower::ServiceExt;
        let data = Arc::new(Dataset::from_json(r#"[{"cca2":"DE"}]"#).unwrap());
        let faults = Arc::new(Faults::default());
        let app = router(data, Arc::clone(&faults));
        let call = |method: &str, uri: &str| {
            let request = axum::http::Request::builder().method(method).uri(uri).body(axum::body::Body::empty()).unwrap();
            app.clone().oneshot(request)
        };
        let set = call("POST", "/faults?fail_per_mille=1000&stall_ms=5").await.unwrap();
        assert_eq!(set.status(), StatusCode::OK);
        assert_eq!(call("GET", "/v3.1/alpha/de").await.unwrap().status(), StatusCode::INTERNAL_SERVER_ERROR);
        call("POST", "/faults?fail_per_mille=0").await.unwrap();
        assert_eq!(call("GET", "/v3.1/alpha/de").await.unwrap().status(), StatusCode::OK);
        let shown = call("GET", "/faults").await.unwrap();
        let bytes = axum::body::to_bytes(shown.into_body(), 1 << 16).await.unwrap();
        let shown: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(shown, serde_json::json!({"fail_per_mille": 0, "stall_per_mille": 0, "stall_ms": 5, "delay_ms": 0, "requests": 2, "failed": 1, "stalled": 0}));
        for bad in ["/faults?fail_per_mille=1001", "/faults?fail=1", "/faults?delay_ms=x"] {
            assert_eq!(call("POST", bad).await.unwrap().status(), StatusCode::BAD_REQUEST, "{bad}");
        }
    }

    #[test]
    fn rolls_are_spread_and_repeatable() {
        let failures = (0..10_000).filter(|&n| roll(n) < 200).count();
        assert!((1_800..2_200).contains(&failures), "{failures}");
        assert_eq!(roll(42), roll(42));
    }
}
