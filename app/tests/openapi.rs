//! The API describes itself at `/openapi.json`, and schemathesis holds it
//! to that: generated requests (valid and invalid) against the running api
//! on moto must never get a server error, an undocumented status code or a
//! body that breaks the schema.

use crate::support;

use serde_json::Value;
use std::process::Command;
use support::{Stack, get_json, http, serve_api};

#[tokio::test(flavor = "multi_thread")]
async fn the_document_lists_every_route_and_the_error_shape() {
    let stack = Stack::create(2, 4).await;
    let api = serve_api(stack.api_state(&[])).await;
    let doc: Value = get_json(format!("{api}/openapi.json")).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    for path in ["/", "/fetch-data/{code}", "/view-data/{code}", "/status/{code}", "/health"] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    assert!(paths["/fetch-data/{code}"]["post"].is_object() && paths["/fetch-data/{code}"]["get"].is_object());
    let error = &doc["components"]["schemas"]["ApiError"]["properties"];
    assert!(error["Code"].is_object() && error["Message"].is_object(), "{error}");
    assert!(paths["/view-data/{code}"]["get"]["responses"]["304"].is_object());
    // The guards' answers: 429 with Retry-After when the budget is spent; 202's coalescing fields.
    let fetch = &paths["/fetch-data/{code}"]["post"]["responses"];
    assert!(fetch["429"]["headers"]["Retry-After"].is_object(), "{}", fetch["429"]);
    let accepted = &doc["components"]["schemas"]["FetchAccepted"]["properties"];
    for field in ["coalesced", "forced", "force_allowed_at"] {
        assert!(accepted[field].is_object(), "FetchAccepted lacks {field}: {accepted}");
    }
    let attempt = &doc["components"]["schemas"]["Attempt"]["properties"];
    assert!(attempt["coalesced_requests"].is_object(), "{attempt}");
    let outcomes = doc["components"]["schemas"]["Outcome"].to_string();
    assert!(outcomes.contains("budget_exhausted"), "{outcomes}");
}

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_violation() {
    let schemathesis = testkit::python_tool("venv-schemathesis", "tools/requirements-schemathesis.txt", "schemathesis");
    let stack = Stack::create(2, 4).await;
    let api = serve_api(stack.api_state(&[])).await;
    // Seed one country so view-data has a 200 and a 304 to check.
    let worker_upstream = support::upstream().await;
    let worker = stack.worker(&worker_upstream.url, &[]).await;
    http().post(format!("{api}/fetch-data/PY")).send().await.unwrap();
    stack.poller().run_until_idle(&worker, 1).await.unwrap();

    let url = format!("{api}/openapi.json");
    // CI runs 40 examples per operation; set SCHEMATHESIS_MAX_EXAMPLES for a deeper run.
    let examples = std::env::var("SCHEMATHESIS_MAX_EXAMPLES").unwrap_or_else(|_| "40".into());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(schemathesis)
            .args(["run", &url, "--checks", "all", "--max-examples", &examples, "--workers", "2", "--no-color"])
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("{report}");
    assert!(output.status.success(), "schemathesis found problems:\n{report}");
}
