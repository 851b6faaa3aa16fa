//! `deployer plan <stage> --format markdown --post-to-pr <number>`: the plan
//! as ONE comment on the pull request, updated in place. GitHub is not
//! emulated, so its REST API (issue comments: list, create, update) is a
//! local HTTP server answering RECORDED answers of the documented shape,
//! trimmed to the fields the deployer reads (`id`, `body`), reached through
//! GITHUB_API_URL; CloudFormation, S3, STS and Secrets Manager are moto.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, patch};
use deployer::aws::json::{JsonClient, Request, SECRETS_MANAGER};
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";

/// The pull request's comments and every request the deployer made.
#[derive(Default)]
struct Github {
    comments: Vec<(u64, String)>,
    requests: Vec<(String, String, Option<String>)>,
}

type Shared = Arc<Mutex<Github>>;

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The recorded GitHub API, with `others` comments by other people first.
fn github(others: u64) -> (String, Shared) {
    let state: Shared = Arc::default();
    state.lock().unwrap().comments = (1..=others)
        .map(|i| (i, format!("looks good {i}")))
        .collect();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let s = state.clone();
    std::thread::spawn(move || {
        common::runtime().block_on(async move {
            let app = axum::Router::new()
                .route(
                    "/repos/{owner}/{repo}/issues/{pr}/comments",
                    get(
                        |State(s): State<Shared>, h: HeaderMap, Query(q): Query<Vec<(String, String)>>| async move {
                            let page: usize = q.iter().find(|(k, _)| k == "page").map_or(1, |(_, v)| v.parse().unwrap());
                            let mut g = s.lock().unwrap();
                            g.requests.push(("GET".into(), format!("page {page}"), header(&h, "authorization")));
                            let list: Vec<Value> = g.comments.iter().skip((page - 1) * 100).take(100)
                                .map(|(id, body)| json!({"id": id, "body": body, "user": {"login": "someone"}}))
                                .collect();
                            axum::Json(Value::Array(list))
                        },
                    )
                    .post(|State(s): State<Shared>, h: HeaderMap, axum::Json(v): axum::Json<Value>| async move {
                        let mut g = s.lock().unwrap();
                        let id = 1000 + g.comments.len() as u64;
                        let body = v["body"].as_str().unwrap().to_string();
                        g.requests.push(("POST".into(), body.clone(), header(&h, "authorization")));
                        g.comments.push((id, body.clone()));
                        (axum::http::StatusCode::CREATED, axum::Json(json!({"id": id, "body": body})))
                    }),
                )
                .route(
                    "/repos/{owner}/{repo}/commits/{sha}/pulls",
                    get(|UrlPath((_, _, sha)): UrlPath<(String, String, String)>| async move {
                        // The planned commit is the head of pull request 7 (and of a closed one).
                        let pulls = if sha == "test-a" {
                            json!([{"number": 3, "state": "closed"}, {"number": 7, "state": "open"}])
                        } else {
                            json!([])
                        };
                        axum::Json(pulls)
                    }),
                )
                .route(
                    "/repos/{owner}/{repo}/issues/comments/{id}",
                    patch(|State(s): State<Shared>, UrlPath((_, _, id)): UrlPath<(String, String, u64)>, h: HeaderMap, axum::Json(v): axum::Json<Value>| async move {
                        let mut g = s.lock().unwrap();
                        let body = v["body"].as_str().unwrap().to_string();
                        g.requests.push(("PATCH".into(), format!("{id}"), header(&h, "authorization")));
                        let c = g.comments.iter_mut().find(|(i, _)| *i == id).unwrap();
                        c.1 = body.clone();
                        axum::Json(json!({"id": id, "body": body}))
                    }),
                )
                .with_state(s);
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        })
    });
    (url, state)
}

struct Fixture {
    dir: tempfile::TempDir,
    artifacts: PathBuf,
}

impl Fixture {
    fn new(stage: &str, secret: Option<&str>) -> Fixture {
        let dir = common::templates_root();
        let text = format!(
            "account: \"{ACCOUNT}\"\nregion: us-east-1\nterraform_outputs:\n  file: outputs.json\napp:\n  architecture: x86_64\n  log_level: info\n  api: {{memory_mb: 256, timeout_seconds: 10}}\n  worker: {{memory_mb: 256, timeout_seconds: 30}}\n  upstream: {{provider: v3, base_url: 'https://countries.example.com'}}\n"
        );
        std::fs::write(dir.path().join(format!("stages/{stage}.yaml")), text).unwrap();
        let mut outputs = json!({
            "artifact_bucket": {"value": format!("artifacts-{stage}"), "type": "string"},
            "alarm_topic_arn": {"value": format!("arn:aws:sns:us-east-1:{ACCOUNT}:alarms"), "type": "string"},
            "cloudformation_execution_role_arns": {"value": {stage: format!("arn:aws:iam::{ACCOUNT}:role/cfn-{stage}")}, "type": ["map", "string"]},
            "pipeline_name": {"value": "countries", "type": "string"},
        });
        if let Some(arn) = secret {
            outputs["github_token_secret_arn"] = json!({"value": arn, "type": "string"});
        }
        std::fs::write(dir.path().join("outputs.json"), outputs.to_string()).unwrap();
        common::ok(&common::run(dir.path(), &["render", stage]), "render");
        common::create_bucket(&format!("artifacts-{stage}"));
        let artifacts = common::artifacts(dir.path(), "a");
        Fixture { dir, artifacts }
    }

    fn plan(&self, stage: &str, github: &str, env: &[(&str, &str)]) -> Output {
        self.plan_on(stage, "7", github, env)
    }

    fn plan_on(&self, stage: &str, pr: &str, github: &str, env: &[(&str, &str)]) -> Output {
        let dir = self.artifacts.to_str().unwrap();
        let mut cmd = common::emulator_command(
            self.dir.path(),
            &[
                "plan",
                stage,
                "--artifacts",
                dir,
                "--format",
                "markdown",
                "--post-to-pr",
                pr,
                "--repository",
                "example-org/countries",
            ],
        );
        cmd.env("GITHUB_API_URL", github)
            .env_remove("GITHUB_TOKEN")
            .env_remove("CODEBUILD_SOURCE_REPO_URL");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }
}

#[test]
fn the_plan_is_one_comment_per_pull_request_updated_in_place() {
    let f = Fixture::new("prc", None);
    // 150 comments by others: ours is found on the second page.
    let (api, gh) = github(150);
    let token = [("GITHUB_TOKEN", "test-token")];

    let out = f.plan("prc", &api, &token);
    let (stdout, stderr) = common::ok(&out, "plan");
    assert!(
        stderr.contains("posted the prc plan on example-org/countries#7 (new comment 1150)"),
        "{stderr}"
    );
    {
        let g = gh.lock().unwrap();
        let ours = &g.comments.last().unwrap().1;
        assert!(
            ours.starts_with("<!-- countries-deployer-plan -->"),
            "{ours}"
        );
        assert!(
            ours.contains(stdout.trim_end()),
            "the comment is the plan printed:\n{ours}"
        );
        assert!(
            g.requests
                .iter()
                .all(|r| r.2.as_deref() == Some("Bearer test-token")),
            "{:?}",
            g.requests
        );
    }

    // The next push (the pipeline knows no number: `auto` finds the pull request
    // whose head is the planned commit): the same comment, updated.
    let out = f.plan_on("prc", "auto", &api, &token);
    let (_, stderr) = common::ok(&out, "plan again");
    assert!(
        stderr.contains("updated the prc plan in the comment 1150 on example-org/countries#7"),
        "{stderr}"
    );
    let g = gh.lock().unwrap();
    assert_eq!(g.comments.len(), 151);
    assert_eq!(
        g.comments
            .iter()
            .filter(|c| c.1.contains("countries-deployer-plan"))
            .count(),
        1
    );
    let methods: Vec<&str> = g.requests.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        methods,
        ["GET", "GET", "POST", "GET", "GET", "PATCH"],
        "{:?}",
        g.requests
    );
}

#[test]
fn without_a_token_the_plan_succeeds_and_says_the_comment_was_skipped() {
    let f = Fixture::new("prnotoken", None);
    let (api, gh) = github(0);
    let (stdout, stderr) = common::ok(&f.plan("prnotoken", &api, &[]), "plan");
    assert!(stdout.contains("### Stage `prnotoken`"), "{stdout}");
    assert!(
        stderr.contains("pull-request comment skipped: no GitHub token: GITHUB_TOKEN is not set and the Terraform outputs name no github_token_secret_arn"),
        "{stderr}"
    );
    assert!(gh.lock().unwrap().requests.is_empty());

    // `auto` without a repository to post to: the plan still succeeds.
    let out = common::emulator_command(
        f.root(),
        &[
            "plan",
            "prnotoken",
            "--artifacts",
            f.artifacts.to_str().unwrap(),
            "--format",
            "markdown",
            "--post-to-pr",
            "auto",
        ],
    )
    .env_remove("DEPLOYER_GITHUB_REPOSITORY")
    .env_remove("CODEBUILD_SOURCE_REPO_URL")
    .output()
    .unwrap();
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("### Stage `prnotoken`"), "{stdout}");
    assert!(
        stderr.contains("pull-request comment skipped: no repository to post to"),
        "{stderr}"
    );

    // --post-to-pr is a Markdown comment.
    let out = common::emulator_command(
        f.root(),
        &[
            "plan",
            "prnotoken",
            "--post-to-pr",
            "7",
            "--repository",
            "o/r",
        ],
    )
    .output()
    .unwrap();
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--format markdown"), "{stderr}");
}

#[test]
fn the_token_comes_from_the_secret_terraform_names() {
    let moto = testkit::moto();
    let secrets = |name: &'static str, body: serde_json::Value| {
        common::runtime().block_on(async {
            let config = common::sdk(&moto.endpoint).await;
            JsonClient::new(&SECRETS_MANAGER, &config)
                .call::<serde_json::Value>(Request::Operation { name, body })
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        })
    };
    let created = secrets("CreateSecret", json!({"Name": "countries/github-token-prsecret"}));
    let arn = created["ARN"].as_str().expect("ARN").to_string();
    let f = Fixture::new("prsecret", Some(&arn));
    let (api, gh) = github(0);
    // No value yet: skipped, saying how to set it.
    let (_, stderr) = common::ok(&f.plan("prsecret", &api, &[]), "plan");
    assert!(
        stderr.contains("pull-request comment skipped: no GitHub token: reading"),
        "{stderr}"
    );
    assert!(
        stderr.contains("aws secretsmanager put-secret-value --secret-id"),
        "{stderr}"
    );
    secrets(
        "PutSecretValue",
        json!({"SecretId": arn, "SecretString": "from-secrets-manager"}),
    );
    let (_, stderr) = common::ok(&f.plan("prsecret", &api, &[]), "plan with the secret");
    assert!(stderr.contains("posted the prsecret plan"), "{stderr}");
    let g = gh.lock().unwrap();
    assert_eq!(
        g.requests.last().unwrap().2.as_deref(),
        Some("Bearer from-secrets-manager")
    );
}
