//! Dashboard sessions: a signed cookie instead of the API key. The cookie names the tenant and the key that
//! logged in, when it was issued and when it expires, and a random session id; an HMAC-SHA256 under the
//! server's secret binds them, so changing any field (another tenant, a later expiry) breaks the signature.
//! The key itself never travels again after the login form.
//!
//! CSRF tokens are HMACs too: of the session id for requests made with the session cookie, and of a random
//! nonce held in a short-lived cookie for the login form (a signed double submit: a page on another site can
//! neither read the cookie nor compute the token).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SESSION_COOKIE: &str = "lastmile_session";
pub const LOGIN_COOKIE: &str = "lastmile_login";
/// A working day: long enough not to interrupt the seller, short enough that a forgotten browser logs out.
pub const SESSION_SECONDS: i64 = 12 * 60 * 60;
/// How long a login form may stay open before it is sent.
pub const LOGIN_FORM_SECONDS: i64 = 60 * 60;
/// The secret's file in the data directory.
pub const SECRET_FILE: &str = "dashboard.secret";

const VERSION: &str = "v1";

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot use the dashboard secret {path}: {message}")]
    Secret { path: PathBuf, message: String },
    #[error("cannot draw random bytes: {0}")]
    Random(String),
}

/// The key that signs sessions and CSRF tokens. Never printed.
#[derive(Clone)]
pub struct SessionSecret([u8; 32]);

impl std::fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionSecret(…)")
    }
}

impl SessionSecret {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A new random secret.
    pub fn random() -> Result<Self, SessionError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| SessionError::Random(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// The data directory's secret, created (readable by its owner only) on first use. Sessions survive a
    /// restart because the secret does; deleting the file logs every browser out.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SessionError> {
        let path = data_dir.join(SECRET_FILE);
        let fail = |message: String| SessionError::Secret { path: path.clone(), message };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|e| fail(format!("not hex: {e}")))?;
                let bytes: [u8; 32] = bytes.try_into().map_err(|_| fail("expected 64 hex digits (32 bytes)".into()))?;
                Ok(Self(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = Self::random()?;
                write_private(&path, hex::encode(secret.0).as_bytes()).map_err(|e| fail(e.to_string()))?;
                Ok(secret)
            }
            Err(e) => Err(fail(e.to_string())),
        }
    }

    fn mac(&self, purpose: &str, message: &str) -> String {
        // The purpose is part of the signed text, so a token made for one use is never valid for another.
        // HMAC takes a key of any length; this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(purpose.as_bytes());
        mac.update(b"\n");
        mac.update(message.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// Writes a new file only its owner can read.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// One logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub tenant: String,
    /// The API key that logged in: revoking it ends the session.
    pub key_id: String,
    /// Unix seconds.
    pub issued: i64,
    pub expires: i64,
    /// Random, names this session (logout, CSRF token).
    pub id: String,
}

impl Session {
    pub fn new(tenant: &str, key_id: &str, now: i64) -> Result<Self, SessionError> {
        Ok(Self {
            tenant: tenant.to_owned(),
            key_id: key_id.to_owned(),
            issued: now,
            expires: now + SESSION_SECONDS,
            id: random_token()?,
        })
    }

    fn payload(&self) -> String {
        format!("{VERSION}.{}.{}.{}.{}.{}", self.tenant, self.key_id, self.issued, self.expires, self.id)
    }

    /// The cookie's value: the fields and their signature, separated by dots (tenant and key ids have none).
    pub fn encode(&self, secret: &SessionSecret) -> String {
        let payload = self.payload();
        let signature = secret.mac("session", &payload);
        format!("{payload}.{signature}")
    }

    /// The session a cookie value carries, if its signature holds and it has not expired at `now`.
    pub fn decode(value: &str, secret: &SessionSecret, now: i64) -> Option<Session> {
        let (payload, signature) = value.rsplit_once('.')?;
        if !constant_time_eq(secret.mac("session", payload).as_bytes(), signature.as_bytes()) {
            return None;
        }
        let mut fields = payload.split('.');
        let (version, tenant, key_id) = (fields.next()?, fields.next()?, fields.next()?);
        let (issued, expires, id) = (fields.next()?.parse().ok()?, fields.next()?.parse().ok()?, fields.next()?);
        if version != VERSION || fields.next().is_some() || issued > now || now >= expires {
            return None;
        }
        Some(Session { tenant: tenant.into(), key_id: key_id.into(), issued, expires, id: id.into() })
    }

    /// The token a page of this session sends with every request that changes something.
    pub fn csrf_token(&self, secret: &SessionSecret) -> String {
        secret.mac("csrf", &self.id)
    }
}

/// The login form's token for the nonce in its cookie.
pub fn login_token(secret: &SessionSecret, nonce: &str) -> String {
    secret.mac("login", nonce)
}

/// 128 random bits, URL-safe.
pub fn random_token() -> Result<String, SessionError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| SessionError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Compares without an early exit, so response time does not reveal how much of a token matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]
    use super::*;

    const NOW: i64 = 1_796_000_000;

    fn secret() -> SessionSecret {
        SessionSecret::new([7; 32])
    }

    #[test]
    fn a_session_round_trips_and_expires() {
        let session = Session::new("acme", "key_0a1b2c", NOW).unwrap();
        let cookie = session.encode(&secret());
        assert!(!cookie.contains("lmk_"));
        assert_eq!(Session::decode(&cookie, &secret(), NOW + 60), Some(session.clone()));
        assert_eq!(Session::decode(&cookie, &secret(), NOW + SESSION_SECONDS), None, "expired");
        assert_eq!(Session::decode(&cookie, &secret(), NOW - 1), None, "issued in the future");
        assert_eq!(Session::decode(&cookie, &SessionSecret::new([8; 32]), NOW), None, "another server's secret");
    }

    #[test]
    fn changing_any_field_breaks_the_signature() {
        let cookie = Session::new("a", "key_0a1b2c", NOW).unwrap().encode(&secret());
        for (from, to) in
            [("v1.a.", "v1.b."), ("key_0a1b2c", "key_ffffff"), (&(NOW + SESSION_SECONDS).to_string(), "9999999999")]
        {
            let forged = cookie.replacen(from, to, 1);
            assert_ne!(forged, cookie);
            assert_eq!(Session::decode(&forged, &secret(), NOW), None, "{from} → {to}");
        }
        for junk in ["", ".", "v1", "v1.a.k.1.2.id", "v1.a.k.x.y.id.sig", &format!("{cookie}.extra")] {
            assert_eq!(Session::decode(junk, &secret(), NOW), None, "{junk}");
        }
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_session_and_to_their_purpose() {
        let one = Session::new("a", "k", NOW).unwrap();
        let two = Session::new("a", "k", NOW).unwrap();
        assert_ne!(one.id, two.id);
        assert_ne!(one.csrf_token(&secret()), two.csrf_token(&secret()));
        assert_eq!(one.csrf_token(&secret()), one.csrf_token(&secret()));
        assert_ne!(login_token(&secret(), &one.id), one.csrf_token(&secret()), "a login token is not a CSRF token");
    }

    #[test]
    fn the_secret_is_created_once_readable_by_its_owner_only() {
        let dir = std::env::temp_dir().join(format!("lastmile-session-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = SessionSecret::load_or_create(&dir).unwrap();
        let again = SessionSecret::load_or_create(&dir).unwrap();
        assert_eq!(first.0, again.0, "a restart keeps the sessions");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join(SECRET_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(format!("{first:?}"), "SessionSecret(…)");
        std::fs::write(dir.join(SECRET_FILE), "short").unwrap();
        assert!(SessionSecret::load_or_create(&dir).unwrap_err().to_string().contains(SECRET_FILE));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
