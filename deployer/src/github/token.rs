//! Where the GitHub token comes from: `GITHUB_TOKEN`, else the Secrets Manager
//! secret the Terraform output `github_token_secret_arn` names (GetSecretValue,
//! signed by hand: see `aws::json`).

use crate::aws::Target;
use crate::aws::json::{JsonClient, Request, SECRETS_MANAGER};
use crate::outputs::Outputs;

/// The environment variable that carries a token directly (local runs, tests).
pub const TOKEN_ENV: &str = "GITHUB_TOKEN";

/// The token, or why there is none (the comment is then skipped, not failed).
pub async fn token(outputs: &Outputs, target: &Target) -> Result<String, String> {
    if let Ok(t) = std::env::var(TOKEN_ENV)
        && !t.trim().is_empty()
    {
        return Ok(t.trim().to_string());
    }
    let Some(secret) = &outputs.github_token_secret else {
        return Err(format!(
            "no GitHub token: {TOKEN_ENV} is not set and the Terraform outputs name no github_token_secret_arn"
        ));
    };
    let config = crate::aws::sdk_config(target).await;
    let client = JsonClient::new(&SECRETS_MANAGER, &config);
    let request = Request::Operation {
        name: "GetSecretValue",
        body: serde_json::json!({ "SecretId": secret }),
    };
    match client.call::<Secret>(request).await {
        Ok(out) => out
            .secret_string
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("the secret {secret} holds no token")),
        Err(e) => Err(format!(
            "no GitHub token: reading {secret} failed ({e}); set it with `aws secretsmanager put-secret-value --secret-id {secret} --secret-string <token>`"
        )),
    }
}

/// GetSecretValue's output, the part read here.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Secret {
    secret_string: Option<String>,
}
