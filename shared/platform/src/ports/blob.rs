//! A blob store in S3's model, with integrity: every blob is stored with its SHA-256, and reading it back checks
//! the bytes against it.

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// The bytes read do not hash to what was stored.
    #[error("blob {key}: content does not match its SHA-256")]
    Corrupt { key: String },
    #[error("invalid key {0:?}")]
    InvalidKey(String),
    #[error("blob store: {0}")]
    Backend(String),
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key` (replacing what was there); answers their SHA-256, hex.
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<String, BlobError>;

    /// The bytes under `key`, checked against their SHA-256; `None` when there are none.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;

    /// Removes the blob under `key`; a key with none is already removed (deletes repeat safely).
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// Every key that starts with `prefix` (a key, a folder ending in `/`, or part of a segment), sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError>;

    /// A link that reads the blob under `key` without credentials until `expires_in` has passed: an S3 presigned
    /// URL, or an HMAC-signed link that `lastmile dev` serves. The only way personal files leave the store.
    /// A store that cannot sign answers [`BlobError::Backend`].
    async fn presign_get(&self, key: &str, expires_in: std::time::Duration) -> Result<String, BlobError> {
        let _ = expires_in;
        Err(BlobError::Backend(format!("this blob store cannot sign a link to {key}")))
    }
}

/// A list prefix is a key's beginning: plain segments, the last possibly empty (a folder: `a/b/`) or partial.
pub fn check_prefix(prefix: &str) -> Result<(), BlobError> {
    let body = prefix.strip_suffix('/').unwrap_or(prefix);
    if body.is_empty() && prefix.is_empty() {
        return Err(BlobError::InvalidKey(prefix.to_owned()));
    }
    check_key(body).map_err(|_| BlobError::InvalidKey(prefix.to_owned()))
}

/// Keys are paths of plain segments: letters, digits, `-`, `_`, `.`, separated by `/`; no `..`, no leading `/`.
pub fn check_key(key: &str) -> Result<(), BlobError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    if ok { Ok(()) } else { Err(BlobError::InvalidKey(key.to_owned())) }
}

/// The SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
