//! `app/uninstalled`: the shop removed the app. Its tenant is disabled at once (API keys answer 403, checkout
//! gets no rates, no order is taken in or routed), its CarrierService tokens are revoked, and the installation
//! drops the access token Shopify has just revoked. A reinstall enables the tenant again.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use lastmile_core::contract::ApiError;
use lastmile_platform::http::{ErrorResponse, read_body};
use lastmile_platform::ports::table::{Condition, Item, Key, StoreError, TenantTable};
use lastmile_platform::shopify_webhook;
use lastmile_platform::tenants::KeyScope;
use serde_json::{Map, Value, json};

use crate::installation::{self, Status};
use crate::{App, store};

/// The payload is the shop object: a few kilobytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long a delivered webhook id is remembered: Shopify retries a failed delivery for 48 hours.
const DEDUP_SECONDS: i64 = 7 * 24 * 60 * 60;

/// `POST /webhooks/shopify/app`
pub async fn app_uninstalled(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_BODY_BYTES).await?;
        app.credentials()?;
        let delivery = shopify_webhook::check(&parts.headers, &bytes, &app.secrets(), &["app/uninstalled"])?;
        // The event id is the same for every subscription that delivers the event (one from the app's
        // configuration and one registered at install): it identifies the uninstall, the webhook id one delivery.
        let webhook_id = delivery.event()?;
        let triggered_at = delivery.triggered_at.and_then(|t| t.parse::<Timestamp>().ok());
        uninstall(&app, delivery.shop, webhook_id, triggered_at).await
    }
    .await;
    match outcome {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => ErrorResponse(e).into_response(),
    }
}

async fn uninstall(
    app: &App,
    shop: &str,
    webhook_id: &str,
    triggered_at: Option<Timestamp>,
) -> Result<Value, ApiError> {
    app.registry.refresh().await;
    let Some(tenant) = app.registry.tenant_by_shop(shop) else {
        // Nothing to disable; a 4xx would only make Shopify retry for two days.
        tracing::info!(shop = %shop, "app/uninstalled for a shop without a tenant");
        return Ok(json!({"status": "ignored"}));
    };
    let table = TenantTable::new(&*app.table, &tenant.id);
    let seen = Key::new("webhook-event", format!("app/uninstalled#{webhook_id}"));
    if table.get(&seen).await.map_err(store)?.is_some() {
        return Ok(json!({"status": "duplicate", "tenant": tenant.id}));
    }
    let now = app.clock.now();
    let current = installation::get(&table).await.map_err(store)?;
    // A late delivery of an uninstall that happened before the current install changes nothing.
    if let (Some(current), Some(triggered)) = (&current, triggered_at)
        && current.value.status == Status::Active
        && current.value.installed_at > triggered
    {
        tracing::info!(tenant = %tenant.id, "app/uninstalled from before the current install");
        return Ok(json!({"status": "stale", "tenant": tenant.id}));
    }
    if let Some(mut current) = current.filter(|c| c.value.status == Status::Active) {
        current.value.status = Status::Uninstalled;
        current.value.uninstalled_at = Some(now);
        current.value.token = None;
        current.value.carrier_service_id = None;
        current.value.webhooks.clear();
        match installation::put(&table, &current.value, Some(current.version)).await {
            // Another delivery or an install changed it meanwhile; disabling below is what matters.
            Ok(_) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(store(e)),
        }
    }
    let registry_error = |e: lastmile_platform::tenants::TenantError| {
        tracing::error!(error = %e, "tenant registry");
        ApiError::new(503, "store_unavailable", "the tenant registry did not answer; retry")
    };
    app.registry.set_enabled(&tenant.id, false).await.map_err(registry_error)?;
    for key in app.registry.keys(&tenant.id) {
        if key.scope == KeyScope::CarrierService && !key.revoked {
            app.registry.revoke_key(&key.id).await.map_err(registry_error)?;
        }
    }
    // Written last: a delivery that failed above is redone in full by Shopify's retry.
    let mut attributes = Map::new();
    attributes.insert("status".into(), json!("done"));
    let mark = Item::new(seen, attributes).expiring_at(now.as_second() + DEDUP_SECONDS);
    if let Err(e) = table.put(mark, Condition::Always).await {
        tracing::warn!(error = %e, "app/uninstalled done but not marked");
    }
    tracing::info!(tenant = %tenant.id, "uninstalled: tenant disabled");
    Ok(json!({"status": "uninstalled", "tenant": tenant.id}))
}
