//! The blob port on S3: each object carries its SHA-256 as S3's own checksum (checked by S3 on upload) and as
//! metadata, and every read is checked against it.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine as _;

use crate::ports::blob::{BlobError, BlobStore, check_key, check_prefix, sha256_hex};

pub struct S3Blobs {
    client: Client,
    bucket: String,
}

fn backend(e: impl std::fmt::Display) -> BlobError {
    BlobError::Backend(e.to_string())
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> S3Blobs {
        S3Blobs { client, bucket: bucket.into() }
    }

    /// Creates the bucket when it does not exist (tests and tooling; a deployment gets it from the template).
    pub async fn create_if_missing(client: &Client, bucket: &str) -> Result<(), BlobError> {
        if client.head_bucket().bucket(bucket).send().await.is_ok() {
            return Ok(());
        }
        client.create_bucket().bucket(bucket).send().await.map_err(|e| backend(e.into_service_error()))?;
        Ok(())
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<String, BlobError> {
        check_key(key)?;
        let hex_digest = sha256_hex(bytes);
        let digest = hex::decode(&hex_digest).map_err(backend)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.to_vec()))
            .content_type(content_type)
            .checksum_sha256(base64::engine::general_purpose::STANDARD.encode(digest))
            .metadata("sha256", &hex_digest)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        Ok(hex_digest)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        check_key(key)?;
        let output = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(output) => output,
            Err(e) => {
                let e = e.into_service_error();
                return if e.is_no_such_key() { Ok(None) } else { Err(backend(e)) };
            }
        };
        let expected = output.metadata().and_then(|m| m.get("sha256")).cloned();
        let bytes = output.body.collect().await.map_err(backend)?.into_bytes().to_vec();
        match expected {
            Some(expected) if expected == sha256_hex(&bytes) => Ok(Some(bytes)),
            _ => Err(BlobError::Corrupt { key: key.to_owned() }),
        }
    }

    /// S3's own presigned GET (SigV4 in the query string), valid for `expires_in` (S3 caps it at 7 days).
    async fn presign_get(&self, key: &str, expires_in: std::time::Duration) -> Result<String, BlobError> {
        check_key(key)?;
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(expires_in).map_err(backend)?;
        let request =
            self.client.get_object().bucket(&self.bucket).key(key).presigned(config).await.map_err(backend)?;
        Ok(request.uri().to_owned())
    }

    /// Deletes every version of the key: the bucket is versioned, and a plain delete would only hide the bytes
    /// behind a delete marker, which erasing personal data must not.
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        check_key(key)?;
        let mut versions = Vec::new();
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let output = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(key)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| backend(e.into_service_error()))?;
            let exact = |k: Option<&str>| k == Some(key);
            versions.extend(
                output.versions().iter().filter(|v| exact(v.key())).filter_map(|v| v.version_id().map(str::to_owned)),
            );
            versions.extend(
                output
                    .delete_markers()
                    .iter()
                    .filter(|m| exact(m.key()))
                    .filter_map(|m| m.version_id().map(str::to_owned)),
            );
            if output.is_truncated() != Some(true) {
                break;
            }
            key_marker = output.next_key_marker().map(str::to_owned);
            version_marker = output.next_version_id_marker().map(str::to_owned);
        }
        // An unversioned bucket, or a key that never held anything: a plain delete (S3 answers success).
        if versions.is_empty() {
            versions.push(String::new());
        }
        for version in versions {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .set_version_id((!version.is_empty()).then_some(version))
                .send()
                .await
                .map_err(|e| backend(e.into_service_error()))?;
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        check_prefix(prefix)?;
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let output = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| backend(e.into_service_error()))?;
            keys.extend(output.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
            match output.next_continuation_token() {
                Some(next) if output.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }
}
