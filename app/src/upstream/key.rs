//! Resolving the v5 API key: from SSM Parameter Store (SecureString) or the
//! environment. Read once at start; the value is never logged.

use crate::config::KeySource;
use crate::error::{Error, sdk_detail};

/// Returns the key, if the stage's provider needs one.
pub async fn resolve(source: &KeySource, sdk: &aws_config::SdkConfig) -> Result<Option<String>, Error> {
    match source {
        KeySource::None => Ok(None),
        KeySource::Env(key) => Ok(Some(key.clone())),
        KeySource::Parameter(name) => {
            let ssm = aws_sdk_ssm::Client::new(sdk);
            let out = ssm
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| Error::Secret { parameter: name.clone(), detail: sdk_detail(&e) })?;
            let value = out.parameter.and_then(|p| p.value).filter(|v| !v.is_empty());
            value
                .map(Some)
                .ok_or_else(|| Error::Secret { parameter: name.clone(), detail: "the parameter is empty".into() })
        }
    }
}
