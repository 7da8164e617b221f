//! The app's lifecycle against a stand-in for Shopify on loopback, which checks every request it gets: the
//! install redirect, the callback (signature, one-time state and its cookie, shop domain, one token exchange per
//! code), the registration of the webhooks and the CarrierService, `app/uninstalled` and a reinstall.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use lastmile_core::shopify::oauth::sign_query;
use lastmile_core::shopify::webhook::sign_webhook;
use lastmile_fn_shopify::{App, Credentials};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::clock::{ManualClock, SystemClock};
use lastmile_platform::ports::table::Key;
use lastmile_platform::sealed::{Sealed, Sealer};
use lastmile_platform::shopify_admin::{ExchangeError, HttpTokenExchange, TokenExchange};
use lastmile_platform::tenants::{KeyScope, TenantRegistry};
use serde_json::{Value, json};
use tower::ServiceExt;

const API_KEY: &str = "test-client-id";
const SECRET: &str = "shpss_test_secret";
const APP_URL: &str = "https://lastmile.test";
const SHOP: &str = "my-shop.myshopify.com";

// ---------------------------------------------------------------------------------------------------------------
// The stand-in: Shopify's OAuth token endpoint and the Admin GraphQL calls the app makes.

#[derive(Default)]
struct Shopify {
    /// Authorization codes Shopify has handed out, by code: the shop and whether it was used.
    codes: Mutex<HashMap<String, (String, bool)>>,
    /// Access tokens issued, by token: the shop.
    tokens: Mutex<HashMap<String, String>>,
    exchanges: Mutex<usize>,
    /// Webhook subscriptions: (id, topic, uri).
    webhooks: Mutex<Vec<(String, String, String)>>,
    /// Carrier services: (id, name, callback URL).
    carriers: Mutex<Vec<(String, String, String)>>,
    /// Every request the stand-in refused, to show the app sent none.
    refused: Mutex<Vec<String>>,
}

impl Shopify {
    fn code_for(&self, shop: &str) -> String {
        let code = format!("code-{}", fastrand_hex());
        self.codes.lock().unwrap().insert(code.clone(), (shop.to_owned(), false));
        code
    }
}

fn fastrand_hex() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    hex::encode(bytes)
}

async fn access_token(State(shopify): State<Arc<Shopify>>, Json(body): Json<Value>) -> axum::response::Response {
    let refuse = |why: &str| {
        shopify.refused.lock().unwrap().push(why.to_owned());
        (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_request", "error_description": why}))).into_response()
    };
    if body["client_id"] != API_KEY || body["client_secret"] != SECRET {
        return refuse("wrong app credentials");
    }
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    let shop = {
        let mut codes = shopify.codes.lock().unwrap();
        match codes.get_mut(&code) {
            Some((shop, used)) if !*used => {
                *used = true;
                shop.clone()
            }
            Some(_) => return refuse("code already used"),
            None => return refuse("unknown code"),
        }
    };
    *shopify.exchanges.lock().unwrap() += 1;
    let token = format!("shpat_{}", fastrand_hex());
    shopify.tokens.lock().unwrap().insert(token.clone(), shop);
    Json(json!({"access_token": token, "scope": "read_orders,write_shipping"})).into_response()
}

async fn graphql(
    State(shopify): State<Arc<Shopify>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> axum::response::Response {
    let token = headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !shopify.tokens.lock().unwrap().contains_key(token) || version != lastmile_platform::shopify_admin::API_VERSION {
        shopify.refused.lock().unwrap().push(format!("graphql with token {token:?}, version {version}"));
        return (StatusCode::UNAUTHORIZED, Json(json!({"errors": "[API] Invalid API key or access token"})))
            .into_response();
    }
    let query = body["query"].as_str().unwrap_or_default();
    let vars = &body["variables"];
    let answer = if query.contains("webhookSubscriptionCreate(") {
        let (topic, uri) = (
            vars["topic"].as_str().unwrap().to_owned(),
            vars["webhookSubscription"]["uri"].as_str().unwrap().to_owned(),
        );
        let mut webhooks = shopify.webhooks.lock().unwrap();
        if webhooks.iter().any(|(_, t, u)| *t == topic && *u == uri) {
            json!({"webhookSubscriptionCreate": {"webhookSubscription": null, "userErrors": [{"field": ["webhookSubscription", "callbackUrl"], "message": "Address for this topic has already been taken"}]}})
        } else {
            let id = format!("gid://shopify/WebhookSubscription/{}", webhooks.len() + 1);
            webhooks.push((id.clone(), topic.clone(), uri.clone()));
            json!({"webhookSubscriptionCreate": {"webhookSubscription": {"id": id, "topic": topic, "uri": uri}, "userErrors": []}})
        }
    } else if query.contains("webhookSubscriptions(") {
        let topics: Vec<String> = serde_json::from_value(vars["topics"].clone()).unwrap_or_default();
        let webhooks = shopify.webhooks.lock().unwrap();
        let nodes: Vec<Value> = webhooks
            .iter()
            .filter(|(_, t, _)| topics.contains(t))
            .map(|(id, t, u)| json!({"id": id, "topic": t, "uri": u}))
            .collect();
        json!({"webhookSubscriptions": {"nodes": nodes}})
    } else if query.contains("carrierServiceCreate(") {
        let input = &vars["input"];
        let (name, url) =
            (input["name"].as_str().unwrap().to_owned(), input["callbackUrl"].as_str().unwrap().to_owned());
        let mut carriers = shopify.carriers.lock().unwrap();
        if carriers.iter().any(|(_, n, _)| *n == name) {
            json!({"carrierServiceCreate": {"carrierService": null, "userErrors": [{"field": ["name"], "message": format!("Shipping rate provider {name} is already configured")}]}})
        } else {
            let id = format!("gid://shopify/DeliveryCarrierService/{}", carriers.len() + 1);
            carriers.push((id.clone(), name.clone(), url.clone()));
            json!({"carrierServiceCreate": {"carrierService": {"id": id, "name": name, "callbackUrl": url, "active": true, "supportsServiceDiscovery": true}, "userErrors": []}})
        }
    } else if query.contains("carrierServices") && !query.contains("carrierServiceUpdate(") {
        let carriers = shopify.carriers.lock().unwrap();
        let nodes: Vec<Value> =
            carriers.iter().map(|(id, n, u)| json!({"id": id, "name": n, "callbackUrl": u, "active": true})).collect();
        json!({"carrierServices": {"nodes": nodes}})
    } else if query.contains("carrierServiceUpdate(") {
        let input = &vars["input"];
        let mut carriers = shopify.carriers.lock().unwrap();
        match carriers.iter_mut().find(|(id, _, _)| input["id"] == *id) {
            Some(carrier) => {
                carrier.2 = input["callbackUrl"].as_str().unwrap().to_owned();
                json!({"carrierServiceUpdate": {"carrierService": {"id": carrier.0, "name": carrier.1, "callbackUrl": carrier.2, "active": true}, "userErrors": []}})
            }
            None => {
                json!({"carrierServiceUpdate": {"carrierService": null, "userErrors": [{"field": ["id"], "message": "not found"}]}})
            }
        }
    } else {
        shopify.refused.lock().unwrap().push(format!("unknown query {query}"));
        return (StatusCode::BAD_REQUEST, Json(json!({"errors": "unknown query"}))).into_response();
    };
    Json(json!({"data": answer})).into_response()
}

async fn start_shopify() -> (Arc<Shopify>, String) {
    let shopify = Arc::new(Shopify::default());
    let router = Router::new()
        // Where the install redirects the browser; the app itself never calls it.
        .route("/admin/oauth/authorize", get(|| async { "authorize" }))
        .route("/admin/oauth/access_token", post(access_token))
        .route("/admin/api/{version}/graphql.json", post(graphql))
        .with_state(shopify.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (shopify, url)
}

// ---------------------------------------------------------------------------------------------------------------
// The app under test, over the embedded table and a tenant registry in a temporary folder.

struct Setup {
    app: Arc<App>,
    shopify: Arc<Shopify>,
    shopify_url: String,
    clock: Arc<ManualClock>,
    dir: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("lastmile-shopify-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (shopify, shopify_url) = start_shopify().await;
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let table = Arc::new(EmbeddedTable::open(&dir.join("state.redb"), Arc::new(SystemClock)).unwrap());
    let app = App {
        credentials: Some(Credentials {
            api_key: API_KEY.into(),
            secrets: vec![SECRET.into(), "shpss_previous".into()],
        }),
        scopes: lastmile_fn_shopify::SCOPES.map(str::to_owned).to_vec(),
        app_url: APP_URL.into(),
        registry: Arc::new(TenantRegistry::open(&dir).unwrap()),
        table,
        sealer: Arc::new(Sealer::from_secrets(&"5a".repeat(32), &[]).unwrap()),
        exchange: Arc::new(HttpTokenExchange {
            client_id: API_KEY.into(),
            client_secret: SECRET.into(),
            base: Some(shopify_url.clone()),
        }),
        admin: App::admin_at(Some(shopify_url.clone())),
        clock: clock.clone(),
    };
    Setup { app: Arc::new(app), shopify, shopify_url, clock, dir }
}

async fn send(router: Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    (status, headers, body)
}

fn error_code(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .map(|v| v["error"]["code"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// Opens the install link: answers the `state` from the redirect and the cookie to send back.
async fn install(s: &Setup, shop: &str) -> (String, String) {
    let request = Request::get(format!("/shopify/install?shop={shop}")).body(Body::empty()).unwrap();
    let (status, headers, body) = send(lastmile_fn_shopify::app(s.app.clone()), request).await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    let location = headers[header::LOCATION].to_str().unwrap();
    let state = location.split("state=").nth(1).unwrap().to_owned();
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    (state, cookie)
}

/// The callback as Shopify redirects the browser to it: the query signed with `secret`.
fn callback(shop: &str, code: &str, state: &str, cookie: Option<&str>, secret: &str) -> Request<Body> {
    let mut params = vec![
        ("code".to_owned(), code.to_owned()),
        ("shop".to_owned(), shop.to_owned()),
        ("state".to_owned(), state.to_owned()),
        ("timestamp".to_owned(), Timestamp::now().as_second().to_string()),
    ];
    let hmac = sign_query(&params, secret.as_bytes());
    params.push(("hmac".to_owned(), hmac));
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut request = Request::get(format!("/shopify/callback?{}", query.join("&")));
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

async fn complete_install(s: &Setup, shop: &str) -> (StatusCode, String) {
    let (state, cookie) = install(s, shop).await;
    let code = s.shopify.code_for(shop);
    let (status, _, body) =
        send(lastmile_fn_shopify::app(s.app.clone()), callback(shop, &code, &state, Some(&cookie), SECRET)).await;
    (status, body)
}

fn uninstalled_webhook(shop: &str, webhook_id: &str, secret: &str, triggered_at: Timestamp) -> Request<Body> {
    let body = json!({"id": 548380009, "name": "My Shop", "myshopify_domain": shop}).to_string();
    Request::post("/webhooks/shopify/app")
        .header("content-type", "application/json")
        .header("x-shopify-hmac-sha256", sign_webhook(body.as_bytes(), secret.as_bytes()))
        .header("x-shopify-topic", "app/uninstalled")
        .header("x-shopify-shop-domain", shop)
        .header("x-shopify-webhook-id", webhook_id)
        .header("x-shopify-triggered-at", triggered_at.to_string())
        .body(Body::from(body))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_redirects_to_the_shops_authorize_page_with_scopes_callback_and_a_one_time_state() {
    let s = setup("redirect").await;
    let request = Request::get(format!("/shopify/install?shop={SHOP}")).body(Body::empty()).unwrap();
    let (status, headers, _) = send(lastmile_fn_shopify::app(s.app.clone()), request).await;
    assert_eq!(status, StatusCode::FOUND);
    let location = headers[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with(&format!("https://{SHOP}/admin/oauth/authorize?client_id={API_KEY}&")), "{location}");
    assert!(location.contains("scope=read_orders%2Cwrite_shipping"), "{location}");
    assert!(location.contains("redirect_uri=https%3A%2F%2Flastmile.test%2Fshopify%2Fcallback"), "{location}");
    let state = location.split("state=").nth(1).unwrap();
    assert_eq!(state.len(), 32, "128 random bits in hex");
    assert!(state.bytes().all(|b| b.is_ascii_hexdigit()));
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with(&format!("lastmile_shopify_state={state}.")), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/shopify", "Max-Age=600"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    // The stand-in serves the authorize page the redirect points at (on its own host in this test).
    let path = location.split_once(SHOP).unwrap().1;
    let page = ureq_get(&format!("{}{path}", s.shopify_url)).await;
    assert_eq!(page, "authorize");
    // Two installs, two states.
    let (other, _) = install(&s, SHOP).await;
    assert_ne!(other, state);
}

async fn ureq_get(url: &str) -> String {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        // A plain GET over loopback, without pulling an HTTP client into the test's dependencies.
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').unwrap();
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_callback_creates_the_tenant_keeps_the_token_sealed_and_registers_webhooks_and_carrier_service() {
    let s = setup("good").await;
    let (status, body) = complete_install(&s, SHOP).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("installed on my-shop.myshopify.com"), "{body}");
    assert_eq!(*s.shopify.exchanges.lock().unwrap(), 1);
    assert!(s.shopify.refused.lock().unwrap().is_empty(), "{:?}", s.shopify.refused.lock().unwrap());

    // The tenant: named after the shop, enabled, with the shop's domain.
    let tenant = s.app.registry.tenant_by_shop(SHOP).expect("a tenant for the shop");
    assert_eq!(tenant.id, "my-shop");
    assert!(tenant.enabled);

    // The token: stored sealed, not in clear, and it opens to what Shopify issued.
    let issued: Vec<String> = s.shopify.tokens.lock().unwrap().keys().cloned().collect();
    let item = s.app.table.get(&Key::new("my-shop#installation", "shopify")).await.unwrap().expect("installation");
    let stored = serde_json::to_string(&item.attributes).unwrap();
    assert!(!stored.contains(&issued[0]) && !stored.contains("shpat_"), "{stored}");
    assert_eq!(item.attributes["status"], "active");
    assert_eq!(item.attributes["scopes"], "read_orders,write_shipping");
    let sealed: Sealed = serde_json::from_value(item.attributes["token"].clone()).unwrap();
    let opened = s.app.sealer.open(&sealed, "my-shop/installation/shopify").unwrap();
    assert_eq!(String::from_utf8(opened).unwrap(), issued[0]);

    // Registered in the shop: four webhooks and the CarrierService, at this deployment's URLs.
    let webhooks = s.shopify.webhooks.lock().unwrap().clone();
    let mut topics: Vec<(&str, &str)> = webhooks.iter().map(|(_, t, u)| (t.as_str(), u.as_str())).collect();
    topics.sort();
    assert_eq!(
        topics,
        vec![
            ("APP_UNINSTALLED", "https://lastmile.test/webhooks/shopify/app"),
            ("ORDERS_CANCELLED", "https://lastmile.test/webhooks/shopify"),
            ("ORDERS_CREATE", "https://lastmile.test/webhooks/shopify"),
            ("ORDERS_UPDATED", "https://lastmile.test/webhooks/shopify"),
        ]
    );
    let carriers = s.shopify.carriers.lock().unwrap().clone();
    assert_eq!(carriers.len(), 1);
    let token = carriers[0].2.strip_prefix("https://lastmile.test/shopify/carrier-service/").expect("callback URL");
    let resolved = s.app.registry.resolve_scoped(token, KeyScope::CarrierService).expect("the URL's token works");
    assert_eq!(resolved.tenant.id, "my-shop");
    assert_eq!(item.attributes["carrier_service_id"], carriers[0].0.as_str());
    assert_eq!(item.attributes["webhooks"].as_object().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_signature_is_refused_before_anything_is_exchanged() {
    let s = setup("forged").await;
    let (state, cookie) = install(&s, SHOP).await;
    let code = s.shopify.code_for(SHOP);
    let app = || lastmile_fn_shopify::app(s.app.clone());
    // Signed with another secret.
    let (status, _, body) = send(app(), callback(SHOP, &code, &state, Some(&cookie), "not-the-secret")).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::UNAUTHORIZED, "bad_signature"), "{body}");
    // Signed, then a parameter changed.
    let request = callback(SHOP, &code, &state, Some(&cookie), SECRET);
    let tampered = request.uri().to_string().replace(&format!("code={code}"), "code=other");
    let (status, _, _) =
        send(app(), Request::get(tampered).header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // No hmac at all.
    let unsigned = format!("/shopify/callback?code={code}&shop={SHOP}&state={state}&timestamp=1");
    let (status, _, _) =
        send(app(), Request::get(unsigned).header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(*s.shopify.exchanges.lock().unwrap(), 0);
    // The state was not spent by the forgeries: the genuine callback still works, signed with the previous secret
    // of a rotation.
    let (status, _, body) = send(app(), callback(SHOP, &code, &state, Some(&cookie), "shpss_previous")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_missing_or_expired_state_is_refused() {
    let s = setup("state").await;
    let app = || lastmile_fn_shopify::app(s.app.clone());
    let (state, cookie) = install(&s, SHOP).await;
    // A state this browser was not given (and no such state was issued).
    let made_up = "0123456789abcdef0123456789abcdef";
    let (status, _, body) =
        send(app(), callback(SHOP, &s.shopify.code_for(SHOP), made_up, Some(&cookie), SECRET)).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "state_mismatch"), "{body}");
    // No cookie: another browser.
    let (status, _, body) = send(app(), callback(SHOP, &s.shopify.code_for(SHOP), &state, None, SECRET)).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "state_mismatch"), "{body}");
    // The state of another shop's install.
    let other = "other-shop.myshopify.com";
    let (status, _, body) =
        send(app(), callback(other, &s.shopify.code_for(other), &state, Some(&cookie), SECRET)).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "invalid_state"), "{body}");
    // Too late: the state is older than ten minutes.
    let (late_state, late_cookie) = install(&s, SHOP).await;
    s.clock.advance(SignedDuration::from_mins(11));
    let (status, _, body) =
        send(app(), callback(SHOP, &s.shopify.code_for(SHOP), &late_state, Some(&late_cookie), SECRET)).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "expired_state"), "{body}");
    assert_eq!(*s.shopify.exchanges.lock().unwrap(), 0);
    assert!(s.app.registry.tenant_by_shop(SHOP).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_that_is_not_a_shop_is_refused_on_both_routes() {
    let s = setup("domain").await;
    let app = || lastmile_fn_shopify::app(s.app.clone());
    let (state, cookie) = install(&s, SHOP).await;
    for bad in ["evil.com", "x.myshopify.com.evil.com", "x.myshopify.com%2Fadmin", ""] {
        let request = Request::get(format!("/shopify/install?shop={bad}")).body(Body::empty()).unwrap();
        let (status, headers, body) = send(app(), request).await;
        assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "invalid_shop"), "{bad}: {body}");
        assert!(!headers.contains_key(header::LOCATION));
        // Correctly signed, so only the domain is wrong.
        let (status, _, body) = send(app(), callback(bad, "code-x", &state, Some(&cookie), SECRET)).await;
        assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "invalid_shop"), "{bad}: {body}");
    }
    let (status, _, _) = send(app(), Request::get("/shopify/install").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(*s.shopify.exchanges.lock().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_a_used_callback_is_refused_without_a_second_exchange() {
    let s = setup("replay").await;
    let (state, cookie) = install(&s, SHOP).await;
    let code = s.shopify.code_for(SHOP);
    let app = || lastmile_fn_shopify::app(s.app.clone());
    let (status, _, body) = send(app(), callback(SHOP, &code, &state, Some(&cookie), SECRET)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(app(), callback(SHOP, &code, &state, Some(&cookie), SECRET)).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "invalid_state"), "{body}");
    assert_eq!(*s.shopify.exchanges.lock().unwrap(), 1, "no second token exchange");
    // And Shopify would refuse the code anyway: the stand-in takes each code once.
    let exchange = HttpTokenExchange {
        client_id: API_KEY.into(),
        client_secret: SECRET.into(),
        base: Some(s.shopify_url.clone()),
    };
    assert!(matches!(exchange.exchange(SHOP, &code).await, Err(ExchangeError::Refused(_))));
    // A fresh install with a used code: the state is new, the code is not.
    let (state, cookie) = install(&s, SHOP).await;
    let (status, _, body) = send(app(), callback(SHOP, &code, &state, Some(&cookie), SECRET)).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "code_refused"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uninstall_disables_the_tenant_at_once_and_a_reinstall_enables_it_again() {
    let s = setup("uninstall").await;
    let (status, body) = complete_install(&s, SHOP).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let registry = s.app.registry.clone();
    let (_, api_key) = registry.create_key("my-shop", "ci", "2026-12-04T00:00:00Z").await.unwrap();
    let carrier_url = s.shopify.carriers.lock().unwrap()[0].2.clone();
    let carrier_token = carrier_url.rsplit('/').next().unwrap().to_owned();
    let api = Router::new()
        .route("/v1/ping", get(|| async { "pong" }))
        .route_layer(axum::middleware::from_fn_with_state(registry.clone(), lastmile_platform::http::require_tenant));
    let ping = |key: &str| {
        Request::get("/v1/ping").header("authorization", format!("Bearer {key}")).body(Body::empty()).unwrap()
    };
    assert_eq!(send(api.clone(), ping(&api_key)).await.0, StatusCode::OK);
    let carrier = lastmile_fn_quote::carrier_service_router::<()>(registry.clone());
    let rate_request = |token: &str| {
        let body = json!({"rate": {"origin": {"country": "US", "postal_code": "07001"}, "destination": {"country": "US", "postal_code": "10001", "city": "New York", "address1": "1 Main St"}, "items": [{"grams": 500, "quantity": 1}], "currency": "USD"}});
        Request::post(format!("/shopify/carrier-service/{token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };

    // A bad signature changes nothing.
    let app = || lastmile_fn_shopify::app(s.app.clone());
    let (status, _, _) = send(app(), uninstalled_webhook(SHOP, "w-forged", "not-the-secret", Timestamp::now())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(registry.tenant("my-shop").unwrap().enabled);

    let (status, _, body) = send(app(), uninstalled_webhook(SHOP, "w-1", SECRET, Timestamp::now())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], "uninstalled");
    assert!(!registry.tenant("my-shop").unwrap().enabled);
    // API keys answer 403, the CarrierService URL no longer opens, a key-holding disabled tenant gets no rates.
    let (status, _, body) = send(api.clone(), ping(&api_key)).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::FORBIDDEN, "tenant_disabled"), "{body}");
    assert_eq!(send(carrier.clone(), rate_request(&carrier_token)).await.0, StatusCode::UNAUTHORIZED);
    let (_, spare) = registry.create_scoped_key("my-shop", "manual", "t", KeyScope::CarrierService).await.unwrap();
    let (status, _, body) = send(carrier.clone(), rate_request(&spare)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({"rates": []}));
    // The installation forgot the token Shopify revoked.
    let item = s.app.table.get(&Key::new("my-shop#installation", "shopify")).await.unwrap().unwrap();
    assert_eq!(item.attributes["status"], "uninstalled");
    assert!(item.attributes.get("token").is_none());
    // A redelivery is a duplicate.
    let (_, _, body) = send(app(), uninstalled_webhook(SHOP, "w-1", SECRET, Timestamp::now())).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], "duplicate");

    // Reinstall: enabled again, with a new CarrierService URL on the same carrier service and no duplicate webhook.
    s.clock.advance(SignedDuration::from_secs(5));
    let before_reinstall = s.clock_now();
    let (status, body) = complete_install(&s, SHOP).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(registry.tenant("my-shop").unwrap().enabled);
    assert_eq!(send(api.clone(), ping(&api_key)).await.0, StatusCode::OK);
    assert_eq!(s.shopify.webhooks.lock().unwrap().len(), 4, "existing subscriptions are reused");
    let carriers = s.shopify.carriers.lock().unwrap().clone();
    assert_eq!(carriers.len(), 1);
    assert_ne!(carriers[0].2, carrier_url, "the carrier service calls the new token");
    let new_token = carriers[0].2.rsplit('/').next().unwrap().to_owned();
    assert!(registry.resolve_scoped(&new_token, KeyScope::CarrierService).is_some());
    assert_eq!(registry.tenants().len(), 1, "the same tenant, not a new one");
    // A late delivery of an uninstall from before the reinstall changes nothing.
    let late = before_reinstall - SignedDuration::from_secs(60);
    let (_, _, body) = send(app(), uninstalled_webhook(SHOP, "w-0", SECRET, late)).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], "stale");
    assert!(registry.tenant("my-shop").unwrap().enabled);
    // Opened from the shop's admin with a signed query, the install link shows the app is installed.
    let mut params = vec![("shop".to_owned(), SHOP.to_owned()), ("timestamp".to_owned(), "1".to_owned())];
    params.push(("hmac".to_owned(), sign_query(&params, SECRET.as_bytes())));
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let request = Request::get(format!("/shopify/install?{}", query.join("&"))).body(Body::empty()).unwrap();
    let (status, _, body) = send(app(), request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("installed"));
    assert!(s.shopify.refused.lock().unwrap().is_empty(), "{:?}", s.shopify.refused.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_uninstall_webhook_checks_its_signature_topic_and_headers() {
    let s = setup("webhook").await;
    let app = || lastmile_fn_shopify::app(s.app.clone());
    let mut request = uninstalled_webhook(SHOP, "w-1", SECRET, Timestamp::now());
    request.headers_mut().remove("x-shopify-hmac-sha256");
    let (status, _, body) = send(app(), request).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::UNAUTHORIZED, "missing_signature"));
    let mut request = uninstalled_webhook(SHOP, "w-1", SECRET, Timestamp::now());
    request.headers_mut().insert("x-shopify-topic", "orders/create".parse().unwrap());
    let (status, _, _) = send(app(), request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut request = uninstalled_webhook(SHOP, "w-1", SECRET, Timestamp::now());
    request.headers_mut().remove("x-shopify-webhook-id");
    assert_eq!(send(app(), request).await.0, StatusCode::BAD_REQUEST);
    // A shop without a tenant: nothing to do, and no retries asked for.
    let (status, _, body) =
        send(app(), uninstalled_webhook("unknown.myshopify.com", "w-2", SECRET, Timestamp::now())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], "ignored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_apps_key_and_secret_the_routes_say_what_to_set() {
    let s = setup("unconfigured").await;
    let app = Arc::new(App { credentials: None, ..(*s.app).clone() });
    for request in [
        Request::get(format!("/shopify/install?shop={SHOP}")).body(Body::empty()).unwrap(),
        callback(SHOP, "code", "00", None, SECRET),
        uninstalled_webhook(SHOP, "w-1", SECRET, Timestamp::now()),
    ] {
        let (status, _, body) = send(lastmile_fn_shopify::app(app.clone()), request).await;
        assert_eq!(
            (status, error_code(&body).as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "shopify_app_not_configured")
        );
        assert!(body.contains("LASTMILE_SHOPIFY_API_KEY"), "{body}");
    }
}

impl Setup {
    fn clock_now(&self) -> Timestamp {
        use lastmile_platform::ports::clock::Clock;
        self.clock.now()
    }
}
