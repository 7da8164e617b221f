//! Tenant isolation and the dashboard's session over the whole application router (`Router::oneshot`), on a
//! data directory with two tenants: `a` and `b`, each with an API key, `b` with a configuration of its own.
//! A's key, and A's dashboard session, never read or change B's orders, shipments, stock, lines, quotes or
//! keys; the session cookie cannot be forged or bent to another tenant; a cookie-authenticated request that
//! changes something needs the page's CSRF token and a same-origin request.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use lastmile::dashboard::session::{SESSION_COOKIE, Session, SessionSecret};
use lastmile::dev::prepare;
use lastmile_platform::config::{TenantConfig, Warehouse};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::{shipments, stock};
use lastmile_platform::tenants::TenantRegistry;
use serde_json::{Value, json};
use tower::ServiceExt;

struct App {
    router: Router,
    registry: Arc<TenantRegistry>,
    table: Arc<EmbeddedTable>,
    dir: std::path::PathBuf,
    key_a: String,
    key_a_id: String,
    key_b: String,
    key_b_id: String,
    jobs: Option<lastmile::jobs::Jobs>,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// B ships only national ground, at a 20 % discount, and has a Los Angeles warehouse A does not have.
fn tenant_b() -> TenantConfig {
    let mut b = TenantConfig::sample("b");
    b.name = "Shop B".into();
    b.rating.lines = vec!["us-national-ground".into()];
    b.rating.discount_basis_points = 2000;
    b.warehouses.push(Warehouse {
        id: "b-la".into(),
        country: "US".into(),
        region: Some("CA".into()),
        postcode: "90012".into(),
        time_zone: "America/Los_Angeles".into(),
        cutoff: "15:00".into(),
        working_days: ["mon", "tue", "wed", "thu", "fri"].map(str::to_owned).to_vec(),
        shopify_location_ids: Vec::new(),
        origin_postcodes: Vec::new(),
    });
    b
}

async fn app(name: &str) -> App {
    let dir = std::env::temp_dir().join(format!("lastmile-isolation-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let prepared = prepare(&dir).await.expect("data dir");
    let registry = prepared.registry.clone();
    let mut a = TenantConfig::sample("a");
    a.name = "Shop A".into();
    registry.put_tenant(a).await.unwrap();
    registry.put_tenant(tenant_b()).await.unwrap();
    let (record_a, key_a) = registry.create_key("a", "test", "2026-12-04T00:00:00Z").await.unwrap();
    let (record_b, key_b) = registry.create_key("b", "test", "2026-12-04T00:00:00Z").await.unwrap();
    let jobs = Some(lastmile::jobs::start(&prepared));
    let table = prepared.table.clone();
    let router = lastmile::app::router(&prepared);
    App { router, registry, table, dir, key_a, key_a_id: record_a.id, key_b, key_b_id: record_b.id, jobs }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
    json: Value,
}

async fn send(app: &App, request: Request<Body>) -> Answer {
    let response = app.router.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, headers, text, json }
}

/// A request with an API key.
async fn call(app: &App, key: &str, method: &str, path: &str, body: Option<Value>) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    send(app, request).await
}

fn anchorage_order(id: u64) -> Value {
    json!({
        "id": id, "currency": "USD",
        "line_items": [{"sku": "PARKA-M", "quantity": 1, "grams": 1200, "price": "89.00"}],
        "shipping_address": {"name": "Sam Buyer", "address1": "1029 W 6th Ave", "city": "Anchorage", "province_code": "AK", "zip": "99501", "country_code": "US"}
    })
}

/// Creates an order with `key` and waits until the in-process router has decided it.
async fn routed_order(app: &App, key: &str, id: u64) -> Value {
    let created = call(app, key, "POST", "/v1/orders", Some(anchorage_order(id))).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = call(app, key, "GET", &format!("/v1/orders/{id}/routing"), None).await;
        if answer.status == StatusCode::OK && answer.json["status"] == "routed" {
            return answer.json;
        }
        assert!(Instant::now() < deadline, "order {id} not routed: {} {}", answer.status, answer.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn winner_line(routing: &Value) -> String {
    let choice = &routing["decision"]["shipments"][0]["choice"];
    choice["candidates"][choice["winner"].as_u64().unwrap() as usize]["line"].as_str().unwrap().to_owned()
}

fn candidate_lines(routing: &Value) -> Vec<String> {
    let candidates = routing["decision"]["shipments"][0]["choice"]["candidates"].as_array().unwrap();
    candidates.iter().map(|c| c["line"].as_str().unwrap().to_owned()).collect()
}

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

/// The value a response's `Set-Cookie` gives `name`.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    set_cookies(headers).iter().find_map(|c| Some(c.strip_prefix(&format!("{name}="))?.split(';').next()?.to_owned()))
}

/// The value of the page's first hidden `csrf` field.
fn form_token(html: &str) -> String {
    let start = html.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn form_post(path: &str, cookie: &str) -> axum::http::request::Builder {
    Request::post(path).header("content-type", "application/x-www-form-urlencoded").header("cookie", cookie)
}

/// Opens the login form and sends it with `key`; answers the login response.
async fn log_in(app: &App, key: &str) -> Answer {
    let form = send(app, Request::get("/dashboard/login").body(Body::empty()).unwrap()).await;
    assert_eq!(form.status, StatusCode::OK);
    let nonce = cookie_value(&form.headers, "lastmile_login").expect("the form's cookie");
    let body = format!("key={key}&csrf={}", form_token(&form.text));
    let request = form_post("/dashboard/login", &format!("lastmile_login={nonce}")).body(Body::from(body)).unwrap();
    send(app, request).await
}

/// A logged-in browser: its session cookie and the page's CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn browser(app: &App, key: &str) -> Browser {
    let login = log_in(app, key).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.text);
    let value = cookie_value(&login.headers, SESSION_COOKIE).expect("a session cookie");
    let cookie = format!("{SESSION_COOKIE}={value}");
    let page = send(app, Request::get("/").header("cookie", &cookie).body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    Browser { cookie, csrf: form_token(&page.text) }
}

/// A request of the dashboard's script: the session cookie, the page's token, same origin.
fn from_page(browser: &Browser, method: &str, path: &str, body: Option<Value>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("host", "dash.example")
        .header("origin", "http://dash.example")
        .header("sec-fetch-site", "same-origin")
        .header("cookie", &browser.cookie)
        .header("x-csrf-token", &browser.csrf)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap()
}

async fn line_enabled(app: &App, key: &str, line: &str) -> bool {
    let lines = call(app, key, "GET", "/v1/lines", None).await;
    assert_eq!(lines.status, StatusCode::OK, "{}", lines.text);
    lines.json["lines"].as_array().unwrap().iter().find(|l| l["line"] == line).expect("the line")["enabled"]
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn a_key_for_shop_a_cannot_read_or_change_shop_bs_orders_and_shipments() {
    let mut app = app("orders").await;
    let b_routing = routed_order(&app, &app.key_b, 9001).await;
    assert_eq!(winner_line(&b_routing), "us-national-ground", "B ships national ground only");
    assert!(candidate_lines(&b_routing).iter().all(|l| l == "us-national-ground"), "{b_routing}");
    let b_shipment = b_routing["decision"]["shipments"][0]["shipment_id"].as_str().unwrap().to_owned();

    // A asks for B's order by its id: there is no such order for A, and nothing of B's in the answer.
    let peek = call(&app, &app.key_a, "GET", "/v1/orders/9001/routing", None).await;
    assert_eq!((peek.status, peek.json["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_order")));
    assert!(peek.json.get("decision").is_none() && !peek.text.contains("national"), "{}", peek.text);

    // A cannot rate B's shipment nor record its outcome.
    let rate =
        call(&app, &app.key_a, "POST", &format!("/v1/shipments/{b_shipment}/rating"), Some(json!({"stars": 1}))).await;
    assert_eq!((rate.status, rate.json["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_shipment")));
    let outcome = call(
        &app,
        &app.key_a,
        "POST",
        &format!("/v1/shipments/{b_shipment}/outcome"),
        Some(json!({"delivered": false, "claim": true})),
    )
    .await;
    assert_eq!(outcome.status, StatusCode::NOT_FOUND, "{}", outcome.text);
    let stored = shipments::get(&TenantTable::new(&*app.table, "b"), &b_shipment).await.unwrap().expect("B's shipment");
    assert!(stored.value.rating.is_none() && stored.value.outcome.is_none(), "B's shipment unchanged");
    // B's own key can: the id was real.
    let rate =
        call(&app, &app.key_b, "POST", &format!("/v1/shipments/{b_shipment}/rating"), Some(json!({"stars": 5}))).await;
    assert_eq!(rate.status, StatusCode::OK, "{}", rate.text);

    // The same order id from A is A's own order, routed by A's configuration; B's stays as it was.
    let a_routing = routed_order(&app, &app.key_a, 9001).await;
    assert!(
        candidate_lines(&a_routing).iter().any(|l| l != "us-national-ground"),
        "A weighs its own lines: {:?}",
        candidate_lines(&a_routing)
    );
    let b_again = call(&app, &app.key_b, "GET", "/v1/orders/9001/routing", None).await;
    assert_eq!(b_again.json["decision"], b_routing["decision"]);
    app.jobs.take().unwrap().stop().await;
}

#[tokio::test]
async fn a_key_for_shop_a_changes_stock_and_lines_in_its_own_partition_only() {
    let app = app("writes").await;
    let set = call(&app, &app.key_a, "PUT", "/v1/stock/us-nj/PARKA-M", Some(json!({"available": 0}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let read = |tenant: &'static str| {
        let table = app.table.clone();
        async move { stock::get(&TenantTable::new(&*table, tenant), "us-nj", "PARKA-M").await.unwrap() }
    };
    assert_eq!(read("a").await.map(|s| s.value.available), Some(0));
    assert!(read("b").await.is_none(), "B's stock untouched");
    // B's warehouse is not A's: A cannot even name it.
    let foreign = call(&app, &app.key_a, "PUT", "/v1/stock/b-la/PARKA-M", Some(json!({"available": 5}))).await;
    assert_eq!(foreign.json["error"]["code"], "unknown_warehouse");
    assert!(stock::get(&TenantTable::new(&*app.table, "b"), "b-la", "PARKA-M").await.unwrap().is_none());

    let off = json!({"enabled": false, "reason": "A's hub closed"});
    assert_eq!(call(&app, &app.key_a, "PUT", "/v1/lines/us-national-ground", Some(off)).await.status, StatusCode::OK);
    assert!(!line_enabled(&app, &app.key_a, "us-national-ground").await);
    assert!(line_enabled(&app, &app.key_b, "us-national-ground").await, "B's line stays on");
}

#[tokio::test]
async fn quotes_use_the_callers_configuration() {
    let app = app("quotes").await;
    let to = json!({"country": "US", "postcode": "99501"});
    let quote = |key: String, from: &'static str| {
        let body = json!({"from": from, "to": to.clone(), "parcels": [{"weight": "2.3kg", "dims": "40x30x20cm"}], "ship_at": "2026-11-25T15:00:00Z"});
        let app = &app;
        async move { call(app, &key, "POST", "/v1/quote", Some(body)).await }
    };
    let a = quote(app.key_a.clone(), "us-nj").await;
    let b = quote(app.key_b.clone(), "us-nj").await;
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK), "{} {}", a.text, b.text);
    let lines = |q: &Answer| -> Vec<String> {
        q.json["rates"].as_array().unwrap().iter().map(|r| r["line"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(lines(&b), ["us-national-ground"], "B's lines only");
    assert!(lines(&a).len() > 1 && lines(&a).iter().any(|l| l == "us-alaska-regional"), "{:?}", lines(&a));
    let total = |q: &Answer| {
        q.json["rates"].as_array().unwrap().iter().find(|r| r["line"] == "us-national-ground").unwrap()["total_minor"]
            .as_i64()
            .unwrap()
    };
    assert!(total(&b) < total(&a), "B's discount, not A's price: {} vs {}", total(&b), total(&a));
    // B's warehouse quotes for B and is unknown to A.
    assert_eq!(quote(app.key_b.clone(), "b-la").await.status, StatusCode::OK);
    let foreign = quote(app.key_a.clone(), "b-la").await;
    assert!(foreign.status.is_client_error(), "{} {}", foreign.status, foreign.text);
}

#[tokio::test]
async fn keys_are_managed_only_from_the_command_line_and_a_tenants_list_holds_its_own_keys() {
    let app = app("keys").await;
    // `lastmile tenant key list a` lists `registry.keys("a")`.
    let a_keys: Vec<String> = app.registry.keys("a").into_iter().map(|k| k.id).collect();
    assert_eq!(a_keys, std::slice::from_ref(&app.key_a_id));
    assert!(!a_keys.contains(&app.key_b_id));
    // There is no HTTP route for keys or tenants: with A's key, nothing lists, creates or revokes one.
    for (method, path) in [
        ("GET", "/v1/keys".to_owned()),
        ("POST", "/v1/keys".to_owned()),
        ("DELETE", format!("/v1/keys/{}", app.key_b_id)),
        ("POST", format!("/v1/keys/{}/revoke", app.key_b_id)),
        ("GET", "/v1/tenants/b".to_owned()),
        ("DELETE", format!("/dashboard/api/v1/keys/{}", app.key_b_id)),
    ] {
        let answer = call(&app, &app.key_a, method, &path, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let doc = send(&app, Request::get("/openapi.json").body(Body::empty()).unwrap()).await;
    // No route manages keys or tenants (a carrier's webhook names its tenant in the path, as a segment value).
    let manages = |p: &str| p.split('/').any(|segment| matches!(segment, "keys" | "key" | "tenants" | "tenant"));
    assert!(doc.json["paths"].as_object().unwrap().keys().all(|p| !manages(p)));
    assert_eq!(
        call(
            &app,
            &app.key_b,
            "POST",
            "/v1/address/validate",
            Some(json!({"country": "US", "text": "1 main st, springfield il 62701"}))
        )
        .await
        .status,
        StatusCode::OK,
        "B's key still works"
    );
}

#[tokio::test]
async fn the_dashboard_needs_a_login_and_sets_a_strict_http_only_cookie() {
    let app = app("login").await;
    let anonymous = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers["location"], "/dashboard/login");
    assert!(!anonymous.text.contains("Address check"), "no app for anonymous users");
    assert_eq!(send(&app, Request::get("/health").body(Body::empty()).unwrap()).await.status, StatusCode::OK);

    let form = send(&app, Request::get("/dashboard/login").body(Body::empty()).unwrap()).await;
    assert!(form.text.contains(r#"name="csrf""#) && form.text.contains(r#"name="key""#), "the form carries a token");
    let login_cookie = set_cookies(&form.headers).into_iter().find(|c| c.starts_with("lastmile_login=")).unwrap();
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"), "{login_cookie}");
    for name in ["content-security-policy", "x-frame-options", "referrer-policy", "cache-control"] {
        assert!(form.headers.contains_key(name), "{name}");
    }

    let login = log_in(&app, &app.key_a).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(login.headers["location"], "/");
    let session = set_cookies(&login.headers).into_iter().find(|c| c.starts_with("lastmile_session=")).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/;", "Max-Age=43200"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(!session.contains("Secure"), "plain http on loopback");
    assert!(!session.contains(&app.key_a), "the cookie is not the key");

    let browser = browser(&app, &app.key_a).await;
    let page = send(&app, Request::get("/").header("cookie", &browser.cookie).body(Body::empty()).unwrap()).await;
    assert!(page.text.contains("Shop A <code>a</code>") && !page.text.contains("Shop B"));
    assert!(page.text.contains(r#"<section class="wide" id="returns">"#) && page.text.contains("No returns."));
    assert!(
        page.text.contains(r#"<form method="post" action="/dashboard/logout""#) && page.text.contains(&browser.csrf)
    );
    assert!(!page.text.contains("<script>") && page.text.contains(r#"<script src="/dashboard/app.js">"#));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["referrer-policy"], "same-origin");
    assert_eq!(page.headers["cache-control"], "no-store");
    let script = send(&app, Request::get("/dashboard/app.js").body(Body::empty()).unwrap()).await;
    assert!(script.text.contains("x-csrf-token") && script.text.contains("/dashboard/api"));

    // Behind a TLS proxy the cookie is Secure.
    let form = send(&app, Request::get("/dashboard/login").body(Body::empty()).unwrap()).await;
    let nonce = cookie_value(&form.headers, "lastmile_login").unwrap();
    let body = format!("key={}&csrf={}", app.key_a, form_token(&form.text));
    let request = form_post("/dashboard/login", &format!("lastmile_login={nonce}"))
        .header("x-forwarded-proto", "https")
        .body(Body::from(body))
        .unwrap();
    let secure = send(&app, request).await;
    assert!(set_cookies(&secure.headers).iter().any(|c| c.starts_with("lastmile_session=") && c.ends_with("; Secure")));
}

#[tokio::test]
async fn failed_logins_answer_the_form_again_without_saying_why_and_are_limited() {
    let app = app("failed-login").await;
    let wrong = log_in(&app, "lmk_0000000000000000000000000000000000000000000000000000000000000000").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text.contains(r#"name="key""#) && wrong.text.contains("not accepted"));
    assert!(cookie_value(&wrong.headers, SESSION_COOKIE).is_none());
    // A revoked key and a key of the carrier-service scope do not log in either.
    let (_, token) = app
        .registry
        .create_scoped_key("a", "shopify", "2026-12-04T00:00:00Z", lastmile_platform::tenants::KeyScope::CarrierService)
        .await
        .unwrap();
    assert_eq!(log_in(&app, &token).await.status, StatusCode::UNAUTHORIZED);
    // Without the form's token, or with a token for another form's cookie: refused before the key is looked at.
    let body = format!("key={}", app.key_a);
    let no_token = send(&app, form_post("/dashboard/login", "").body(Body::from(body)).unwrap()).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let first = send(&app, Request::get("/dashboard/login").body(Body::empty()).unwrap()).await;
    let second = send(&app, Request::get("/dashboard/login").body(Body::empty()).unwrap()).await;
    let body = format!("key={}&csrf={}", app.key_a, form_token(&first.text));
    let cookie = format!("lastmile_login={}", cookie_value(&second.headers, "lastmile_login").unwrap());
    let crossed = send(&app, form_post("/dashboard/login", &cookie).body(Body::from(body)).unwrap()).await;
    assert_eq!(crossed.status, StatusCode::FORBIDDEN);
    // A login form posted from another site.
    let body = format!("key={}&csrf={}", app.key_a, form_token(&second.text));
    let evil = form_post("/dashboard/login", &cookie)
        .header("origin", "https://evil.example")
        .header("host", "dash.example")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(send(&app, evil).await.status, StatusCode::FORBIDDEN);

    // Ten failures from one client, then even the right key waits.
    for _ in 0..8 {
        assert_eq!(log_in(&app, "lmk_wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    let limited = log_in(&app, &app.key_a).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.text);
    assert!(limited.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_session_for_shop_a_shows_a_and_cannot_act_as_b() {
    let mut app = app("session-isolation").await;
    let b_routing = routed_order(&app, &app.key_b, 9002).await;
    let b_shipment = b_routing["decision"]["shipments"][0]["shipment_id"].as_str().unwrap().to_owned();
    let a = browser(&app, &app.key_a).await;

    let mine = send(&app, from_page(&a, "GET", "/dashboard/api/v1/lines", None)).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    assert!(mine.json["lines"].as_array().unwrap().len() > 1, "A's lines, not B's one");
    let peek = send(&app, from_page(&a, "GET", "/dashboard/api/v1/orders/9002/routing", None)).await;
    assert_eq!(peek.json["error"]["code"], "unknown_order");
    let rate = send(
        &app,
        from_page(&a, "POST", &format!("/dashboard/api/v1/shipments/{b_shipment}/rating"), Some(json!({"stars": 1}))),
    )
    .await;
    assert_eq!(rate.json["error"]["code"], "unknown_shipment");
    let stored = shipments::get(&TenantTable::new(&*app.table, "b"), &b_shipment).await.unwrap().unwrap();
    assert!(stored.value.rating.is_none());
    let off =
        send(&app, from_page(&a, "PUT", "/dashboard/api/v1/lines/us-national-ground", Some(json!({"enabled": false}))))
            .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert!(line_enabled(&app, &app.key_b, "us-national-ground").await, "A's switch lands in A's partition");
    assert!(!line_enabled(&app, &app.key_a, "us-national-ground").await);

    // The address check panel works through the session, with no key in the page.
    let check = send(
        &app,
        from_page(
            &a,
            "POST",
            "/dashboard/api/v1/address/validate",
            Some(json!({"country": "US", "text": "1600 pennsylvania avenue northwest, washington dc 20500"})),
        ),
    )
    .await;
    assert_eq!((check.status, check.json["verdict"].as_str()), (StatusCode::OK, Some("valid")), "{}", check.text);

    // The session cookie does not open the key-authenticated API.
    let v1 = Request::get("/v1/lines").header("cookie", &a.cookie).body(Body::empty()).unwrap();
    assert_eq!(send(&app, v1).await.json["error"]["code"], "missing_api_key");
    app.jobs.take().unwrap().stop().await;
}

#[tokio::test]
async fn forged_tampered_and_ended_sessions_go_back_to_the_login() {
    let app = app("forged").await;
    let a = browser(&app, &app.key_a).await;
    let refused = |cookie: String| {
        let app = &app;
        async move {
            let page = send(app, Request::get("/").header("cookie", &cookie).body(Body::empty()).unwrap()).await;
            let api = send(
                app,
                Request::get("/dashboard/api/v1/lines").header("cookie", &cookie).body(Body::empty()).unwrap(),
            )
            .await;
            page.status == StatusCode::SEE_OTHER
                && page.headers["location"] == "/dashboard/login"
                && api.status == StatusCode::UNAUTHORIZED
                && api.json["error"]["code"] == "session_required"
        }
    };
    assert!(!refused(a.cookie.clone()).await, "the real cookie works");
    assert!(refused(format!("{SESSION_COOKIE}=forged")).await);
    assert!(refused(format!("{SESSION_COOKIE}=v1.a.{}.1.9999999999.x.sig", app.key_a_id)).await);
    // A's cookie with the tenant changed to B: the signature no longer holds.
    assert!(refused(a.cookie.replacen(".a.", ".b.", 1)).await);
    assert!(refused(format!("{}x", a.cookie)).await);

    // Even correctly signed, a session naming B with A's key is refused: the key must be one of B's.
    let secret = SessionSecret::load_or_create(&app.dir).unwrap();
    let now = jiff::Timestamp::now().as_second();
    let bent = Session::new("b", &app.key_a_id, now).unwrap().encode(&secret);
    assert!(refused(format!("{SESSION_COOKIE}={bent}")).await);
    let genuine_b = Session::new("b", &app.key_b_id, now).unwrap().encode(&secret);
    assert!(!refused(format!("{SESSION_COOKIE}={genuine_b}")).await, "the same secret signs B's real session");
    // Signed by another server's secret.
    let other = Session::new("a", &app.key_a_id, now).unwrap().encode(&SessionSecret::new([1; 32]));
    assert!(refused(format!("{SESSION_COOKIE}={other}")).await);

    // Logging out needs the page's token, then ends the session even for a copy of the cookie.
    let no_token = form_post("/dashboard/logout", &a.cookie).body(Body::from("csrf=nope")).unwrap();
    assert_eq!(send(&app, no_token).await.status, StatusCode::FORBIDDEN);
    assert!(!refused(a.cookie.clone()).await, "still logged in");
    let body = format!("csrf={}", a.csrf);
    let logout = send(&app, form_post("/dashboard/logout", &a.cookie).body(Body::from(body)).unwrap()).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert!(
        set_cookies(&logout.headers).iter().any(|c| c.starts_with("lastmile_session=;") && c.contains("Max-Age=0"))
    );
    assert!(refused(a.cookie.clone()).await, "the copied cookie is dead");

    // Revoking the key that logged in ends its sessions.
    let again = browser(&app, &app.key_a).await;
    app.registry.revoke_key(&app.key_a_id).await.unwrap();
    assert!(refused(again.cookie).await);
}

#[tokio::test]
async fn cookie_authenticated_changes_need_the_pages_token_and_the_same_origin() {
    let app = app("csrf").await;
    let a = browser(&app, &app.key_a).await;
    let path = "/dashboard/api/v1/lines/us-national-ground";
    let off = || Some(json!({"enabled": false, "reason": "forged"}));

    let mut no_token = from_page(&a, "PUT", path, off());
    no_token.headers_mut().remove("x-csrf-token");
    let answer = send(&app, no_token).await;
    assert_eq!(
        (answer.status, answer.json["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf_token_invalid"))
    );

    let mut wrong = from_page(&a, "PUT", path, off());
    wrong.headers_mut().insert("x-csrf-token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".parse().unwrap());
    assert_eq!(send(&app, wrong).await.status, StatusCode::FORBIDDEN);

    // Another session's token is not this one's.
    let other = browser(&app, &app.key_a).await;
    let mut borrowed = from_page(&a, "PUT", path, off());
    borrowed.headers_mut().insert("x-csrf-token", other.csrf.parse().unwrap());
    assert_eq!(send(&app, borrowed).await.status, StatusCode::FORBIDDEN);

    let mut evil = from_page(&a, "PUT", path, off());
    evil.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    evil.headers_mut().remove("sec-fetch-site");
    let answer = send(&app, evil).await;
    assert_eq!(
        (answer.status, answer.json["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("cross_site_request"))
    );

    let mut cross = from_page(&a, "PUT", path, off());
    cross.headers_mut().remove("origin");
    cross.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(send(&app, cross).await.status, StatusCode::FORBIDDEN);

    assert!(line_enabled(&app, &app.key_a, "us-national-ground").await, "nothing refused changed anything");

    let answer = send(&app, from_page(&a, "PUT", path, off())).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(!line_enabled(&app, &app.key_a, "us-national-ground").await, "the page's own request works");

    // A GET needs no token; an API key needs none either (a header another site cannot send).
    let mut read = from_page(&a, "GET", "/dashboard/api/v1/lines", None);
    read.headers_mut().remove("x-csrf-token");
    assert_eq!(send(&app, read).await.status, StatusCode::OK);
    let on = call(&app, &app.key_a, "PUT", "/v1/lines/us-national-ground", Some(json!({"enabled": true}))).await;
    assert_eq!(on.status, StatusCode::OK);
}
