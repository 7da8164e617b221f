//! Signed blob links for the filesystem store, the local stand-in for S3's presigned URLs:
//! `{base_url}/pod-files/{key}?expires={unix seconds}&signature={base64url HMAC-SHA256}`.
//!
//! The MAC covers the key and the expiry, so a link opens one blob until one instant and no other. The secret
//! lives in the data directory (owner-only, made on first use), so links survive a restart of `lastmile dev`;
//! deleting the file revokes every link handed out.

use std::path::Path;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ports::blob::{BlobError, check_key};
use crate::ports::secrets::FileSecrets;

/// The secret's file in the data directory.
pub const SECRET_FILE: &str = "blob-links.secret";

/// The route that serves signed links; the key follows it.
pub const ROUTE_PREFIX: &str = "/pod-files/";

#[derive(Clone)]
pub struct LinkSigner {
    secret: [u8; 32],
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(..)")
    }
}

/// Why a link does not open its blob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link's signature does not match its key and expiry")]
    BadSignature,
    #[error("the link expired at {0} (unix seconds)")]
    Expired(i64),
}

impl LinkSigner {
    pub fn new(secret: [u8; 32]) -> LinkSigner {
        LinkSigner { secret }
    }

    /// The data directory's signing secret, created (owner-only) on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<LinkSigner, BlobError> {
        let secrets = FileSecrets::new(data_dir);
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh)
            .map_err(|e| BlobError::Backend(format!("no randomness for the link secret: {e}")))?;
        // A concurrent first start may win the race: whatever is on disk afterwards is the secret.
        secrets.create_if_missing(SECRET_FILE, &hex::encode(fresh)).map_err(|e| BlobError::Backend(e.to_string()))?;
        let stored = secrets.read(SECRET_FILE).map_err(|e| BlobError::Backend(e.to_string()))?;
        let bytes = hex::decode(stored.trim()).map_err(|e| BlobError::Backend(format!("{SECRET_FILE}: {e}")))?;
        let secret: [u8; 32] =
            bytes.try_into().map_err(|_| BlobError::Backend(format!("{SECRET_FILE}: expected 32 bytes, hex")))?;
        Ok(LinkSigner { secret })
    }

    fn mac(&self, key: &str, expires: i64) -> Hmac<Sha256> {
        #[allow(clippy::expect_used)] // HMAC takes a key of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("any key length");
        // The newline cannot occur in a key, so no two (key, expiry) pairs sign the same message.
        mac.update(format!("{key}\n{expires}").as_bytes());
        mac
    }

    pub fn signature(&self, key: &str, expires: i64) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.mac(key, expires).finalize().into_bytes())
    }

    /// The link's path and query (without the base URL).
    pub fn path(&self, key: &str, expires: i64) -> Result<String, BlobError> {
        check_key(key)?;
        Ok(format!("{ROUTE_PREFIX}{key}?expires={expires}&signature={}", self.signature(key, expires)))
    }

    /// Checks a link's signature (in constant time) and then its expiry against `now` (unix seconds).
    pub fn verify(&self, key: &str, expires: i64, signature: &str, now: i64) -> Result<(), LinkError> {
        let given =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature).map_err(|_| LinkError::BadSignature)?;
        self.mac(key, expires).verify_slice(&given).map_err(|_| LinkError::BadSignature)?;
        if now >= expires {
            return Err(LinkError::Expired(expires));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_verifies_until_it_expires_and_only_for_its_key() {
        let signer = LinkSigner::new([7; 32]);
        let signature = signer.signature("pod/acme/fedex/1Z/abc-photo.jpg", 1_000);
        assert_eq!(signer.verify("pod/acme/fedex/1Z/abc-photo.jpg", 1_000, &signature, 999), Ok(()));
        assert_eq!(
            signer.verify("pod/acme/fedex/1Z/abc-photo.jpg", 1_000, &signature, 1_000),
            Err(LinkError::Expired(1_000))
        );
        assert_eq!(
            signer.verify("pod/globex/fedex/1Z/abc-photo.jpg", 1_000, &signature, 999),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            signer.verify("pod/acme/fedex/1Z/abc-photo.jpg", 2_000, &signature, 999),
            Err(LinkError::BadSignature),
            "a later expiry is not the one signed"
        );
        let other = LinkSigner::new([8; 32]);
        assert_eq!(
            other.verify("pod/acme/fedex/1Z/abc-photo.jpg", 1_000, &signature, 999),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn the_secret_is_made_once_owner_only_and_read_back() {
        let dir = std::env::temp_dir().join(format!("lastmile-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = LinkSigner::load_or_create(&dir).unwrap();
        let again = LinkSigner::load_or_create(&dir).unwrap();
        assert_eq!(first.signature("a", 1), again.signature("a", 1));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(SECRET_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
