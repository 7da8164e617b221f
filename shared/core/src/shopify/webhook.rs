//! Shopify webhook signatures: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw request body, keyed
//! with the app's client secret. During a secret rotation two secrets are valid; either may have signed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

/// Whether `header` is the signature of `body` under one of `secrets`, compared in constant time.
pub fn verify_webhook(body: &[u8], header: &str, secrets: &[&[u8]]) -> bool {
    let Ok(signature) = STANDARD.decode(header.trim()) else { return false };
    secrets
        .iter()
        .filter(|secret| !secret.is_empty())
        .any(|secret| mac(secret).chain_update(body).verify_slice(&signature).is_ok())
}

/// The `X-Shopify-Hmac-Sha256` value Shopify would send for `body` (for stand-ins and tests).
pub fn sign_webhook(body: &[u8], secret: &[u8]) -> String {
    STANDARD.encode(mac(secret).chain_update(body).finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_under_its_secret_only() {
        let body = br#"{"id":820982911946154508,"email":"jon@example.com"}"#;
        let header = sign_webhook(body, b"hush");
        assert!(verify_webhook(body, &header, &[b"hush"]));
        // Rotation: the old and the new secret are both accepted.
        assert!(verify_webhook(body, &header, &[b"new-secret", b"hush"]));
        assert!(!verify_webhook(body, &header, &[b"other"]));
        // One changed byte of the body, a truncated or garbled header, no secret: refused.
        assert!(!verify_webhook(br#"{"id":820982911946154509,"email":"jon@example.com"}"#, &header, &[b"hush"]));
        assert!(!verify_webhook(body, &header[..header.len() - 4], &[b"hush"]));
        assert!(!verify_webhook(body, "not base64!", &[b"hush"]));
        assert!(!verify_webhook(body, &header, &[b""]));
        assert!(!verify_webhook(body, &header, &[]));
    }

    #[test]
    fn the_signature_is_hmac_sha256_in_base64() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let expected = STANDARD.encode(hex_bytes("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
        assert_eq!(sign_webhook(b"what do ya want for nothing?", b"Jefe"), expected);
    }

    fn hex_bytes(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }
}
