//! Secrets lastmile must keep and use again (a shop's Admin API access token), sealed at rest: XChaCha20-Poly1305
//! with a 256-bit key read through the secrets port, a random nonce per seal, and the owner of the value (tenant
//! and record kind) as associated data, so a sealed value copied under another tenant or record does not open.
//! Each sealed value names its key by id, so a key can be rotated: new seals use the current key, and values
//! sealed under a previous key still open while that key is listed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ports::secrets::{SecretError, Secrets};

/// XChaCha20's nonce: 192 bits, large enough to draw at random for every seal without counting.
const NONCE_BYTES: usize = 24;

/// A value as stored: the key's id, the nonce and the ciphertext with its tag (base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: String,
    pub ciphertext: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("sealing key: {0}")]
    Key(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("no sealing key '{0}' is loaded: the value was sealed under a key no longer listed")]
    UnknownKey(String),
    /// Wrong key, wrong owner, or a changed byte: the AEAD tells them apart from nothing, on purpose.
    #[error("the sealed value does not open: tampered, or sealed for another owner or key")]
    Refused,
    #[error("cannot draw random bytes: {0}")]
    Random(String),
}

/// One key with its id.
#[derive(Clone)]
struct SealKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl SealKey {
    /// A key from a secret's value: 64 hex digits are the key itself; any other value of at least 32 characters
    /// (a generated secret string, such as Secrets Manager's `GenerateSecretString`) is hashed to one.
    fn from_secret(value: &str) -> Result<SealKey, SealError> {
        let value = value.trim();
        let bytes: [u8; 32] = match hex::decode(value) {
            Ok(raw) if raw.len() == 32 => raw.try_into().map_err(|_| SealError::Key("not 32 bytes".into()))?,
            _ if value.len() >= 32 => Sha256::digest(value.as_bytes()).into(),
            _ => {
                return Err(SealError::Key(
                    "expected 64 hex digits (32 random bytes) or a random string of at least 32 characters".into(),
                ));
            }
        };
        // The id names the key without revealing it: a hash under a fixed label, shortened.
        let id =
            hex::encode(&Sha256::new().chain_update(b"lastmile sealing key id\0").chain_update(bytes).finalize()[..6]);
        Ok(SealKey { id: format!("k{id}"), cipher: XChaCha20Poly1305::new(&bytes.into()) })
    }
}

/// Seals with the current key; opens with it or a previous one.
#[derive(Clone)]
pub struct Sealer {
    current: SealKey,
    previous: Vec<SealKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").field("current", &self.current.id).finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer from key values (see [`Sealer::load`] for their form); `previous` only open.
    pub fn from_secrets(current: &str, previous: &[&str]) -> Result<Sealer, SealError> {
        Ok(Sealer {
            current: SealKey::from_secret(current)?,
            previous: previous.iter().map(|p| SealKey::from_secret(p)).collect::<Result<_, _>>()?,
        })
    }

    /// Reads the keys through the secrets port: `current` seals and opens, `previous` (during a rotation) only
    /// opens. A key's value is 64 hex digits, or a random string of at least 32 characters.
    pub async fn load(secrets: &dyn Secrets, current: &str, previous: &[&str]) -> Result<Sealer, SealError> {
        let current = secrets.get(current).await?;
        let mut old = Vec::new();
        for reference in previous {
            old.push(secrets.get(reference).await?);
        }
        let old: Vec<&str> = old.iter().map(String::as_str).collect();
        Sealer::from_secrets(&current, &old)
    }

    /// The id of the key new seals use.
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `plaintext` for `owner` (e.g. `acme/installation/shopify`): opening needs the same owner.
    pub fn seal(&self, plaintext: &[u8], owner: &str) -> Result<Sealed, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| SealError::Random(e.to_string()))?;
        let ciphertext = self
            .current
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: owner.as_bytes() })
            .map_err(|_| SealError::Refused)?;
        Ok(Sealed {
            key_id: self.current.id.clone(),
            nonce: STANDARD.encode(nonce),
            ciphertext: STANDARD.encode(ciphertext),
        })
    }

    /// Opens a value sealed for `owner`.
    pub fn open(&self, sealed: &Sealed, owner: &str) -> Result<Vec<u8>, SealError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| SealError::UnknownKey(sealed.key_id.clone()))?;
        let nonce = STANDARD.decode(&sealed.nonce).map_err(|_| SealError::Refused)?;
        if nonce.len() != NONCE_BYTES {
            return Err(SealError::Refused);
        }
        let ciphertext = STANDARD.decode(&sealed.ciphertext).map_err(|_| SealError::Refused)?;
        key.cipher
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: owner.as_bytes() })
            .map_err(|_| SealError::Refused)
    }
}

/// A new random key value (64 hex digits), for `lastmile dev`'s key file.
pub fn new_key_value() -> Result<String, SealError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| SealError::Random(e.to_string()))?;
    Ok(hex::encode(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::from_secrets(&"11".repeat(32), &[]).expect("key")
    }

    #[test]
    fn a_sealed_value_opens_for_its_owner_and_does_not_show_the_plaintext() {
        let sealer = sealer();
        let sealed = sealer.seal(b"shpat_0123456789abcdef", "acme/installation/shopify").expect("sealed");
        assert_eq!(sealed.key_id, sealer.key_id());
        let stored = serde_json::to_string(&sealed).expect("json");
        assert!(!stored.contains("shpat_"), "{stored}");
        assert_eq!(sealer.open(&sealed, "acme/installation/shopify").expect("opens"), b"shpat_0123456789abcdef");
        let again = sealer.seal(b"shpat_0123456789abcdef", "acme/installation/shopify").expect("sealed");
        assert_ne!(again.nonce, sealed.nonce, "a fresh nonce for every seal");
        assert_ne!(again.ciphertext, sealed.ciphertext);
    }

    #[test]
    fn a_tampered_ciphertext_is_refused() {
        let sealer = sealer();
        let sealed = sealer.seal(b"token", "acme/installation/shopify").expect("sealed");
        let mut bytes = STANDARD.decode(&sealed.ciphertext).expect("base64");
        bytes[0] ^= 1;
        let tampered = Sealed { ciphertext: STANDARD.encode(bytes), ..sealed.clone() };
        assert_eq!(sealer.open(&tampered, "acme/installation/shopify"), Err(SealError::Refused));
        let short = Sealed { nonce: STANDARD.encode([0u8; 12]), ..sealed };
        assert_eq!(sealer.open(&short, "acme/installation/shopify"), Err(SealError::Refused));
    }

    #[test]
    fn another_owner_cannot_open_it() {
        let sealer = sealer();
        let sealed = sealer.seal(b"token", "acme/installation/shopify").expect("sealed");
        assert_eq!(sealer.open(&sealed, "evil/installation/shopify"), Err(SealError::Refused));
        assert_eq!(sealer.open(&sealed, "acme/installation/other"), Err(SealError::Refused));
    }

    #[test]
    fn another_key_cannot_open_it_and_a_previous_key_still_does_after_a_rotation() {
        let old = sealer();
        let sealed = old.seal(b"token", "acme/installation/shopify").expect("sealed");
        let other = Sealer::from_secrets(&"22".repeat(32), &[]).expect("key");
        assert!(matches!(other.open(&sealed, "acme/installation/shopify"), Err(SealError::UnknownKey(_))));
        // Even a key claiming the old id does not open it.
        let forged = Sealed { key_id: other.key_id().to_owned(), ..sealed.clone() };
        assert_eq!(other.open(&forged, "acme/installation/shopify"), Err(SealError::Refused));
        let rotated = Sealer::from_secrets(&"22".repeat(32), &[&"11".repeat(32)]).expect("keys");
        assert_eq!(rotated.open(&sealed, "acme/installation/shopify").expect("opens"), b"token");
        assert_eq!(rotated.seal(b"token", "x").expect("sealed").key_id, other.key_id(), "new seals use the new key");
    }

    #[test]
    fn keys_are_64_hex_digits_or_long_random_strings() {
        assert!(Sealer::from_secrets("short", &[]).is_err());
        let generated =
            Sealer::from_secrets("aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3", &[]).expect("a long string is hashed");
        assert_ne!(generated.key_id(), sealer().key_id());
        assert!(new_key_value().expect("random").len() == 64);
    }
}
