//! Request handling of the edge worker, free of the Workers runtime: routing, CORS, Shopify session tokens,
//! request limits and the address routes.

use lastmile_core::address::api::{self, Defaults};
use lastmile_core::contract::{ApiError, MAX_ADDRESS_BODY_BYTES, MAX_BATCH_BODY_BYTES};
use lastmile_core::shopify::session_token::{self, Policy};
use serde_json::json;

/// Name of the rate-limit binding declared in `wrangler.toml`.
pub const RATE_LIMITER_BINDING: &str = "ADDRESS_RATE_LIMITER";
/// Name of the static-assets binding that carries the postcode tables (`wrangler.toml`'s `[assets]`).
pub const ASSETS_BINDING: &str = "ASSETS";
/// Seconds a caller is told to wait after hitting the rate limit: the binding's period.
pub const RATE_LIMIT_PERIOD_SECS: u32 = 60;

/// Headers on every answer. A checkout UI extension runs in a web worker whose origin is `null`, so the
/// origin cannot be listed: any origin may call, and the session token is what authorizes.
pub const CORS_HEADERS: [(&str, &str); 5] = [
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "GET, POST, OPTIONS"),
    ("access-control-allow-headers", "authorization, content-type, x-correlation-id"),
    ("access-control-expose-headers", "x-correlation-id, retry-after"),
    ("access-control-max-age", "86400"),
];

/// The routes the worker serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Health,
    Preflight,
    Validate,
    ValidateBatch,
}

impl Route {
    /// The routes that run the engine and therefore need a caller's token and a rate-limit slot.
    pub fn is_protected(self) -> bool {
        matches!(self, Route::Validate | Route::ValidateBatch)
    }

    fn body_limit(self) -> usize {
        match self {
            Route::ValidateBatch => MAX_BATCH_BODY_BYTES,
            _ => MAX_ADDRESS_BODY_BYTES,
        }
    }
}

/// The worker's configuration, from its bindings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `SHOPIFY_API_SECRET` (a secret). When bound, every protected route needs a Shopify session token.
    pub shopify_api_secret: Option<String>,
    /// `SHOPIFY_API_KEY` (a var): the audience session tokens must name.
    pub shopify_api_key: Option<String>,
    /// `SHOPIFY_SHOP_ALLOWLIST` (a var): comma-separated shop domains; empty allows every shop.
    pub allowed_shops: Vec<String>,
}

impl Settings {
    pub fn new(secret: Option<String>, api_key: Option<String>, allowlist: Option<String>) -> Self {
        let non_empty = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Settings {
            shopify_api_secret: non_empty(secret),
            shopify_api_key: non_empty(api_key),
            allowed_shops: allowlist
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// An answer: status, JSON body and the headers beyond CORS and content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, body: String) -> Self {
        Reply { status, body, headers: Vec::new() }
    }

    fn error(e: &ApiError) -> Self {
        Reply::json(e.status, serde_json::to_string(&e.body()).unwrap_or_default())
    }

    fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// Finds the route, or answers 404/405 with the JSON error body, as `lastmile dev` does.
pub fn route(method: &str, path: &str) -> Result<Route, Reply> {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let allowed: &[(&str, Route)] = match path {
        "/health" => &[("GET", Route::Health), ("HEAD", Route::Health)],
        "/v1/address/validate" => &[("POST", Route::Validate)],
        "/v1/address/validate/batch" => &[("POST", Route::ValidateBatch)],
        _ => return Err(Reply::error(&ApiError::new(404, "not_found", "no such route"))),
    };
    if method.eq_ignore_ascii_case("OPTIONS") {
        return Ok(Route::Preflight);
    }
    allowed.iter().find(|(m, _)| method.eq_ignore_ascii_case(m)).map(|(_, r)| *r).ok_or_else(|| {
        let methods: Vec<&str> = allowed.iter().map(|(m, _)| *m).collect();
        Reply::error(&ApiError::new(
            405,
            "method_not_allowed",
            format!("{path} accepts {} (and OPTIONS)", methods.join(", ")),
        ))
        .with_header("allow", format!("{}, OPTIONS", methods.join(", ")))
    })
}

/// `OPTIONS`: the CORS preflight. Everything it needs is in [`CORS_HEADERS`].
pub fn preflight() -> Reply {
    Reply { status: 204, body: String::new(), headers: Vec::new() }
}

/// `GET /health`: liveness only, so that it measures the runtime's own floor.
pub fn health() -> Reply {
    Reply::json(
        200,
        json!({"status": "ok", "service": "lastmile-edge", "version": env!("CARGO_PKG_VERSION")}).to_string(),
    )
}

/// Who is calling: the shop of a valid session token when the secret is bound, else nobody in particular.
/// `now` is Unix seconds.
pub fn authorize(settings: &Settings, authorization: Option<&str>, now: i64) -> Result<Option<String>, Reply> {
    let Some(secret) = settings.shopify_api_secret.as_deref() else {
        return Ok(None);
    };
    let Some(api_key) = settings.shopify_api_key.as_deref() else {
        // A secret without the key it pairs with cannot check any token: refuse rather than accept all.
        return Err(Reply::error(&ApiError::new(
            503,
            "not_configured",
            "SHOPIFY_API_SECRET is bound but SHOPIFY_API_KEY is not set: no session token can be checked",
        )));
    };
    let policy = Policy { secret: secret.as_bytes(), api_key, allowed_shops: &settings.allowed_shops };
    session_token::verify_bearer(authorization, &policy, now)
        .map(|claims| Some(claims.shop().to_ascii_lowercase()))
        .map_err(|e| Reply::error(&ApiError::from(e)).with_header("www-authenticate", "Bearer".to_owned()))
}

/// The key the rate limiter counts by: the shop when known, else the client's address.
pub fn rate_limit_key(shop: Option<&str>, client_ip: Option<&str>) -> String {
    match (shop, client_ip) {
        (Some(shop), _) => format!("shop:{shop}"),
        (None, Some(ip)) => format!("ip:{ip}"),
        (None, None) => "anonymous".to_owned(),
    }
}

/// The answer when the rate limiter says no.
pub fn rate_limited() -> Reply {
    Reply::error(&ApiError::new(429, "rate_limited", "too many requests: slow down and retry"))
        .with_header("retry-after", RATE_LIMIT_PERIOD_SECS.to_string())
}

/// Refuses a body whose declared length is over the route's limit before reading it.
pub fn check_declared_length(route: Route, content_length: Option<&str>) -> Result<(), Reply> {
    let limit = route.body_limit();
    match content_length.and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(len) if len > limit as u64 => Err(Reply::error(&ApiError::payload_too_large(limit))),
        _ => Ok(()),
    }
}

/// The answer when the runtime could not read the body.
pub fn unreadable_body() -> Reply {
    Reply::error(&ApiError::new(400, "unreadable_body", "the request body could not be read"))
}

/// The answer when a postcode table could not be loaded from the assets: retrying may help, and no answer
/// is given from partial reference data.
pub fn reference_data_unavailable(country: &str) -> Reply {
    Reply::error(&ApiError::new(
        503,
        "reference_data_unavailable",
        format!("the postcode table of {country} could not be loaded; retry"),
    ))
    .with_header("retry-after", "1".to_owned())
}

/// Runs a protected route on its body.
pub fn answer(route: Route, body: &[u8]) -> Reply {
    let result = match route {
        Route::Validate => api::validate_body(body, Defaults::default()).and_then(|r| to_json(&r)),
        Route::ValidateBatch => api::validate_batch_body(body, Defaults::default()).and_then(|r| to_json(&r)),
        Route::Health => return health(),
        Route::Preflight => return preflight(),
    };
    match result {
        Ok(json) => Reply::json(200, json),
        Err(e) => Reply::error(&e),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value)
        .map_err(|e| ApiError::new(422, "unserializable", format!("the answer could not be written as JSON: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn error_code(reply: &Reply) -> String {
        let value: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        value["error"]["code"].as_str().unwrap().to_owned()
    }

    #[test]
    fn routes_and_their_refusals() {
        assert_eq!(route("POST", "/v1/address/validate"), Ok(Route::Validate));
        assert_eq!(route("post", "/v1/address/validate/batch/"), Ok(Route::ValidateBatch));
        assert_eq!(route("OPTIONS", "/v1/address/validate"), Ok(Route::Preflight));
        assert_eq!(route("GET", "/health"), Ok(Route::Health));
        let wrong_method = route("GET", "/v1/address/validate").unwrap_err();
        assert_eq!((wrong_method.status, error_code(&wrong_method).as_str()), (405, "method_not_allowed"));
        assert!(wrong_method.headers.contains(&("allow", "POST, OPTIONS".to_owned())));
        let unknown = route("GET", "/v2/anything").unwrap_err();
        assert_eq!((unknown.status, error_code(&unknown).as_str()), (404, "not_found"));
    }

    #[test]
    fn without_a_secret_every_caller_is_served() {
        assert_eq!(authorize(&Settings::default(), None, 0), Ok(None));
    }

    #[test]
    fn with_a_secret_a_token_is_required_and_its_shop_is_the_caller() {
        let settings = Settings::new(Some("s3cret".into()), Some("key".into()), Some(" a.myshopify.com , ".into()));
        assert_eq!(settings.allowed_shops, vec!["a.myshopify.com".to_owned()]);
        let missing = authorize(&settings, None, 100).unwrap_err();
        assert_eq!((missing.status, error_code(&missing).as_str()), (401, "missing_session_token"));
        let token = session_token::sign(
            &json!({"dest": "https://A.myshopify.com", "aud": "key", "exp": 200, "nbf": 90}),
            b"s3cret",
        );
        let header = format!("Bearer {token}");
        assert_eq!(authorize(&settings, Some(&header), 100), Ok(Some("a.myshopify.com".to_owned())));
        let expired = authorize(&settings, Some(&header), 211).unwrap_err();
        assert_eq!((expired.status, error_code(&expired).as_str()), (401, "invalid_session_token"));
        let secret_only = Settings::new(Some("s3cret".into()), None, None);
        assert_eq!(authorize(&secret_only, Some(&header), 100).unwrap_err().status, 503);
    }

    #[test]
    fn declared_lengths_over_the_contract_limits_are_refused_before_reading() {
        assert!(check_declared_length(Route::Validate, Some("16384")).is_ok());
        let too_big = check_declared_length(Route::Validate, Some("16385")).unwrap_err();
        assert_eq!((too_big.status, error_code(&too_big).as_str()), (413, "payload_too_large"));
        assert!(check_declared_length(Route::ValidateBatch, Some("131072")).is_ok());
        assert!(check_declared_length(Route::ValidateBatch, Some("131073")).is_err());
        assert!(check_declared_length(Route::Validate, None).is_ok());
    }

    #[test]
    fn answers_are_the_engines_json() {
        let reply = answer(
            Route::Validate,
            br#"{"country":"US","text":"1600 pennsylvania avenue northwest, washington dc 20500"}"#,
        );
        assert_eq!(reply.status, 200);
        let value: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(value["standardized"]["lines"][0], "1600 PENNSYLVANIA AVE NW");
        let bad = answer(Route::Validate, b"{");
        assert_eq!((bad.status, error_code(&bad).as_str()), (400, "invalid_json"));
    }

    #[test]
    fn rate_limit_keys_prefer_the_shop() {
        assert_eq!(rate_limit_key(Some("a.myshopify.com"), Some("1.2.3.4")), "shop:a.myshopify.com");
        assert_eq!(rate_limit_key(None, Some("1.2.3.4")), "ip:1.2.3.4");
        assert_eq!(rate_limit_key(None, None), "anonymous");
        let reply = rate_limited();
        assert_eq!(reply.status, 429);
        assert!(reply.headers.contains(&("retry-after", "60".to_owned())));
    }
}
