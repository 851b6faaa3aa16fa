//! Runs [`super::Check`]s against a base URL and reports which held.

use super::{Body, Check, Says};
use serde_json::Value;

/// The result of running the checks against one base URL.
pub struct Report {
    /// Checks that held.
    pub passed: usize,
    /// `name: what differed`, one per check that did not hold.
    pub failures: Vec<String>,
}

/// Runs `checks` in order against `base` (no trailing slash).
pub async fn run(base: &str, checks: &[Check]) -> Report {
    let client = crate::support::http();
    let mut etag = String::new();
    let mut report = Report {
        passed: 0,
        failures: vec![],
    };
    for check in checks {
        match run_one(&client, base, check, &mut etag).await {
            Ok(()) => report.passed += 1,
            Err(e) => report.failures.push(format!("{}: {e}", check.name())),
        }
    }
    report
}

async fn run_one(
    client: &reqwest::Client,
    base: &str,
    check: &Check,
    etag: &mut String,
) -> Result<(), String> {
    let fill = |v: &str| {
        if v == "{etag}" {
            etag.clone()
        } else {
            v.to_string()
        }
    };
    let request = || {
        let mut request = client.request(check.method.clone(), format!("{base}{}", check.path));
        for (name, value) in &check.headers {
            request = request.header(*name, fill(value));
        }
        request
    };
    // A GET that got no answer at all (a busy machine, an emulator still
    // starting) is asked once more; anything that answered is judged as is.
    let res = match request().send().await {
        Err(e) if check.method == reqwest::Method::GET => {
            eprintln!("{}: no answer ({e}); asking once more", check.name());
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            request().send().await
        }
        other => other,
    }
    .map_err(|e| format!("no answer: {e} ({:?})", std::error::Error::source(&e)))?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res
        .bytes()
        .await
        .map_err(|e| format!("body unreadable: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let shown: String = text.chars().take(300).collect();
    if status != check.status {
        return Err(format!("answered {status}, not {}: {shown}", check.status));
    }
    for (name, want) in &check.expect_headers {
        let got = headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("no {name} header"))?;
        let want = fill(want);
        if want != "*" && got != want {
            return Err(format!("{name} is {got:?}, not {want:?}"));
        }
    }
    if let Some(tag) = headers.get("etag").and_then(|v| v.to_str().ok()) {
        *etag = tag.to_string();
    }
    let json =
        || serde_json::from_slice::<Value>(&bytes).map_err(|e| format!("not JSON ({e}): {shown}"));
    match &check.body {
        Body::Any => Ok(()),
        Body::Empty if bytes.is_empty() => Ok(()),
        Body::Empty => Err(format!("a body where none belongs: {shown}")),
        Body::Json(want) => (json()? == *want)
            .then_some(())
            .ok_or_else(|| format!("body is {shown}, not {want}")),
        Body::Holds(what, holds) => holds(&json()?)
            .then_some(())
            .ok_or_else(|| format!("body is not {what}: {shown}")),
        Body::Error(code, says) => {
            let body = json()?;
            let message = body["Message"].as_str().unwrap_or_default();
            let said = match says {
                Says::Something => !message.is_empty(),
                Says::StartsWith(s) => message.starts_with(s.as_str()),
                Says::Contains(s) => message.contains(s.as_str()),
                Says::EndsWith(s) => message.ends_with(s.as_str()),
            };
            let only_two = body.as_object().is_some_and(|o| o.len() == 2);
            (body["Code"] == *code && said && only_two)
                .then_some(())
                .ok_or_else(|| format!("not {code} as expected: {shown}"))
        }
    }
}
