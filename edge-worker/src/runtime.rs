//! The Workers runtime glue: reads the request and the bindings, asks [`crate::service`], writes the answer.

use worker::wasm_bindgen::JsValue;
use worker::{Context, Env, Headers, Method, Request, Response, event, js_sys};

use lastmile_core::address::refdata::{POSTCODE_COUNTRIES, install_postcodes, take_missing_postcodes};

use crate::service::{self, ASSETS_BINDING, CORS_HEADERS, RATE_LIMITER_BINDING, Reply, Route, Settings};

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let correlation_id = header(&request, "x-correlation-id");
    let reply = handle(request, &env).await;
    respond(reply, correlation_id)
}

async fn handle(mut request: Request, env: &Env) -> Reply {
    let method = request.method();
    let route = match service::route(method_name(&method), &request.path()) {
        Ok(route) => route,
        Err(reply) => return reply,
    };
    match route {
        Route::Preflight => return service::preflight(),
        Route::Health => return service::health(),
        Route::Validate | Route::ValidateBatch => {}
    }
    let settings = Settings::new(
        text_binding(env, "SHOPIFY_API_SECRET"),
        text_binding(env, "SHOPIFY_API_KEY"),
        text_binding(env, "SHOPIFY_SHOP_ALLOWLIST"),
    );
    let now = (worker::Date::now().as_millis() / 1000) as i64;
    let shop = match service::authorize(&settings, header(&request, "authorization").as_deref(), now) {
        Ok(shop) => shop,
        Err(reply) => return reply,
    };
    // The binding exists on Cloudflare; a local runtime without it serves unlimited.
    if binding(env, RATE_LIMITER_BINDING).is_object()
        && let Ok(limiter) = env.rate_limiter(RATE_LIMITER_BINDING)
    {
        let key = service::rate_limit_key(shop.as_deref(), header(&request, "cf-connecting-ip").as_deref());
        if limiter.limit(key).await.is_ok_and(|outcome| !outcome.success) {
            return service::rate_limited();
        }
    }
    if let Err(reply) = service::check_declared_length(route, header(&request, "content-length").as_deref()) {
        return reply;
    }
    let Ok(body) = request.bytes().await else {
        return service::unreadable_body();
    };
    // The engine notes the postcode tables it asked for and did not have: install them and answer again. Each
    // table loads once per isolate, so this loops only on the first requests for a country.
    for _ in 0..=POSTCODE_COUNTRIES.len() {
        let reply = service::answer(route, &body);
        let missing = take_missing_postcodes();
        if missing.is_empty() {
            return reply;
        }
        for country in missing {
            if let Err(e) = install_postcode_asset(env, country).await {
                worker::console_error!("postcode table {country}: {e}");
                return service::reference_data_unavailable(country);
            }
        }
    }
    service::reference_data_unavailable("all")
}

/// Fetches a country's postcode table from the static assets and installs it.
async fn install_postcode_asset(env: &Env, country: &str) -> worker::Result<()> {
    let assets = env.assets(ASSETS_BINDING)?;
    let mut response = assets.fetch(format!("https://assets.local/postcodes/{country}.txt"), None).await?;
    if response.status_code() != 200 {
        return Err(worker::Error::RustError(format!("asset answered {}", response.status_code())));
    }
    let text = response.text().await?;
    if install_postcodes(country, &text) {
        Ok(())
    } else {
        Err(worker::Error::RustError("the asset is not a postcode table".into()))
    }
}

/// A binding as a plain value, or `undefined`. Read this way rather than through `Env`'s typed getters, which
/// throw (and so abort the request) on a binding that is present but `null`.
fn binding(env: &Env, name: &str) -> JsValue {
    js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// A secret or a var: both are strings.
fn text_binding(env: &Env, name: &str) -> Option<String> {
    binding(env, name).as_string()
}

fn method_name(method: &Method) -> &str {
    method.as_ref()
}

fn header(request: &Request, name: &str) -> Option<String> {
    request.headers().get(name).ok().flatten()
}

fn respond(reply: Reply, correlation_id: Option<String>) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in CORS_HEADERS {
        headers.set(name, value)?;
    }
    if !reply.body.is_empty() {
        headers.set("content-type", "application/json")?;
    }
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    if let Some(id) = correlation_id {
        headers.set("x-correlation-id", &id)?;
    }
    let response = if reply.body.is_empty() { Response::empty()? } else { Response::ok(reply.body)? };
    Ok(response.with_status(reply.status).with_headers(headers))
}
