//! The smoke test after a deploy: `GET <api>/health` answers 200.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Polls `GET {base}/health` until it answers 200 or `patience` runs out.
pub async fn health(base: &str, patience: Duration) -> Result<()> {
    let url = format!("{}/health", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::SmokeTestFailed {
            url: url.clone(),
            detail: e.to_string(),
        })?;
    let started = Instant::now();
    let mut last;
    loop {
        match client.get(&url).send().await {
            Ok(resp) if resp.status().is_success() => return Ok(()),
            Ok(resp) => last = format!("it answered {}", resp.status()),
            Err(e) => last = format!("no answer: {e}"),
        }
        if started.elapsed() >= patience {
            return Err(Error::SmokeTestFailed { url, detail: last });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
