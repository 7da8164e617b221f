//! Stalled-parcel alerts: one per stall and level (a parcel scanned again and stalling again is a new stall),
//! delivered to the seller's endpoint signed with HMAC-SHA256 and retried with growing pauses.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::stall::StallLevel;

/// The header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The time is
/// signed too, so a captured request cannot be replayed later than the receiver's tolerance.
pub const SIGNATURE_HEADER: &str = "x-lastmile-signature";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The same stall at the same level always has this id: writing it with a not-exists condition makes
    /// raising it idempotent.
    pub id: String,
    pub shipment_id: String,
    pub level: StallLevel,
    pub last_scan_at: Timestamp,
    pub hours_waiting: f64,
    pub tracking_number: String,
    pub carrier: String,
    pub raised_at: Timestamp,
}

pub fn alert_id(shipment_id: &str, level: StallLevel, last_scan_at: Timestamp) -> String {
    let level = match level {
        StallLevel::Moving => "moving",
        StallLevel::Stalled => "stalled",
        StallLevel::Escalated => "escalated",
    };
    format!("{shipment_id}:{level}:{}", last_scan_at.as_second())
}

/// The signature header's value for `body` sent at `at`.
pub fn sign(secret: &[u8], at: Timestamp, body: &[u8]) -> String {
    format!("t={},v1={}", at.as_second(), hex::encode(mac(secret, at.as_second(), body)))
}

fn mac(secret: &[u8], at: i64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(at.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// What a receiver does: the header parses, the time is within `tolerance_seconds` of `now`, and the MAC matches
/// one of `secrets` (two during a rotation), compared in constant time.
pub fn verify(secrets: &[&[u8]], header: &str, body: &[u8], now: Timestamp, tolerance_seconds: i64) -> bool {
    let mut at = None;
    let mut given = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => at = v.parse::<i64>().ok(),
            Some(("v1", v)) => given = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(at), Some(given)) = (at, given) else {
        return false;
    };
    if (now.as_second() - at).abs() > tolerance_seconds {
        return false;
    }
    secrets.iter().any(|secret| {
        let expected = mac(secret, at, body);
        expected.len() == given.len() && expected.iter().zip(&given).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

/// Pause before retry `attempt` (1 = the first retry): 30 s doubling to at most an hour, with up to a quarter
/// more drawn from `jitter` in 0..1 so many failing deliveries do not retry in step. `None` once the attempts
/// are spent.
pub fn retry_after_seconds(attempt: u32, max_attempts: u32, jitter: f64) -> Option<u64> {
    if attempt == 0 || attempt >= max_attempts {
        return None;
    }
    let base = 30u64.saturating_mul(1u64 << (attempt - 1).min(16)).min(3_600);
    Some(base + (base as f64 * 0.25 * jitter.clamp(0.0, 1.0)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_either_secret_of_a_rotation_and_not_when_anything_changes() {
        let at: Timestamp = "2026-12-04T10:00:00Z".parse().unwrap_or_default();
        let body = br#"{"alert":"stalled"}"#;
        let header = sign(b"new-secret", at, body);
        assert!(header.starts_with(&format!("t={},v1=", at.as_second())));
        assert!(verify(&[b"old-secret", b"new-secret"], &header, body, at, 300));
        assert!(!verify(&[b"old-secret"], &header, body, at, 300));
        assert!(!verify(&[b"new-secret"], &header, br#"{"alert":"moving"}"#, at, 300));
        let later = Timestamp::from_second(at.as_second() + 301).unwrap_or(at);
        assert!(!verify(&[b"new-secret"], &header, body, later, 300), "too old");
        assert!(!verify(&[b"new-secret"], "v1=00", body, at, 300));
        // RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retries_back_off_and_stop() {
        assert_eq!(retry_after_seconds(1, 8, 0.0), Some(30));
        assert_eq!(retry_after_seconds(2, 8, 0.0), Some(60));
        assert_eq!(retry_after_seconds(3, 8, 1.0), Some(150), "120 s and a quarter more");
        assert_eq!(retry_after_seconds(7, 8, 0.0), Some(1_920));
        assert_eq!(retry_after_seconds(12, 20, 0.0), Some(3_600), "capped at an hour");
        assert_eq!(retry_after_seconds(8, 8, 0.0), None);
    }

    #[test]
    fn one_alert_per_stall_and_level() {
        let scan: Timestamp = "2026-12-04T17:00:00Z".parse().unwrap_or_default();
        let again = alert_id("s-1", StallLevel::Stalled, scan);
        assert_eq!(alert_id("s-1", StallLevel::Stalled, scan), again);
        assert_ne!(alert_id("s-1", StallLevel::Escalated, scan), again);
        let rescanned = Timestamp::from_second(scan.as_second() + 3_600).unwrap_or(scan);
        assert_ne!(alert_id("s-1", StallLevel::Stalled, rescanned), again, "a new stall after a new scan");
    }
}
