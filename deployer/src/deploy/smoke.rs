//! The smoke test after a deploy (`up`, `promote`) and after `up local`
//! starts the api: `GET /health` answers, then two read routes that touch
//! DynamoDB answer in their documented shape, `GET /status/PY?limit=1` (a
//! query on the status table) and `GET /view-data/PY` (a read of the
//! countries table: the country, or a 404 in the `{Code, Message}` shape).
//! Neither queues a fetch nor calls the upstream, so a smoke test spends no
//! upstream quota, yet a missing table, a wrong table name or a missing
//! permission fails the deploy here instead of a user's first request.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{DeployError, Error, Result};

/// Decides whether an answer (status, body) is right; `Err` says what it was instead.
type Accept = fn(u16, &[u8]) -> std::result::Result<(), String>;

/// The requests, in order, and what each must answer. PY is any country:
/// stored or not, both answers have a documented shape.
pub const CHECKS: [(&str, Accept); 3] = [
    ("/health", health),
    ("/status/PY?limit=1", status),
    ("/view-data/PY", view),
];

/// Runs the smoke test against `base`: each request is retried until it
/// answers as it should or `patience` (for the whole test) has run out, so
/// a function still starting (or a role still propagating) gets its time.
pub async fn check(base: &str, patience: Duration) -> Result<()> {
    let base = base.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            Error::from(DeployError::SmokeTestFailed {
                url: base.to_string(),
                detail: e.to_string(),
            })
        })?;
    let deadline = Instant::now() + patience;
    for (path, accept) in CHECKS {
        poll(&client, &format!("{base}{path}"), accept, deadline).await?;
    }
    Ok(())
}

async fn poll(
    client: &reqwest::Client,
    url: &str,
    accept: Accept,
    deadline: Instant,
) -> Result<()> {
    loop {
        let last = match client.get(url).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.bytes().await {
                    Ok(body) => match accept(status, &body) {
                        Ok(()) => return Ok(()),
                        Err(e) => e,
                    },
                    Err(e) => format!("it answered {status} and then broke off: {e}"),
                }
            }
            Err(e) => format!("no answer: {e}"),
        };
        if Instant::now() >= deadline {
            return Err(DeployError::SmokeTestFailed {
                url: url.to_string(),
                detail: last,
            }
            .into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `it answered 500 {"Code":…}, not <expected>`: the start of the body, on one line.
fn answered(status: u16, body: &[u8], expected: &str) -> String {
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = if text.is_empty() {
        "with an empty body".to_string()
    } else {
        text
    };
    format!("it answered {status} {text}, not {expected}")
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

fn health(status: u16, body: &[u8]) -> std::result::Result<(), String> {
    let ok = status == 200 && json(body)["status"] == "ok";
    ok.then_some(())
        .ok_or_else(|| answered(status, body, r#"200 {"status": "ok"}"#))
}

fn status(status: u16, body: &[u8]) -> std::result::Result<(), String> {
    let attempts = json(body);
    let ok = status == 200
        && attempts.as_array().is_some_and(|a| {
            a.len() <= 1
                && a.iter()
                    .all(|row| row["fetched_country"] == "PY" && row["outcome"].is_string())
        });
    ok.then_some(()).ok_or_else(|| {
        answered(
            status,
            body,
            "200 with a JSON array of at most one PY fetch attempt",
        )
    })
}

fn view(status: u16, body: &[u8]) -> std::result::Result<(), String> {
    let doc = json(body);
    let ok = match status {
        200 => doc["cca2"] == "PY",
        404 => doc["Code"] == "NotFoundError" && doc["Message"].is_string(),
        _ => false,
    };
    ok.then_some(()).ok_or_else(|| {
        answered(
            status,
            body,
            r#"200 with PY's document or 404 {"Code": "NotFoundError", ...}"#,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::routing::get;

    type Answer = (u16, &'static str);

    /// An api on a free loopback port answering `status` and `view` as given.
    async fn api(status: Answer, view: Answer) -> String {
        let reply = |(code, body): Answer| {
            move || async move { (StatusCode::from_u16(code).unwrap(), body) }
        };
        let app = axum::Router::new()
            .route("/health", get(|| async { r#"{"status":"ok"}"# }))
            .route("/status/PY", get(reply(status)))
            .route("/view-data/PY", get(reply(view)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    const STORED_STATUS: &str = r#"[{"fetched_country":"PY","outcome":"stored","success":true}]"#;
    const NOT_FOUND: &str =
        r#"{"Code":"NotFoundError","Message":"Country PY has not been fetched yet."}"#;
    const PATIENCE: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn a_new_stage_and_a_used_one_both_pass() {
        let fresh = api((200, "[]"), (404, NOT_FOUND)).await;
        check(&format!("{fresh}/"), PATIENCE).await.unwrap();
        let used = api(
            (200, STORED_STATUS),
            (200, r#"{"cca2":"PY","name":{"common":"Paraguay"}}"#),
        )
        .await;
        check(&used, PATIENCE).await.unwrap();
    }

    #[tokio::test]
    async fn a_broken_read_route_fails_naming_the_url_and_the_answer() {
        // The status table is missing or the role may not query it.
        let base = api(
            (
                500,
                r#"{"Code":"GetStatusFailure","Message":"Could not read."}"#,
            ),
            (404, NOT_FOUND),
        )
        .await;
        let err = check(&base, PATIENCE).await.unwrap_err();
        let Error::Deploy(DeployError::SmokeTestFailed { url, detail }) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(url, &format!("{base}/status/PY?limit=1"));
        assert!(
            detail.starts_with(r#"it answered 500 {"Code":"GetStatusFailure""#),
            "{detail}"
        );
        // The wrong shape fails too: another country, a gateway's own error, an object.
        for (status, view) in [
            ((200, STORED_STATUS), (200, r#"{"cca2":"DE"}"#)),
            ((200, STORED_STATUS), (403, r#"{"message":"Forbidden"}"#)),
            ((200, "{}"), (404, NOT_FOUND)),
            (
                (200, r#"[{"fetched_country":"DE","outcome":"stored"}]"#),
                (404, NOT_FOUND),
            ),
        ] {
            let base = api(status, view).await;
            let err = check(&base, PATIENCE).await.unwrap_err();
            assert!(
                matches!(err, Error::Deploy(DeployError::SmokeTestFailed { .. })),
                "{status:?} {view:?}: {err:?}"
            );
        }
    }

    #[tokio::test]
    async fn no_api_fails_at_health() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = check(&format!("http://127.0.0.1:{port}"), PATIENCE)
            .await
            .unwrap_err();
        let Error::Deploy(DeployError::SmokeTestFailed { url, detail }) = &err else {
            panic!("{err:?}")
        };
        assert!(
            url.ends_with("/health") && detail.starts_with("no answer"),
            "{url}: {detail}"
        );
    }
}
