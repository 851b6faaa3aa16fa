//! The plan on the pull request: one comment per pull request, found again by
//! a hidden marker and updated in place, with one section per planned stage
//! (so the pull-request build's plans of dev, staging and prod share it).
//!
//! `merge` is pure; `upsert` talks to GitHub's REST API (issue comments), at
//! `GITHUB_API_URL` when set. Posting is best effort: a plan never fails
//! because its comment could not be posted, it says why instead.

mod token;

use serde_json::{Value, json};

pub use token::token;

/// Marks the comment this deployer owns on a pull request.
pub const MARKER: &str = "<!-- countries-deployer-plan -->";
/// GitHub's API when `GITHUB_API_URL` is not set.
pub const DEFAULT_API: &str = "https://api.github.com";
/// Overrides the API's base URL (GitHub Enterprise; the tests' recorded endpoint).
pub const API_ENV: &str = "GITHUB_API_URL";

fn start(stage: &str) -> String {
    format!("<!-- countries-deployer-plan:{stage} -->")
}

fn end(stage: &str) -> String {
    format!("<!-- /countries-deployer-plan:{stage} -->")
}

/// The comment body with `stage`'s section set to `section`: replaced in place
/// when the comment has one, appended otherwise; a new comment when `existing`
/// is none. Sections of other stages stay as they are. Pure.
pub fn merge(existing: Option<&str>, stage: &str, section: &str) -> String {
    let block = format!("{}\n{}\n{}", start(stage), section.trim_end(), end(stage));
    let body = existing.unwrap_or("");
    let (s, e) = (start(stage), end(stage));
    if let (Some(a), Some(b)) = (body.find(&s), body.find(&e))
        && a < b
    {
        return format!("{}{block}{}", &body[..a], &body[b + e.len()..]);
    }
    if body.contains(MARKER) {
        return format!("{}\n\n{block}\n", body.trim_end());
    }
    format!("{MARKER}\n## Deployment plan\n\n{block}\n")
}

/// Which pull request `--post-to-pr` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullRequest {
    /// By number.
    Number(u64),
    /// The open pull request whose head is the planned commit (the pipeline knows no number).
    Auto,
}

impl std::str::FromStr for PullRequest {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(PullRequest::Auto),
            n => n
                .parse()
                .map(PullRequest::Number)
                .map_err(|_| format!("`{n}` is not a pull request number or `auto`")),
        }
    }
}

impl std::fmt::Display for PullRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PullRequest::Number(n) => write!(f, "{n}"),
            PullRequest::Auto => f.write_str("auto"),
        }
    }
}

/// What `upsert` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// A new comment, with its id.
    Created(u64),
    /// Our comment, updated in place.
    Updated(u64),
}

/// Sets `stage`'s section of our comment on pull request `pr` of `repo`
/// (`owner/name`), creating the comment when the pull request has none; `commit`
/// finds the pull request for `PullRequest::Auto`. Returns the number too.
pub async fn upsert(
    api: &str,
    repo: &str,
    pr: PullRequest,
    commit: &str,
    token: &str,
    stage: &str,
    section: &str,
) -> Result<(u64, Posted), String> {
    let api = api.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let call = |method: reqwest::Method, url: String| {
        http.request(method, url)
            .bearer_auth(token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .header("user-agent", "countries-deployer")
    };
    let pr = match pr {
        PullRequest::Number(n) => n,
        PullRequest::Auto => {
            let url = format!("{api}/repos/{repo}/commits/{commit}/pulls");
            let pulls = send(call(reqwest::Method::GET, url)).await?;
            pulls
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["state"] == "open")
                .find_map(|p| p["number"].as_u64())
                .ok_or_else(|| {
                    format!("no open pull request of {repo} has commit {commit} as its head")
                })?
        }
    };
    let mut ours: Option<(u64, String)> = None;
    for page in 1.. {
        let url = format!("{api}/repos/{repo}/issues/{pr}/comments?per_page=100&page={page}");
        let comments = send(call(reqwest::Method::GET, url)).await?;
        let list = comments.as_array().cloned().unwrap_or_default();
        ours = list.iter().find_map(|c| {
            let body = c["body"].as_str()?;
            Some((c["id"].as_u64()?, body.to_string())).filter(|_| body.contains(MARKER))
        });
        if ours.is_some() || list.len() < 100 {
            break;
        }
    }
    let body = merge(ours.as_ref().map(|(_, b)| b.as_str()), stage, section);
    match ours {
        Some((id, _)) => {
            let url = format!("{api}/repos/{repo}/issues/comments/{id}");
            send(call(reqwest::Method::PATCH, url).json(&json!({ "body": body }))).await?;
            Ok((pr, Posted::Updated(id)))
        }
        None => {
            let url = format!("{api}/repos/{repo}/issues/{pr}/comments");
            let created =
                send(call(reqwest::Method::POST, url).json(&json!({ "body": body }))).await?;
            Ok((
                pr,
                Posted::Created(created["id"].as_u64().unwrap_or_default()),
            ))
        }
    }
}

/// Sends a request; GitHub's `message` when it answers an error.
async fn send(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let answer = request
        .send()
        .await
        .map_err(|e| format!("GitHub could not be reached: {e}"))?;
    let status = answer.status();
    let value: Value = answer.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!(
            "GitHub answered {}: {}",
            status.as_u16(),
            value["message"].as_str().unwrap_or("(no message)")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_comment_holds_a_section_per_stage_replaced_in_place() {
        let first = merge(None, "dev", "dev plan 1\n");
        assert!(first.starts_with(MARKER), "{first}");
        let both = merge(Some(&first), "staging", "staging plan 1");
        assert!(
            both.find("dev plan 1") < both.find("staging plan 1"),
            "{both}"
        );
        let again = merge(Some(&both), "dev", "dev plan 2");
        assert!(
            !again.contains("dev plan 1") && again.contains("dev plan 2"),
            "{again}"
        );
        assert!(again.contains("staging plan 1"), "{again}");
        assert!(
            again.find("dev plan 2") < again.find("staging plan 1"),
            "the order stays: {again}"
        );
        assert_eq!(again.matches(MARKER).count(), 1);
    }
}
