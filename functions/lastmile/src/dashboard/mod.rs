//! The dashboard: a login that exchanges an API key for a session cookie, the pages, and the tenant API under
//! `/dashboard/api` authenticated by that cookie instead of a key.
//!
//! A cookie is sent by the browser on its own, so every request it authenticates that is not a GET must prove
//! it comes from a dashboard page: the page's CSRF token (`X-CSRF-Token`, or the `csrf` field of a form) and a
//! same-origin `Origin`/`Sec-Fetch-Site`. The `/v1` API never reads the cookie: a key in a header cannot be
//! sent by another site, so it needs no token.
//!
//! Panels (issue 9's KPIs) add a section to [`page::dashboard`], a handler to [`page::JS`], and, if they need
//! a tenant route the dashboard does not reach yet, that router to `app::dashboard_api`.

pub mod claims;
pub mod invoices;
pub mod page;
pub mod returns;
pub mod session;
pub mod tracking;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lastmile_core::contract::ApiError;
use lastmile_platform::http::{ErrorResponse, RouteDoc, read_body};
use lastmile_platform::ports::table::TableStore;
use lastmile_platform::tenants::{KeyScope, TenantContext, TenantRegistry};
use serde::Deserialize;
use serde_json::json;

use session::{LOGIN_COOKIE, LOGIN_FORM_SECONDS, SESSION_COOKIE, SESSION_SECONDS, Session, SessionSecret};

/// Where the tenant API answers to a dashboard session.
pub const API_PREFIX: &str = "/dashboard/api";
pub const LOGIN_PATH: &str = "/dashboard/login";
/// A login form is a key and a token: anything longer is not one.
const MAX_FORM_BYTES: usize = 4 * 1024;
/// Failed logins allowed per client in [`FAILURE_WINDOW`]. Keys are 256-bit random, so this is not what keeps
/// them secret; it keeps a script from hammering the form.
const MAX_FAILURES: u32 = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The dashboard's state: the registry that resolves keys and re-checks sessions, the signing secret, the
/// sessions logged out before their expiry, and recent failed logins per client.
pub struct Dashboard {
    registry: Arc<TenantRegistry>,
    secret: SessionSecret,
    /// Session id → its expiry (unix seconds); kept until then, so a copied cookie dies with the logout.
    ended: Mutex<HashMap<String, i64>>,
    failures: Mutex<HashMap<String, (Instant, u32)>>,
    /// The store the tracking panels read (KPI roll-ups, alerts, experiments); without it the page has no panels.
    table: Option<Arc<dyn TableStore>>,
}

impl Dashboard {
    pub fn new(registry: Arc<TenantRegistry>, secret: SessionSecret) -> Arc<Self> {
        Arc::new(Self { registry, secret, ended: Mutex::default(), failures: Mutex::default(), table: None })
    }

    /// A dashboard whose page shows the tracking panels over `table`.
    pub fn with_table(registry: Arc<TenantRegistry>, secret: SessionSecret, table: Arc<dyn TableStore>) -> Arc<Self> {
        let dashboard =
            Self { registry, secret, ended: Mutex::default(), failures: Mutex::default(), table: Some(table) };
        Arc::new(dashboard)
    }

    /// The session of a request's cookie, if it is signed by this server, unexpired, not logged out, and its
    /// key and tenant still exist (revoking the key ends its sessions).
    async fn session(&self, headers: &HeaderMap) -> Option<(Session, TenantContext)> {
        let now = now();
        let session = cookies(headers, SESSION_COOKIE).find_map(|v| Session::decode(v, &self.secret, now))?;
        if lock(&self.ended).contains_key(&session.id) {
            return None;
        }
        self.registry.refresh().await;
        let key = self
            .registry
            .keys(&session.tenant)
            .into_iter()
            .find(|k| k.id == session.key_id && !k.revoked && k.scope == KeyScope::Api)?;
        let tenant = self.registry.tenant(&key.tenant)?;
        let context = TenantContext { tenant, key_id: key.id };
        Some((session, context))
    }

    fn end(&self, session: &Session) {
        let now = now();
        let mut ended = lock(&self.ended);
        ended.retain(|_, expires| *expires > now);
        ended.insert(session.id.clone(), session.expires);
    }

    /// Whether `client` has used up its failed logins.
    fn blocked(&self, client: &str) -> bool {
        lock(&self.failures)
            .get(client)
            .is_some_and(|(since, n)| since.elapsed() < FAILURE_WINDOW && *n >= MAX_FAILURES)
    }

    fn failed(&self, client: &str) {
        let mut failures = lock(&self.failures);
        failures.retain(|_, (since, _)| since.elapsed() < FAILURE_WINDOW);
        let entry = failures.entry(client.to_owned()).or_insert((Instant::now(), 0));
        entry.1 += 1;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The values of the cookies called `name` (a browser may send two of one name; each is tried).
fn cookies<'h>(headers: &'h HeaderMap, name: &'h str) -> impl Iterator<Item = &'h str> + 'h {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(move |pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// Whether a browser says the request comes from another site: `Sec-Fetch-Site` other than `same-origin`, or
/// an `Origin` whose host is not the one the request was sent to. Clients that send neither are not browsers
/// acting for someone else; the CSRF token still applies to them.
fn cross_site(headers: &HeaderMap) -> bool {
    if header_str(headers, "sec-fetch-site").is_some_and(|site| site != "same-origin") {
        return true;
    }
    let Some(origin) = header_str(headers, header::ORIGIN.as_str()) else {
        return false;
    };
    let host = header_str(headers, "x-forwarded-host").or_else(|| header_str(headers, header::HOST.as_str()));
    let origin_host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    !matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Whether the browser reached this server over HTTPS (directly or through a proxy that says so).
fn over_https(request: &Request) -> bool {
    request.uri().scheme_str() == Some("https")
        || header_str(request.headers(), "x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

fn cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; HttpOnly; SameSite=Strict; Path={path}; Max-Age={max_age}{secure}");
    // Values are URL-safe base64 and ids: always a valid header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("lastmile_invalid=; Max-Age=0"))
}

/// The client a failed login is counted against: the peer address when the server knows it.
fn client(request: &Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |ConnectInfo(addr)| addr.ip().to_string())
}

fn forbidden(code: &'static str, message: &str) -> Response {
    ErrorResponse(ApiError::new(403, code, message)).into_response()
}

/// The dashboard's routes: pages, assets, login and logout, and `api` (tenant routes that expect a
/// [`TenantContext`]) under [`API_PREFIX`] behind the session.
pub fn router(dashboard: Arc<Dashboard>, api: Router) -> Router {
    let pages = Router::new()
        .route("/", get(home))
        .route(LOGIN_PATH, get(login_form).post(login))
        .route("/dashboard/logout", post(logout))
        .route(
            "/dashboard/app.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], page::JS) }),
        )
        .route("/dashboard/app.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], page::CSS) }))
        .with_state(dashboard.clone());
    let api = api.route_layer(middleware::from_fn_with_state(dashboard, require_session));
    pages.nest(API_PREFIX, api).layer(middleware::map_response(security_headers))
}

/// What every dashboard answer carries: no framing, no caching, no referrer beyond the site, no inline script.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Middleware of the session's API: the session's tenant as a [`TenantContext`], or 401; for anything but a
/// GET, a same-origin request with the session's CSRF token, or 403; then the tenant's rate limit.
async fn require_session(State(dashboard): State<Arc<Dashboard>>, mut request: Request, next: Next) -> Response {
    let Some((session, context)) = dashboard.session(request.headers()).await else {
        return ErrorResponse(ApiError::new(
            401,
            "session_required",
            format!("no dashboard session, or it ended: log in at {LOGIN_PATH}"),
        ))
        .into_response();
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        if cross_site(request.headers()) {
            return forbidden("cross_site_request", "requests from another site cannot use the dashboard session");
        }
        let sent = header_str(request.headers(), "x-csrf-token").unwrap_or_default();
        if !session::constant_time_eq(sent.as_bytes(), session.csrf_token(&dashboard.secret).as_bytes()) {
            return forbidden("csrf_token_invalid", "X-CSRF-Token is missing or is not this session's");
        }
    }
    tracing::Span::current().record("tenant", context.tenant.id.as_str());
    if let Err(wait) = dashboard.registry.admit(&context.tenant) {
        let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        let mut response = ErrorResponse(ApiError::new(
            429,
            "rate_limited",
            format!("this tenant's request limit is reached: retry in {seconds} s"),
        ))
        .into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return response;
    }
    request.extensions_mut().insert(context);
    next.run(request).await
}

/// `GET /[?from=YYYY-MM-DD&to=YYYY-MM-DD]`: the dashboard of the session's tenant with its tracking panels for
/// the range (the last 30 days without one), or the login form for anyone else.
async fn home(
    State(dashboard): State<Arc<Dashboard>>,
    headers: HeaderMap,
    params: Result<
        axum::extract::Query<std::collections::BTreeMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    let Some((session, context)) = dashboard.session(&headers).await else {
        return Redirect::to(LOGIN_PATH).into_response();
    };
    let csrf = session.csrf_token(&dashboard.secret);
    let panels = match &dashboard.table {
        Some(table) => {
            let params = params.map(|q| q.0).unwrap_or_default();
            let now = jiff::Timestamp::now();
            let loaded = match tracking::load(table.as_ref(), &context.tenant, &params, now).await {
                Ok(panels) => claims::load(table.as_ref(), &context.tenant).await.map(|c| (panels, c)),
                Err(e) => Err(e),
            };
            let loaded = match loaded {
                Ok(both) => returns::load(table.as_ref(), &context.tenant.id).await.map(|r| (both, r)),
                Err(e) => Err(e),
            };
            match loaded {
                Ok(((panels, claimed), returned)) => {
                    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
                    tracking::render(&panels)
                        + &claims::render(&claimed, today)
                        + &returns::render(&returned)
                        + &invoices::section(table.as_ref(), &context.tenant).await
                }
                Err(e) => {
                    tracing::error!(error = %e, "dashboard panels");
                    r#"<section class="wide"><p class="problem" role="alert">The store did not answer: reload to try again.</p></section>"#.to_owned()
                }
            }
        }
        None => String::new(),
    };
    Html(page::dashboard(&context.tenant.id, &context.tenant.name, &csrf, &panels)).into_response()
}

/// A login form with a new nonce in its cookie and the nonce's token in the form.
fn login_page(dashboard: &Dashboard, status: StatusCode, problem: Option<&str>, secure: bool) -> Response {
    let Ok(nonce) = session::random_token() else {
        return ErrorResponse(ApiError::new(503, "unavailable", "no random bytes for a login form; retry"))
            .into_response();
    };
    let token = session::login_token(&dashboard.secret, &nonce);
    let mut response = (status, Html(page::login(&token, problem))).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie(LOGIN_COOKIE, &nonce, LOGIN_PATH, LOGIN_FORM_SECONDS, secure));
    response
}

async fn login_form(State(dashboard): State<Arc<Dashboard>>, request: Request) -> Response {
    if dashboard.session(request.headers()).await.is_some() {
        return Redirect::to("/").into_response();
    }
    login_page(&dashboard, StatusCode::OK, None, over_https(&request))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Reads a small urlencoded form; anything else is a 4xx with the JSON error body.
async fn form<T: serde::de::DeserializeOwned>(request: Request) -> Result<T, Response> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, MAX_FORM_BYTES).await.map_err(|e| ErrorResponse(e).into_response())?;
    let mut request = Request::new(Body::from(bytes));
    *request.method_mut() = Method::POST;
    request.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    axum::Form::<T>::from_request(request, &()).await.map(|axum::Form(value)| value).map_err(|e| {
        ErrorResponse(ApiError::new(400, "invalid_form", format!("the form could not be read: {e}"))).into_response()
    })
}

/// `POST /dashboard/login`: a key of the API scope for a session cookie and a redirect to the dashboard.
async fn login(State(dashboard): State<Arc<Dashboard>>, request: Request) -> Response {
    let secure = over_https(&request);
    let client = client(&request);
    if dashboard.blocked(&client) {
        let mut response = login_page(
            &dashboard,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed logins: wait a few minutes."),
            secure,
        );
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(FAILURE_WINDOW.as_secs()));
        return response;
    }
    let nonce = cookies(request.headers(), LOGIN_COOKIE).next().map(str::to_owned);
    if cross_site(request.headers()) {
        return login_page(&dashboard, StatusCode::FORBIDDEN, Some("This form came from another site."), secure);
    }
    let form: LoginForm = match form(request).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let expected = nonce.map(|n| session::login_token(&dashboard.secret, &n));
    if !expected.is_some_and(|t| session::constant_time_eq(t.as_bytes(), form.csrf.as_bytes())) {
        return login_page(&dashboard, StatusCode::FORBIDDEN, Some("The form expired: please log in again."), secure);
    }
    let Some(context) = dashboard.registry.resolve_current(form.key.trim(), KeyScope::Api).await else {
        dashboard.failed(&client);
        tracing::info!("dashboard login refused");
        return login_page(&dashboard, StatusCode::UNAUTHORIZED, Some("That key was not accepted."), secure);
    };
    let session = match Session::new(&context.tenant.id, &context.key_id, now()) {
        Ok(session) => session,
        Err(e) => return ErrorResponse(ApiError::new(503, "unavailable", e.to_string())).into_response(),
    };
    tracing::info!(tenant = %context.tenant.id, key = %context.key_id, "dashboard login");
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookie(SESSION_COOKIE, &session.encode(&dashboard.secret), "/", SESSION_SECONDS, secure),
    );
    headers.append(header::SET_COOKIE, cookie(LOGIN_COOKIE, "", LOGIN_PATH, 0, secure));
    response
}

/// `POST /dashboard/logout`: ends the session (its token is refused from now on, not only forgotten by this
/// browser) and clears the cookie.
async fn logout(State(dashboard): State<Arc<Dashboard>>, request: Request) -> Response {
    let secure = over_https(&request);
    if let Some((session, _)) = dashboard.session(request.headers()).await {
        if cross_site(request.headers()) {
            return forbidden("cross_site_request", "requests from another site cannot use the dashboard session");
        }
        let form: CsrfForm = match form(request).await {
            Ok(form) => form,
            Err(response) => return response,
        };
        if !session::constant_time_eq(form.csrf.as_bytes(), session.csrf_token(&dashboard.secret).as_bytes()) {
            return forbidden("csrf_token_invalid", "the form's token is missing or is not this session's");
        }
        dashboard.end(&session);
    }
    let mut response = Redirect::to(LOGIN_PATH).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie(SESSION_COOKIE, "", "/", 0, secure));
    response
}

/// The documentation of the dashboard's own routes (the API under [`API_PREFIX`] is documented from the
/// routers it serves, in the OpenAPI document).
pub fn routes() -> Vec<RouteDoc> {
    let html = |description: &str| json!({"description": description, "content": {"text/html": {"schema": {"type": "string"}}}});
    let see_other = |to: &str| json!({"description": format!("See other: {to}"), "headers": {"Location": {"schema": {"type": "string"}}}});
    let forbidden = json!({"description": "The form's token is missing or wrong, or the request came from another site", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let asset = |kind: &str| json!({"description": "The asset", "content": {kind: {"schema": {"type": "string"}}}});
    vec![
        RouteDoc {
            method: "get",
            path: "/",
            authenticated: false,
            operation: json!({
                "operationId": "dashboard",
                "summary": "Dashboard (HTML) of the session's tenant",
                "responses": {"200": html("The dashboard page"), "303": see_other(LOGIN_PATH)}
            }),
        },
        RouteDoc {
            method: "get",
            path: LOGIN_PATH,
            authenticated: false,
            operation: json!({
                "operationId": "dashboardLoginForm",
                "summary": "The login form (API key); sets a short-lived cookie its token is checked against",
                "responses": {"200": html("The form"), "303": see_other("/ (already logged in)")}
            }),
        },
        RouteDoc {
            method: "post",
            path: LOGIN_PATH,
            authenticated: false,
            operation: json!({
                "operationId": "dashboardLogin",
                "summary": "Exchanges an API key for a session cookie (HttpOnly, SameSite=Strict, 12 h)",
                "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["key", "csrf"], "properties": {"key": {"type": "string"}, "csrf": {"type": "string"}}}}}},
                "responses": {
                    "303": see_other("/ with Set-Cookie lastmile_session"),
                    "401": html("The key was not accepted; the form again"),
                    "403": html("The form's token is missing or wrong, or it came from another site; the form again"),
                    "429": html("Too many failed logins from this client")
                }
            }),
        },
        RouteDoc {
            method: "post",
            path: "/dashboard/logout",
            authenticated: false,
            operation: json!({
                "operationId": "dashboardLogout",
                "summary": "Ends the session and clears its cookie",
                "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["csrf"], "properties": {"csrf": {"type": "string"}}}}}},
                "responses": {"303": see_other(LOGIN_PATH), "403": forbidden}
            }),
        },
        RouteDoc {
            method: "get",
            path: "/dashboard/app.js",
            authenticated: false,
            operation: json!({"operationId": "dashboardScript", "summary": "The dashboard's script", "responses": {"200": asset("text/javascript")}}),
        },
        RouteDoc {
            method: "get",
            path: "/dashboard/app.css",
            authenticated: false,
            operation: json!({"operationId": "dashboardStyles", "summary": "The dashboard's styles", "responses": {"200": asset("text/css")}}),
        },
    ]
}
