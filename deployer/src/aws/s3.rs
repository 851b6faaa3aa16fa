//! S3: the artifact bucket that holds `functions/<name>/<sha256>.zip`.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

use super::call_error;
use crate::error::{AwsError, AwsKind, Error, Result};

/// The S3 operations the deployer uses.
#[allow(async_fn_in_trait)]
pub trait Artifacts {
    /// True when the object exists (HeadObject).
    async fn exists(&self, bucket: &str, key: &str) -> Result<bool>;
    /// The object's size, or none when it does not exist (HeadObject).
    async fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>>;
    /// Downloads the object (a promote whose zip is missing in the target stage's bucket).
    async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>>;
    /// Uploads the object.
    async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<()>;
    /// True when the bucket exists and is ours (HeadBucket).
    async fn bucket_exists(&self, bucket: &str) -> Result<bool>;
    /// Creates the bucket; one we already own counts as created (the local
    /// stage; Terraform owns the cloud buckets).
    async fn create_bucket(&self, bucket: &str, region: &str) -> Result<()>;
}

/// The real S3 client.
#[derive(Debug, Clone)]
pub struct S3 {
    client: Client,
}

impl S3 {
    /// A client; `path_style` for emulators (no bucket subdomains on 127.0.0.1).
    pub fn new(config: &aws_config::SdkConfig, path_style: bool) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(path_style)
            .build();
        S3 {
            client: Client::from_conf(conf),
        }
    }
}

impl Artifacts for S3 {
    async fn exists(&self, bucket: &str, key: &str) -> Result<bool> {
        // The same HeadObject as `size`: a missing object is `None`, any other failure an error.
        Ok(self.size(bucket, key).await?.is_some())
    }

    async fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.content_length().unwrap_or_default().max(0) as u64)),
            Err(err) => {
                if err.as_service_error().is_some_and(|e| e.is_not_found())
                    || err
                        .raw_response()
                        .is_some_and(|r| r.status().as_u16() == 404)
                {
                    Ok(None)
                } else {
                    Err(call_error(format!("HeadObject s3://{bucket}/{key}"), &err))
                }
            }
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| call_error(format!("GetObject s3://{bucket}/{key}"), &e))?;
        let bytes = out.body.collect().await.map_err(|e| {
            // Reading the body failed after the call succeeded: no SDK error to classify.
            Error::from(AwsError::Call {
                action: format!("GetObject s3://{bucket}/{key}"),
                message: e.to_string(),
                kind: AwsKind::Other,
            })
        })?;
        Ok(bytes.into_bytes().to_vec())
    }

    async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<()> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/zip")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| call_error(format!("PutObject s3://{bucket}/{key}"), &e))?;
        Ok(())
    }

    async fn bucket_exists(&self, bucket: &str) -> Result<bool> {
        // Any failure reads as "missing": creating it then says what is wrong.
        Ok(self
            .client
            .head_bucket()
            .bucket(bucket)
            .send()
            .await
            .is_ok())
    }

    async fn create_bucket(&self, bucket: &str, region: &str) -> Result<()> {
        let mut call = self.client.create_bucket().bucket(bucket);
        if region != "us-east-1" {
            call = call.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        match call.send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_bucket_already_owned_by_you())
                {
                    Ok(())
                } else {
                    Err(call_error(format!("CreateBucket {bucket}"), &err))
                }
            }
        }
    }
}
