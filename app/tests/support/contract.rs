//! The api's HTTP contract as data: one list of request → expected answer,
//! run against any base URL. `api_contract.rs` runs it against the local
//! TCP server and `lambda_runtime.rs` against the release `api` binary
//! behind the Lambda Runtime API emulator's Function URL path, so both
//! front doors are held to the same checks.
//!
//! Precondition: the stack has handled [`super::sqs_batch`]'s event (PY
//! and NO stored once, ZZ recorded as not found) and UY was never fetched.

mod run;

use reqwest::Method;
// Only the binaries that run the checks use it.
#[allow(unused_imports)]
pub use run::run;
use serde_json::Value;

/// What the body must be.
pub enum Body {
    /// Anything.
    Any,
    /// Nothing at all (HEAD, 304).
    Empty,
    /// Exactly this JSON.
    Json(Value),
    /// The `{Code, Message}` error shape with this code, and a message for which `says` holds.
    Error(&'static str, Says),
    /// JSON for which the named predicate holds.
    Holds(&'static str, fn(&Value) -> bool),
}

/// What an error's `Message` must say.
pub enum Says {
    /// Anything non-empty.
    Something,
    /// Starts with this.
    StartsWith(String),
    /// Contains this.
    Contains(String),
    /// Ends with this.
    EndsWith(String),
}

/// One request and the answer it must get.
pub struct Check {
    /// The method.
    pub method: Method,
    /// Path and query, from the api's root (`/status/PY?limit=2`).
    pub path: String,
    /// Request headers; the value `{etag}` stands for the last ETag answered.
    pub headers: Vec<(&'static str, &'static str)>,
    /// The status code.
    pub status: u16,
    /// Response headers that must be present; `{etag}` as above, `*` for any value.
    pub expect_headers: Vec<(&'static str, &'static str)>,
    /// The body.
    pub body: Body,
}

impl Check {
    fn new(method: Method, path: impl Into<String>, status: u16, body: Body) -> Self {
        Self {
            method,
            path: path.into(),
            headers: vec![],
            status,
            expect_headers: vec![],
            body,
        }
    }
    fn get(path: impl Into<String>, status: u16, body: Body) -> Self {
        Self::new(Method::GET, path, status, body)
    }
    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }
    fn expect(mut self, name: &'static str, value: &'static str) -> Self {
        self.expect_headers.push((name, value));
        self
    }
    /// `METHOD path`, as failures name the check.
    pub fn name(&self) -> String {
        let path: String = self.path.chars().take(60).collect();
        format!(
            "{} {path}{}",
            self.method,
            if self.path.len() > 60 { "…" } else { "" }
        )
    }
}

fn bad(message_start: &str) -> Body {
    Body::Error("BadRequestError", Says::StartsWith(message_start.into()))
}

fn accepted(v: &Value) -> bool {
    v["message"] == "fetch data request for country (PY) successfully queued."
        && v["request_id"].as_str().is_some_and(|id| !id.is_empty())
        && v["status_url"] == "/status/PY"
        && v["coalesced"] == false
        && v["forced"] == false
}

/// A fetch of PY while the first one is still pending: it joins it.
fn joined(v: &Value) -> bool {
    v["message"] == "fetch data request for country (PY) joined the pending request; nothing new was queued."
        && v["request_id"].as_str().is_some_and(|id| !id.is_empty())
        && v["status_url"] == "/status/PY"
        && v["coalesced"] == true
}

/// The name of a 202 check that queues a message (the others join a pending one).
const QUEUED: &str = "queued PY";

fn one_stored_py(v: &Value) -> bool {
    v.as_array().is_some_and(|a| {
        a.len() == 1 && a[0]["fetched_country"] == "PY" && a[0]["outcome"] == "stored"
    })
}

/// The contract, in order (the conditional GETs follow the GET whose ETag they use).
pub fn checks() -> Vec<Check> {
    let mut c = vec![
        Check::get(
            "/",
            200,
            Body::Holds("welcome and routes", |v| {
                v["welcome"] == "countries api demo" && v["routes"].is_array()
            }),
        ),
        Check::get(
            "/health",
            200,
            Body::Json(serde_json::json!({"status": "ok"})),
        ),
        Check::get(
            "/health/",
            200,
            Body::Json(serde_json::json!({"status": "ok"})),
        ),
        Check::new(Method::HEAD, "/health", 200, Body::Empty),
        Check::get(
            "/openapi.json",
            200,
            Body::Holds("an OpenAPI 3.1 document", |v| {
                v["openapi"].as_str().is_some_and(|s| s.starts_with("3.1"))
            }),
        ),
        // view-data: the stored document (UTF-8 intact), its validators, conditional GETs.
        Check::get(
            "/view-data/PY/",
            200,
            Body::Holds("Paraguay, capital Asunción", |v| {
                v["name"]["common"] == "Paraguay" && v["capital"] == serde_json::json!(["Asunción"])
            }),
        )
        .expect("cache-control", "public, max-age=60")
        .expect("etag", "*"),
        Check::get("/view-data/py", 304, Body::Empty)
            .header("if-none-match", "{etag}")
            .expect("etag", "{etag}"),
        Check::get("/view-data/py", 200, Body::Any).header("if-none-match", "\"other\""),
        Check::new(Method::HEAD, "/view-data/PY", 200, Body::Empty).expect("etag", "{etag}"),
        Check::get(
            "/view-data/no",
            200,
            Body::Holds("Norway", |v| v["name"]["common"] == "Norway"),
        ),
        Check::get(
            "/view-data/uy",
            404,
            Body::Error("NotFoundError", Says::Contains("/fetch-data/UY".into())),
        ),
        Check::get(
            "/view-data/ZZ",
            404,
            Body::Error("NotFoundError", Says::Something),
        ),
        // status: newest first, limited, empty for a country never asked for.
        Check::get(
            "/status/PY",
            200,
            Body::Holds("PY's one stored attempt", one_stored_py),
        ),
        Check::get(
            "/status/py/?limit=2",
            200,
            Body::Holds("PY's one stored attempt", one_stored_py),
        ),
        Check::get(
            "/status/ZZ?limit=5",
            200,
            Body::Holds("ZZ not found", |v| {
                v[0]["outcome"] == "not_found" && v[0]["success"] == false
            }),
        ),
        Check::get("/status/UY", 200, Body::Json(serde_json::json!([]))),
        // fetch-data: POST and GET, with and without a trailing slash. The
        // first queues; the next ones find it pending (no worker runs here) and join it.
        Check::new(
            Method::POST,
            "/fetch-data/py",
            202,
            Body::Holds(QUEUED, accepted),
        ),
        Check::new(
            Method::POST,
            "/fetch-data/PY/",
            202,
            Body::Holds("joined the pending PY", joined),
        ),
        Check::get(
            "/fetch-data/PY?force=true",
            202,
            Body::Holds("joined the pending PY", joined),
        ),
        Check::new(Method::HEAD, "/fetch-data/PY", 405, Body::Empty).expect("allow", "GET, POST"),
    ];
    // Bad country codes: a 400 before any table or queue is touched.
    let long = "A".repeat(10_000);
    let codes = [
        "P",
        "PRY",
        "P1",
        "12",
        "C2",
        "%C3%A9s",
        "%2F",
        "a%2Fb",
        "%00x",
        "a.",
        "%20PY",
        long.as_str(),
    ];
    for route in ["fetch-data", "view-data", "status"] {
        for code in codes {
            c.push(Check::get(
                format!("/{route}/{code}"),
                400,
                bad("Provided country code ["),
            ));
        }
    }
    // Strict query parameters.
    for query in [
        "limit=0",
        "limit=101",
        "limit=x",
        "limit=-1",
        "limit=+5",
        "limit=",
        "limit=1.0",
    ] {
        c.push(Check::get(
            format!("/status/PY?{query}"),
            400,
            Body::Error("BadRequestError", Says::Something),
        ));
    }
    for query in ["force=maybe", "force=", "force", "force=TRUE", "force=1"] {
        c.push(Check::new(
            Method::POST,
            format!("/fetch-data/PY?{query}"),
            400,
            bad("force must be true or false"),
        ));
    }
    for (method, path, says) in [
        (
            Method::POST,
            "/fetch-data/PY?FORCE=true",
            "Unknown query parameter [FORCE]: this route takes force.",
        ),
        (
            Method::POST,
            "/fetch-data/PY?force=true&force=false",
            "A query parameter is given more than once",
        ),
        (
            Method::GET,
            "/status/PY?limit=2&limit=3",
            "A query parameter is given more than once",
        ),
        (
            Method::GET,
            "/status/PY?count=3",
            "Unknown query parameter [count]: this route takes limit.",
        ),
    ] {
        c.push(Check::new(method, path, 400, bad(says)));
    }
    // What the caller sent is shown exactly: invisible characters escaped, a cut marked.
    for (code, shown) in [
        ("py%00", "[py\\u{0}]"),
        ("py%E2%80%8B", "[py\\u{200b}]"),
        ("%EF%BB%BFpy", "[\\u{feff}py]"),
    ] {
        c.push(Check::get(
            format!("/view-data/{code}"),
            400,
            Body::Error("BadRequestError", Says::Contains(shown.into())),
        ));
    }
    let nines = "9".repeat(30);
    c.push(Check::get(
        format!("/status/PY?limit={nines}"),
        400,
        Body::Error(
            "BadRequestError",
            Says::EndsWith(format!("got [{}...]", &nines[..16])),
        ),
    ));
    // Unknown routes and methods keep the error shape.
    for (method, path, status, code) in [
        (Method::GET, "/nope", 404, "NotFoundError"),
        (Method::GET, "/view-data", 404, "NotFoundError"),
        (Method::GET, "/view-data/PY/extra", 404, "NotFoundError"),
        (
            Method::DELETE,
            "/view-data/PY",
            405,
            "MethodNotAllowedError",
        ),
        (Method::POST, "/status/PY", 405, "MethodNotAllowedError"),
        (Method::PUT, "/fetch-data/PY", 405, "MethodNotAllowedError"),
    ] {
        c.push(Check::new(
            method,
            path,
            status,
            Body::Error(code, Says::Something),
        ));
    }
    c
}

/// How many checks queue a fetch (each must queue exactly one message; a
/// coalesced 202 queues none).
pub fn queued_by(checks: &[Check]) -> usize {
    checks
        .iter()
        .filter(|c| matches!(c.body, Body::Holds(what, _) if what == QUEUED))
        .count()
}
