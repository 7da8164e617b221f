//! Install: the redirect to the shop's authorize page, and the callback that finishes it.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use hmac::{Hmac, Mac};
use lastmile_core::contract::ApiError;
use lastmile_core::shopify::oauth::{authorize_url, valid_shop_domain, verify_query};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::http::ErrorResponse;
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::shopify_admin::{AccessToken, AdminError, ExchangeError};
use lastmile_platform::tenants::{KeyScope, TenantError};
use sha2::Sha256;

use crate::installation::{self, Installation, StateRefused, Status};
use crate::{App, CARRIER_SERVICE_KEY_NAME, CARRIER_SERVICE_NAME, WEBHOOKS, store};

/// The cookie that ties an install's `state` to the browser that started it (Shopify's recommendation: a
/// callback opened in another browser, with a state it did not get, is refused).
const STATE_COOKIE: &str = "lastmile_shopify_state";

type Params = Vec<(String, String)>;

fn param<'p>(params: &'p Params, name: &str) -> Option<&'p str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The shop the query names, if it is a shop's own domain.
fn shop(params: &Params) -> Result<String, ApiError> {
    let shop = param(params, "shop").unwrap_or_default().trim().to_ascii_lowercase();
    if !valid_shop_domain(&shop) {
        return Err(ApiError::new(
            400,
            "invalid_shop",
            "`shop` must be a shop's domain, such as my-shop.myshopify.com",
        )
        .with_field("shop"));
    }
    Ok(shop)
}

fn bad_signature() -> ApiError {
    ApiError::new(401, "bad_signature", "the query's hmac does not match: the request was not signed by Shopify")
}

fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        tracing::error!(error = %e, "random");
        ApiError::new(503, "random_unavailable", "no random bytes for the install's state; retry")
    })?;
    Ok(hex::encode(buf))
}

fn cookie_signature(secret: &[u8], nonce: &str) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    hex::encode(mac.chain_update(b"install-state\0").chain_update(nonce.as_bytes()).finalize().into_bytes())
}

/// Whether the request's state cookie is `nonce`, signed with one of the app's secrets.
fn cookie_matches(headers: &HeaderMap, nonce: &str, secrets: &[&[u8]]) -> bool {
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';'));
    let Some(value) = cookies.filter_map(|c| c.trim().strip_prefix(STATE_COOKIE)?.strip_prefix('=')).next() else {
        return false;
    };
    let Some((cookie_nonce, signature)) = value.split_once('.') else { return false };
    // Both sides are hex the app made; comparing the signature by its own HMAC check keeps it constant-time.
    cookie_nonce == nonce
        && secrets.iter().filter(|s| !s.is_empty()).any(|s| {
            let expected = cookie_signature(s, nonce);
            expected.len() == signature.len()
                && expected.bytes().zip(signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        })
}

/// `GET /shopify/install?shop=…`
pub async fn install(State(app): State<Arc<App>>, Query(params): Query<Params>) -> Response {
    match start(&app, &params).await {
        Ok(response) => response,
        Err(e) => ErrorResponse(e).into_response(),
    }
}

async fn start(app: &App, params: &Params) -> Result<Response, ApiError> {
    let shop = shop(params)?;
    let credentials = app.credentials()?;
    let secrets = app.secrets();
    // Opened from the shop's admin (a signed query): a shop that has the app sees it is installed, rather than
    // going through the authorization again.
    if param(params, "hmac").is_some() {
        if !verify_query(params, &secrets) {
            return Err(bad_signature());
        }
        app.registry.refresh().await;
        if let Some(tenant) = app.registry.tenant_by_shop(&shop) {
            let table = TenantTable::new(&*app.table, &tenant.id);
            let active =
                installation::get(&table).await.map_err(store)?.is_some_and(|i| i.value.status == Status::Active);
            if active && tenant.enabled {
                return Ok(installed_page(&shop, &tenant.id).into_response());
            }
        }
    }
    let nonce = random_hex(16)?;
    installation::put_state(&*app.table, &nonce, &shop, app.clock.now()).await.map_err(store)?;
    let scopes: Vec<&str> = app.scopes.iter().map(String::as_str).collect();
    let location = authorize_url(&shop, &credentials.api_key, &scopes, &app.url("/shopify/callback"), &nonce);
    let signature = cookie_signature(secrets.first().copied().unwrap_or_default(), &nonce);
    // Lax: the cookie comes back on Shopify's top-level redirect to the callback, not on cross-site posts.
    let secure = if app.app_url.starts_with("https://") { "; Secure" } else { "" };
    let cookie = format!(
        "{STATE_COOKIE}={nonce}.{signature}; Path=/shopify; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        installation::STATE_SECONDS
    );
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, header_value(&location)?);
    headers.insert(header::SET_COOKIE, header_value(&cookie)?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    tracing::info!(shop = %shop, "install started");
    Ok(response)
}

fn header_value(value: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(value).map_err(|_| ApiError::new(400, "invalid_request", "the redirect cannot be built"))
}

/// `GET /shopify/callback?code=…&hmac=…&shop=…&state=…&timestamp=…`
pub async fn callback(State(app): State<Arc<App>>, headers: HeaderMap, Query(params): Query<Params>) -> Response {
    match finish(&app, &headers, &params).await {
        Ok(response) => response,
        Err(e) => ErrorResponse(e).into_response(),
    }
}

async fn finish(app: &App, headers: &HeaderMap, params: &Params) -> Result<Response, ApiError> {
    let shop = shop(params)?;
    app.credentials()?;
    let secrets = app.secrets();
    if !verify_query(params, &secrets) {
        return Err(bad_signature());
    }
    let state = param(params, "state").unwrap_or_default();
    let code = param(params, "code").filter(|c| !c.is_empty()).ok_or_else(|| {
        ApiError::new(400, "missing_code", "the callback has no authorization `code`").with_field("code")
    })?;
    if !cookie_matches(headers, state, &secrets) {
        return Err(ApiError::new(
            400,
            "state_mismatch",
            "this browser did not start this install (state cookie missing or different): open the install link again",
        )
        .with_field("state"));
    }
    let refused = installation::take_state(&*app.table, state, &shop, app.clock.now()).await.map_err(store)?;
    match refused {
        Ok(()) => {}
        Err(StateRefused::Unknown) => {
            return Err(ApiError::new(
                400,
                "invalid_state",
                "the install's `state` is unknown or already used: open the install link again",
            )
            .with_field("state"));
        }
        Err(StateRefused::Expired) => {
            return Err(ApiError::new(
                400,
                "expired_state",
                format!(
                    "the install took more than {} minutes: open the install link again",
                    installation::STATE_SECONDS / 60
                ),
            )
            .with_field("state"));
        }
    }
    let token = app.exchange.exchange(&shop, code).await.map_err(|e| match e {
        ExchangeError::Refused(message) => {
            tracing::warn!(shop = %shop, %message, "code refused");
            ApiError::new(400, "code_refused", "Shopify refused the authorization code: open the install link again")
        }
        ExchangeError::Unavailable(message) => {
            tracing::error!(shop = %shop, %message, "token exchange");
            ApiError::new(
                503,
                "shopify_unavailable",
                "Shopify did not answer the token exchange: open the install link again",
            )
        }
    })?;
    let tenant = install_tenant(app, &shop, &token).await?;
    tracing::info!(shop = %shop, tenant = %tenant, "installed");
    Ok(installed_page(&shop, &tenant).into_response())
}

/// The shop's tenant, created or re-enabled, with its installation stored and the app registered in the shop.
async fn install_tenant(app: &App, shop: &str, token: &AccessToken) -> Result<String, ApiError> {
    let registry_error = |e: TenantError| {
        tracing::error!(error = %e, "tenant registry");
        ApiError::new(503, "store_unavailable", "the tenant registry did not answer; open the install link again")
    };
    app.registry.refresh().await;
    let tenant = match app.registry.tenant_by_shop(shop) {
        Some(tenant) => app.registry.set_enabled(&tenant.id, true).await.map_err(registry_error)?,
        None => {
            let id = new_tenant_id(app, shop);
            let name = shop.trim_end_matches(".myshopify.com").to_owned();
            // A new shop starts from the sample's defaults; its warehouses are the seller's to set.
            let config = TenantConfig {
                name,
                shopify_domain: Some(shop.to_owned()),
                warehouses: Vec::new(),
                enabled: true,
                ..TenantConfig::sample(&id)
            };
            app.registry.put_tenant(config).await.map_err(registry_error)?;
            app.registry.tenant(&id).ok_or_else(|| registry_error(TenantError::UnknownTenant(id.clone())))?
        }
    };
    let table = TenantTable::new(&*app.table, &tenant.id);
    let sealed =
        app.sealer.seal(token.access_token.as_bytes(), &installation::token_owner(&tenant.id)).map_err(|e| {
            tracing::error!(error = %e, "seal");
            ApiError::new(
                503,
                "sealing_unavailable",
                "the access token could not be sealed; open the install link again",
            )
        })?;
    let now = app.clock.now();
    let existing = installation::get(&table).await.map_err(store)?;
    let mut record = Installation {
        shop: shop.to_owned(),
        scopes: token.scope.clone(),
        token: Some(sealed),
        status: Status::Active,
        installed_at: now,
        uninstalled_at: None,
        carrier_service_id: None,
        webhooks: Default::default(),
    };
    let version = installation::put(&table, &record, existing.map(|e| e.version)).await.map_err(store)?;
    // The CarrierService URL carries a fresh token; the previous ones the app made stop working once Shopify
    // has the new URL.
    let previous: Vec<String> = app
        .registry
        .keys(&tenant.id)
        .into_iter()
        .filter(|k| k.scope == KeyScope::CarrierService && !k.revoked && k.name == CARRIER_SERVICE_KEY_NAME)
        .map(|k| k.id)
        .collect();
    let (_, carrier_token) = app
        .registry
        .create_scoped_key(&tenant.id, CARRIER_SERVICE_KEY_NAME, &now.to_string(), KeyScope::CarrierService)
        .await
        .map_err(registry_error)?;
    let registered = register(app, shop, &token.access_token, &carrier_token).await;
    let (carrier_service_id, webhooks) = registered.map_err(|e| {
        tracing::error!(shop = %shop, error = %e, "registration");
        ApiError::new(
            503,
            "shopify_unavailable",
            "registering the webhooks and the CarrierService in the shop failed: open the install link again",
        )
    })?;
    for key in previous {
        if let Err(e) = app.registry.revoke_key(&key).await {
            tracing::warn!(error = %e, key = %key, "previous CarrierService key not revoked");
        }
    }
    record.carrier_service_id = Some(carrier_service_id);
    record.webhooks = webhooks;
    installation::put(&table, &record, Some(version)).await.map_err(store)?;
    Ok(tenant.id.clone())
}

/// Registers the webhooks and the CarrierService callback in the shop (the Admin API client blocks: off the async
/// workers). Answers the carrier service's id and the subscriptions' ids by topic.
async fn register(
    app: &App,
    shop: &str,
    access_token: &str,
    carrier_token: &str,
) -> Result<(String, std::collections::BTreeMap<String, String>), AdminError> {
    let client = (app.admin)(shop, access_token);
    let carrier_url = app.url(&format!("/shopify/carrier-service/{carrier_token}"));
    let webhooks: Vec<(String, String)> =
        WEBHOOKS.iter().map(|(topic, path)| ((*topic).to_owned(), app.url(path))).collect();
    tokio::task::spawn_blocking(move || {
        let mut ids = std::collections::BTreeMap::new();
        for (topic, uri) in webhooks {
            let id = client.ensure_webhook(&topic, &uri)?;
            ids.insert(topic, id);
        }
        let carrier = client.ensure_carrier_service(CARRIER_SERVICE_NAME, &carrier_url)?;
        Ok((carrier, ids))
    })
    .await
    .map_err(|e| AdminError::Transport(e.to_string()))?
}

/// A tenant id from the shop's name (`my-shop` of `my-shop.myshopify.com`), with a number added when another
/// tenant has it.
fn new_tenant_id(app: &App, shop: &str) -> String {
    let name = shop.trim_end_matches(".myshopify.com");
    std::iter::once(name.to_owned())
        .chain((2..).map(|n| format!("{name}-{n}")))
        .find(|id| app.registry.tenant(id).is_none())
        .unwrap_or_else(|| name.to_owned())
}

/// The page the merchant lands on. The shop and tenant are checked identifiers (letters, digits, `-`, `.`), safe
/// in HTML as they are.
fn installed_page(shop: &str, tenant: &str) -> (StatusCode, [(header::HeaderName, &'static str); 1], Html<String>) {
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>lastmile installed</title></head><body>\
             <h1>lastmile is installed on {shop}</h1><p>Tenant <code>{tenant}</code>: checkout rates come from lastmile's \
             CarrierService, and new orders are routed. Set the warehouses in the tenant's configuration.</p>\
             <p><a href=\"https://{shop}/admin\">Back to the shop's admin</a></p></body></html>"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_cookie_must_carry_the_state_signed_by_the_app() {
        let nonce = "00112233445566778899aabbccddeeff";
        let signed = format!("{STATE_COOKIE}={nonce}.{}", cookie_signature(b"secret", nonce));
        let headers = |cookie: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, HeaderValue::from_str(cookie).expect("header"));
            h
        };
        assert!(cookie_matches(&headers(&format!("other=1; {signed}")), nonce, &[b"secret"]));
        assert!(cookie_matches(&headers(&signed), nonce, &[b"new", b"secret"]), "either secret of a rotation");
        assert!(!cookie_matches(&headers(&signed), "ffeeddccbbaa99887766554433221100", &[b"secret"]));
        assert!(!cookie_matches(&headers(&signed), nonce, &[b"other"]));
        assert!(!cookie_matches(&headers(&format!("{STATE_COOKIE}={nonce}.00")), nonce, &[b"secret"]));
        assert!(!cookie_matches(&HeaderMap::new(), nonce, &[b"secret"]));
    }
}
