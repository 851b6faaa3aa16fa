//! Resolving the v5 API key: from SSM Parameter Store (SecureString) or the
//! environment. Read once at start; the value is never logged.
//!
//! The one SSM call, GetParameter, is an AWS JSON 1.1 request that
//! `aws-sigv4` signs with the SDK configuration's credentials and sends
//! through reqwest, not a call through `aws-sdk-ssm`: that client was the
//! largest crate in the build (163 CPU seconds of a fresh build at opt-level
//! 1, 74 of the cloud build) and 132 KB of the worker's 3 MB zip, for one
//! request per cold start. The endpoint is found as the SDK finds it
//! (`AWS_ENDPOINT_URL_SSM`, then `AWS_ENDPOINT_URL`, then the regional one).

use crate::config::KeySource;
use crate::error::Error;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_types::service_config::ServiceConfigKey;
use serde::Deserialize;
use std::time::{Duration, SystemTime};

/// How long the whole GetParameter call may take (it runs once, before the worker polls).
const TIMEOUT: Duration = Duration::from_secs(10);

/// Returns the key, if the stage's provider needs one.
pub async fn resolve(source: &KeySource, sdk: &aws_config::SdkConfig) -> Result<Option<String>, Error> {
    match source {
        KeySource::None => Ok(None),
        KeySource::Env(key) => Ok(Some(key.clone())),
        KeySource::Parameter(name) => get_parameter(sdk, name)
            .await
            .map(Some)
            .map_err(|detail| Error::Secret { parameter: name.clone(), detail }),
    }
}

#[derive(Deserialize)]
struct GetParameterOutput {
    #[serde(rename = "Parameter")]
    parameter: Parameter,
}

#[derive(Deserialize)]
struct Parameter {
    #[serde(rename = "Value")]
    value: Option<String>,
}

/// An AWS JSON error body: `{"__type": "...#ParameterNotFound", "message": "..."}`.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "__type")]
    kind: Option<String>,
    #[serde(alias = "Message")]
    message: Option<String>,
}

/// GetParameter with decryption; the error is a sentence for `Error::Secret`.
async fn get_parameter(sdk: &aws_config::SdkConfig, name: &str) -> Result<String, String> {
    let region = sdk.region().ok_or("no AWS region is configured (AWS_REGION)")?.to_string();
    let url = endpoint(sdk, &region);
    let credentials = sdk
        .credentials_provider()
        .ok_or("no AWS credentials are configured")?
        .provide_credentials()
        .await
        .map_err(|e| format!("no AWS credentials: {e}"))?;
    let request = signed_request(&url, &region, credentials, SystemTime::now(), name)?;

    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let request = reqwest::Request::try_from(request).map_err(|e| format!("cannot send the request: {e}"))?;
    let response = client.execute(request).await.map_err(|e| format!("no answer from {url}: {e}"))?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| format!("no answer from {url}: {e}"))?;
    if !status.is_success() {
        return Err(error_detail(status, &bytes));
    }
    let out: GetParameterOutput =
        serde_json::from_slice(&bytes).map_err(|e| format!("SSM answered {status} with an unexpected body: {e}"))?;
    out.parameter.value.filter(|v| !v.is_empty()).ok_or_else(|| "the parameter is empty".to_string())
}

/// The GetParameter request, signed (SigV4, headers) exactly as it is sent.
fn signed_request(
    url: &str,
    region: &str,
    credentials: Credentials,
    time: SystemTime,
    name: &str,
) -> Result<http::Request<String>, String> {
    let body = serde_json::json!({ "Name": name, "WithDecryption": true }).to_string();
    let mut request = http::Request::post(url)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "AmazonSSM.GetParameter")
        .body(body)
        .map_err(|e| format!("the SSM endpoint {url} is not a valid URL: {e}"))?;
    if request.uri().host().is_none() {
        return Err(format!("the SSM endpoint {url} has no host"));
    }
    let identity = credentials.into();
    let cannot_sign = |e: &dyn std::fmt::Display| format!("cannot sign the request: {e}");
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("ssm")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| cannot_sign(&e))?
        .into();
    let headers = request.headers().iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
    let signable = SignableRequest::new("POST", url, headers, SignableBody::Bytes(request.body().as_bytes()))
        .map_err(|e| cannot_sign(&e))?;
    let (instructions, _signature) = sign(signable, &params).map_err(|e| cannot_sign(&e))?.into_parts();
    instructions.apply_to_request_http1x(&mut request);
    Ok(request)
}

/// Where SSM is: the SDK's service-specific and global endpoint settings, else the regional endpoint.
fn endpoint(sdk: &aws_config::SdkConfig, region: &str) -> String {
    // As the SDK's clients do: an endpoint set in code wins; else the service's own setting.
    let service_setting = || {
        let key = ServiceConfigKey::builder().service_id("SSM").env("AWS_ENDPOINT_URL").profile("endpoint_url");
        sdk.service_config()?.load_config(key.build().ok()?)
    };
    let configured = if sdk.get_origin("endpoint_url").is_client_config() { None } else { service_setting() }
        .or_else(|| sdk.endpoint_url().map(str::to_string));
    configured.unwrap_or_else(|| {
        let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
        format!("https://ssm.{region}.{suffix}")
    })
}

/// "ParameterNotFound: ..." from an AWS JSON error answer, or the status and body.
fn error_detail(status: reqwest::StatusCode, body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { kind: Some(kind), message }) => {
            let code = kind.rsplit('#').next().unwrap_or(&kind);
            format!("{code}: {}", message.as_deref().unwrap_or("no message"))
        }
        _ => format!("SSM answered {status}: {}", String::from_utf8_lossy(body).chars().take(200).collect::<String>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_error_names_the_code_without_its_namespace() {
        let body = br#"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"no such parameter"}"#;
        assert_eq!(error_detail(reqwest::StatusCode::BAD_REQUEST, body), "ParameterNotFound: no such parameter");
    }

    #[test]
    fn other_answers_keep_status_and_body() {
        let detail = error_detail(reqwest::StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!(detail, "SSM answered 502 Bad Gateway: <html>bad gateway</html>");
    }

    /// The signature botocore's SigV4Auth computes for the same request, credentials and
    /// time (recorded): what AWS checks, which moto does not.
    #[test]
    fn signature_matches_botocore() {
        let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "test");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z
        let request =
            signed_request("https://ssm.eu-west-1.amazonaws.com", "eu-west-1", credentials, time, "/countries/dev/key")
                .expect("signs");
        assert_eq!(request.body(), r#"{"Name":"/countries/dev/key","WithDecryption":true}"#);
        assert_eq!(request.headers()["x-amz-date"], "20260101T000000Z");
        assert_eq!(
            request.headers()["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/ssm/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
             Signature=d1be3580c29143a432065ecd3c2172adecb88a15add9d21c9cd022d519f80a45"
        );
    }

    #[test]
    fn an_endpoint_without_a_host_is_refused() {
        let credentials = Credentials::new("a", "b", None, None, "test");
        let err = signed_request("/relative", "eu-west-1", credentials, SystemTime::now(), "k").unwrap_err();
        assert!(err.contains("has no host"), "{err}");
    }

    #[test]
    fn regional_endpoint_when_nothing_is_configured() {
        let sdk = aws_config::SdkConfig::builder().build();
        assert_eq!(endpoint(&sdk, "eu-west-1"), "https://ssm.eu-west-1.amazonaws.com");
        assert_eq!(endpoint(&sdk, "cn-north-1"), "https://ssm.cn-north-1.amazonaws.com.cn");
    }

    #[test]
    fn configured_endpoint_wins() {
        let sdk = aws_config::SdkConfig::builder().endpoint_url("http://127.0.0.1:4566").build();
        assert_eq!(endpoint(&sdk, "eu-west-1"), "http://127.0.0.1:4566");
    }
}
