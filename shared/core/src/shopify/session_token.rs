//! Shopify session tokens: the JWT (HS256, signed with the app's API secret) that a checkout UI extension or
//! an embedded app sends as `Authorization: Bearer …`.
//!
//! Written here rather than with a JWT crate because only HS256 is ever valid, the checks are Shopify's
//! (audience = the app's API key, `dest` = the shop), time is a parameter (the core has no clock), and it
//! must build for wasm32 without a crypto backend that needs one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::contract::ApiError;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: i64 = 10;

/// What a token must satisfy.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// The app's API secret: the HMAC key.
    pub secret: &'a [u8],
    /// The app's API key (client id): the token's `aud` must be it.
    pub api_key: &'a str,
    /// Shop domains (`shop.myshopify.com`) allowed to call; empty allows every shop.
    pub allowed_shops: &'a [String],
}

/// The claims lastmile reads from a valid token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The shop the token was issued for, e.g. `https://shop.myshopify.com` or `shop.myshopify.com`.
    pub dest: String,
    #[serde(deserialize_with = "audiences")]
    pub aud: Vec<String>,
    pub exp: i64,
    #[serde(default)]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

impl Claims {
    /// The shop's domain, without scheme or path: `shop.myshopify.com`.
    pub fn shop(&self) -> &str {
        shop_domain(&self.dest)
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no session token: send `Authorization: Bearer <Shopify session token>`")]
    Missing,
    #[error("the session token is not a well-formed JWT")]
    Malformed,
    #[error("the session token must be signed with HS256")]
    Algorithm,
    #[error("the session token's signature does not match the app secret")]
    Signature,
    #[error("the session token has expired")]
    Expired,
    #[error("the session token is not valid yet")]
    NotYetValid,
    #[error("the session token was issued for another app")]
    Audience,
    #[error("this shop may not call this endpoint")]
    ShopNotAllowed,
}

impl TokenError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "missing_session_token",
            Self::ShopNotAllowed => "shop_not_allowed",
            _ => "invalid_session_token",
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        ApiError::new(401, e.code(), e.to_string()).with_field("Authorization")
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Checks an `Authorization` header value (`Bearer <jwt>`) at `now` (Unix seconds) and returns the claims.
pub fn verify_bearer(authorization: Option<&str>, policy: &Policy<'_>, now: i64) -> Result<Claims, TokenError> {
    let value = authorization.map(str::trim).filter(|v| !v.is_empty()).ok_or(TokenError::Missing)?;
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(TokenError::Missing)?;
    verify(token, policy, now)
}

/// Checks a session token at `now` (Unix seconds) and returns its claims.
pub fn verify(token: &str, policy: &Policy<'_>, now: i64) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header = decode_json(header)?;
    if header.alg != "HS256" {
        return Err(TokenError::Algorithm);
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed)?;
    let signed = &token[..header_and_payload_len(token)];
    // `verify_slice` compares in constant time.
    mac(policy.secret).chain_update(signed.as_bytes()).verify_slice(&signature).map_err(|_| TokenError::Signature)?;

    let claims: Claims = decode_json(payload)?;
    if now > claims.exp + LEEWAY_SECS {
        return Err(TokenError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| now + LEEWAY_SECS < nbf) {
        return Err(TokenError::NotYetValid);
    }
    if !claims.aud.iter().any(|aud| aud == policy.api_key) {
        return Err(TokenError::Audience);
    }
    if !policy.allowed_shops.is_empty()
        && !policy.allowed_shops.iter().any(|shop| shop_domain(shop).eq_ignore_ascii_case(claims.shop()))
    {
        return Err(TokenError::ShopNotAllowed);
    }
    Ok(claims)
}

/// Signs claims as Shopify does (HS256). Used to mint tokens for tests and local tools.
pub fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(mac(secret).chain_update(signed.as_bytes()).finalize().into_bytes());
    format!("{signed}.{signature}")
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this never fails.
    <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

fn shop_domain(dest: &str) -> &str {
    let host = dest.strip_prefix("https://").or_else(|| dest.strip_prefix("http://")).unwrap_or(dest);
    host.split('/').next().unwrap_or(host)
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
fn audiences<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(aud) => vec![aud],
        OneOrMany::Many(auds) => auds,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"shpss_test_secret";
    const NOW: i64 = 1_795_000_000;

    fn policy(allowed: &[String]) -> Policy<'_> {
        Policy { secret: SECRET, api_key: "app-key", allowed_shops: allowed }
    }

    fn token(exp: i64, nbf: i64, aud: &str) -> String {
        sign(
            &json!({"iss": "https://shop-a.myshopify.com/admin", "dest": "https://shop-a.myshopify.com", "aud": aud,
                "sub": "42", "exp": exp, "nbf": nbf, "iat": nbf, "jti": "j", "sid": "s"}),
            SECRET,
        )
    }

    #[test]
    fn a_fresh_token_for_this_app_is_accepted() {
        let claims = verify(&token(NOW + 60, NOW - 1, "app-key"), &policy(&[]), NOW).unwrap();
        assert_eq!(claims.shop(), "shop-a.myshopify.com");
        let header = format!("Bearer {}", token(NOW + 60, NOW - 1, "app-key"));
        assert!(verify_bearer(Some(&header), &policy(&[]), NOW).is_ok());
    }

    #[test]
    fn expiry_and_not_before_allow_ten_seconds_of_skew() {
        let t = token(NOW, NOW, "app-key");
        assert!(verify(&t, &policy(&[]), NOW + 10).is_ok());
        assert_eq!(verify(&t, &policy(&[]), NOW + 11), Err(TokenError::Expired));
        assert!(verify(&t, &policy(&[]), NOW - 10).is_ok());
        assert_eq!(verify(&t, &policy(&[]), NOW - 11), Err(TokenError::NotYetValid));
    }

    #[test]
    fn wrong_audience_signature_algorithm_and_shape_are_refused() {
        assert_eq!(verify(&token(NOW + 60, NOW, "other-app"), &policy(&[]), NOW), Err(TokenError::Audience));
        let forged = sign(&json!({"dest": "shop-a.myshopify.com", "aud": "app-key", "exp": NOW + 60}), b"guess");
        assert_eq!(verify(&forged, &policy(&[]), NOW), Err(TokenError::Signature));
        let valid = token(NOW + 60, NOW, "app-key");
        let (signed, _) = valid.rsplit_once('.').unwrap();
        let none_alg =
            format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), signed.split('.').nth(1).unwrap());
        assert_eq!(verify(&none_alg, &policy(&[]), NOW), Err(TokenError::Algorithm));
        assert_eq!(verify("a.b", &policy(&[]), NOW), Err(TokenError::Malformed));
        assert_eq!(verify_bearer(None, &policy(&[]), NOW), Err(TokenError::Missing));
        assert_eq!(verify_bearer(Some("Basic abc"), &policy(&[]), NOW), Err(TokenError::Missing));
    }

    #[test]
    fn the_allow_list_names_shops_with_or_without_scheme() {
        let t = token(NOW + 60, NOW, "app-key");
        assert!(verify(&t, &policy(&["https://shop-a.myshopify.com".into()]), NOW).is_ok());
        assert!(verify(&t, &policy(&["SHOP-A.myshopify.com".into()]), NOW).is_ok());
        assert_eq!(verify(&t, &policy(&["shop-b.myshopify.com".into()]), NOW), Err(TokenError::ShopNotAllowed));
    }

    #[test]
    fn audience_may_be_an_array() {
        let t = sign(&json!({"dest": "shop-a.myshopify.com", "aud": ["x", "app-key"], "exp": NOW + 60}), SECRET);
        assert!(verify(&t, &policy(&[]), NOW).is_ok());
    }
}
