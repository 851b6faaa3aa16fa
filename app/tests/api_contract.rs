//! The HTTP contract of DESIGN §2.1, end to end: api → SQS → worker →
//! DynamoDB → api, against moto and the offline upstream over real HTTP.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use support::{Stack, http, serve_api, upstream};

#[tokio::test(flavor = "multi_thread")]
async fn fetch_then_view_then_status() {
    let stack = Stack::create(2, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[])).await;
    let worker = stack.worker(&up.url, &[]).await;
    let client = http();

    // Never fetched: 404 in the seed's shape, and an empty status.
    let res = client.get(format!("{api}/view-data/py")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["Code"], "NotFoundError");
    assert!(body["Message"].as_str().unwrap().contains("/fetch-data/PY"));
    let status: Value = client.get(format!("{api}/status/PY")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status, serde_json::json!([]));

    // Queue, work, view.
    let res = client.post(format!("{api}/fetch-data/py/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let queued: Value = res.json().await.unwrap();
    assert_eq!(queued["message"], "fetch data request for country (PY) successfully queued.");
    let request_id = queued["request_id"].as_str().unwrap().to_string();
    assert_eq!(stack.poller().run_until_idle(&worker, 1).await.unwrap(), 1);

    let res = client.get(format!("{api}/view-data/PY/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let country: Value = res.json().await.unwrap();
    assert_eq!(country["name"]["common"], "Paraguay");
    assert_eq!(country["capital"], serde_json::json!(["Asunción"]));

    // Conditional GET.
    let res = client.get(format!("{api}/view-data/py")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
    assert!(res.bytes().await.unwrap().is_empty());
    let res = client.get(format!("{api}/view-data/py")).header("if-none-match", "\"other\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Status: the attempt, carrying the request id from the api.
    let status: Value = client.get(format!("{api}/status/py")).send().await.unwrap().json().await.unwrap();
    let attempts = status.as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["fetched_country"], "PY");
    assert_eq!(attempts[0]["success"], true);
    assert_eq!(attempts[0]["error"], "");
    assert_eq!(attempts[0]["outcome"], "stored");
    assert_eq!(attempts[0]["request_id"], request_id.as_str());
    assert!(attempts[0]["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_is_newest_first_with_a_limit_and_refetch_is_guarded() {
    let stack = Stack::create(2, 4).await;
    let up = upstream().await;
    let api = serve_api(stack.api_state(&[])).await;
    let worker = stack.worker(&up.url, &[]).await;
    let client = http();
    let mut ids = Vec::new();
    for force in ["", "?force=true", ""] {
        let queued: Value = client.get(format!("{api}/fetch-data/DE{force}")).send().await.unwrap().json().await.unwrap();
        ids.push(queued["request_id"].as_str().unwrap().to_string());
        stack.poller().run_until_idle(&worker, 1).await.unwrap();
    }
    let status: Value = client.get(format!("{api}/status/de?limit=10")).send().await.unwrap().json().await.unwrap();
    let attempts = status.as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    let seen: Vec<&str> = attempts.iter().map(|a| a["request_id"].as_str().unwrap()).collect();
    assert_eq!(seen, [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()], "newest first");
    let outcomes: Vec<&str> = attempts.iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    // The third, unforced request found a fresh copy: no upstream call.
    assert_eq!(outcomes, ["served_from_store", "stored", "stored"]);
    assert_eq!(up.faults.requests.load(std::sync::atomic::Ordering::SeqCst), 2);

    let two: Value = client.get(format!("{api}/status/DE/?limit=2")).send().await.unwrap().json().await.unwrap();
    assert_eq!(two.as_array().unwrap().len(), 2);
    let default: Value = client.get(format!("{api}/status/DE")).send().await.unwrap().json().await.unwrap();
    assert_eq!(default.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_400_before_anything_is_touched() {
    let stack = Stack::create(2, 4).await;
    let api = serve_api(stack.api_state(&[])).await;
    let client = http();
    let long = "A".repeat(10_000);
    let codes = ["P", "PRY", "P1", "12", "C2", "%C3%A9s", "%2F", "a%2Fb", "%00x", "a.", "%20PY", long.as_str()];
    for route in ["fetch-data", "view-data", "status"] {
        for code in codes {
            let res = client.get(format!("{api}/{route}/{code}")).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "/{route}/{}", &code[..code.len().min(20)]);
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["Code"], "BadRequestError");
            assert!(body["Message"].as_str().unwrap().starts_with("Provided country code ["), "{body}");
        }
    }
    for query in ["limit=0", "limit=101", "limit=x", "limit=-1", "limit=+5", "limit=", "limit=1.0"] {
        let res = client.get(format!("{api}/status/PY?{query}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    // `force` is a boolean, as /openapi.json says: "true" or "false", nothing else.
    for query in ["force=maybe", "force=", "force", "force=TRUE", "force=1"] {
        let res = client.post(format!("{api}/fetch-data/PY?{query}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = res.json().await.unwrap();
        assert!(body["Message"].as_str().unwrap().starts_with("force must be true or false"), "{body}");
    }
    // A misspelt or repeated parameter is an error, not silently ignored or overridden.
    for (method, route, query, says) in [
        (Method::POST, "fetch-data/PY", "FORCE=true", "Unknown query parameter [FORCE]: this route takes force."),
        (Method::POST, "fetch-data/PY", "force=true&force=false", "A query parameter is given more than once"),
        (Method::GET, "status/PY", "limit=2&limit=3", "A query parameter is given more than once"),
        (Method::GET, "status/PY", "count=3", "Unknown query parameter [count]: this route takes limit."),
    ] {
        let res = client.request(method, format!("{api}/{route}?{query}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{route}?{query}");
        let body: Value = res.json().await.unwrap();
        assert!(body["Message"].as_str().unwrap().starts_with(says), "{route}?{query}: {body}");
    }
    // What the caller sent is shown exactly: invisible characters escaped, a cut marked.
    for (code, shown) in [("py%00", "[py\\u{0}]"), ("py%E2%80%8B", "[py\\u{200b}]"), ("%EF%BB%BFpy", "[\\u{feff}py]")] {
        let body: Value = client.get(format!("{api}/view-data/{code}")).send().await.unwrap().json().await.unwrap();
        assert!(body["Message"].as_str().unwrap().contains(shown), "{code}: {body}");
    }
    let body: Value = client.get(format!("{api}/status/PY?limit={}", "9".repeat(30))).send().await.unwrap().json().await.unwrap();
    assert!(body["Message"].as_str().unwrap().ends_with(&format!("got [{}...]", "9".repeat(16))), "{body}");
    // HEAD changes nothing: on fetch-data it would queue a fetch, so it is refused.
    let res = client.head(format!("{api}/fetch-data/PY")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET, POST");
    // None of it reached the queue.
    assert!(stack.drain_bodies(&stack.queue_url).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_and_methods_use_the_error_shape() {
    let stack = Stack::create(2, 4).await;
    let api = serve_api(stack.api_state(&[])).await;
    let client = http();
    for (method, path, status, code) in [
        ("GET", "/nope", 404, "NotFoundError"),
        ("GET", "/view-data", 404, "NotFoundError"),
        ("GET", "/view-data/PY/extra", 404, "NotFoundError"),
        ("DELETE", "/view-data/PY", 405, "MethodNotAllowedError"),
        ("POST", "/status/PY", 405, "MethodNotAllowedError"),
        ("PUT", "/fetch-data/PY", 405, "MethodNotAllowedError"),
    ] {
        let res = client.request(method.parse().unwrap(), format!("{api}{path}")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["Code"], code, "{method} {path}");
        assert!(!body["Message"].as_str().unwrap().is_empty());
    }
    for path in ["/", "/health", "/health/"] {
        assert_eq!(client.get(format!("{api}{path}")).send().await.unwrap().status(), StatusCode::OK, "{path}");
    }
    let welcome: Value = client.get(format!("{api}/")).send().await.unwrap().json().await.unwrap();
    assert_eq!(welcome["welcome"], "countries api demo");
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_dependencies_give_5xx_in_the_seed_shape() {
    let stack = Stack::create(2, 4).await;
    let broken = stack.api_state(&[
        ("COUNTRIES_TABLE", "no-such-table"),
        ("STATUS_TABLE", "no-such-table"),
        ("QUEUE_URL", &format!("{}/123456789012/no-such-queue", testkit::moto().endpoint)),
    ]);
    let api = serve_api(broken).await;
    let client = http();
    for (path, method, code) in [
        ("/view-data/PY", "GET", "GetCountryFailure"),
        ("/status/PY", "GET", "GetStatusFailure"),
        ("/fetch-data/PY", "POST", "QueueSendMessageFailure"),
    ] {
        let res = client.request(method.parse().unwrap(), format!("{api}{path}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["Code"], code);
        let message = body["Message"].as_str().unwrap();
        assert!(!message.contains("127.0.0.1") && !message.contains("no-such"), "internals leaked: {message}");
    }
}
