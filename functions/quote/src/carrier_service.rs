//! Shopify's CarrierService callback: Shopify posts the cart's origin, destination and items; lastmile answers
//! `{"rates":[{service_name, service_code, total_price, currency, min_delivery_date, max_delivery_date,
//! description}]}` with `total_price` in minor units as a string. Whatever cannot be quoted (a partial address,
//! an origin with no warehouse) answers 200 with no rates, so that checkout falls back to the shop's backup
//! rates instead of an error.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use lastmile_core::address::{AddressRequest, postcode};
use lastmile_core::contract;
use lastmile_core::rating::packing::Item;
use lastmile_platform::config::{TenantConfig, Warehouse};
use lastmile_platform::http::{ErrorResponse, read_body};
use lastmile_platform::tenants::{KeyScope, TenantRegistry};
use serde::{Deserialize, Serialize};

use lastmile_platform::quoting;

use crate::MAX_QUOTE_BODY_BYTES;

#[derive(Debug, Deserialize)]
pub struct RateRequest {
    pub rate: RateRequestBody,
}

#[derive(Debug, Deserialize)]
pub struct RateRequestBody {
    pub origin: ShopifyAddress,
    pub destination: ShopifyAddress,
    #[serde(default)]
    pub items: Vec<ShopifyItem>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
}

/// The address fields of a rate request that lastmile reads; Shopify sends more (phone, fax, email …).
#[derive(Debug, Default, Deserialize)]
pub struct ShopifyAddress {
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub province: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub address1: Option<String>,
    #[serde(default)]
    pub address2: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ShopifyItem {
    #[serde(default)]
    pub grams: u64,
    #[serde(default = "one")]
    pub quantity: u32,
    #[serde(default = "yes")]
    pub requires_shipping: bool,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RateResponse {
    pub rates: Vec<ShopifyRate>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShopifyRate {
    pub service_name: String,
    pub service_code: String,
    /// Minor units, as a string: `"1295"` is 12.95.
    pub total_price: String,
    pub currency: String,
    pub min_delivery_date: Option<String>,
    pub max_delivery_date: Option<String>,
    pub description: String,
}

/// The callback route over the tenant registry, whose carrier-service keys are the URL tokens.
pub fn carrier_service_router<S: Clone + Send + Sync + 'static>(registry: Arc<TenantRegistry>) -> Router<S> {
    Router::new().route("/shopify/carrier-service/{token}", post(callback)).with_state(registry)
}

async fn callback(
    State(registry): State<Arc<TenantRegistry>>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    let Some(context) = registry.resolve_current(&token, KeyScope::CarrierService).await else {
        return ErrorResponse(contract::ApiError::new(401, "unknown_token", "this carrier-service URL is not valid"))
            .into_response();
    };
    if !context.tenant.enabled {
        // The shop uninstalled the app: checkout falls back to the shop's own rates.
        return Json(RateResponse { rates: Vec::new() }).into_response();
    }
    let (parts, body): (_, Body) = request.into_parts();
    let request = match read_body(&parts.headers, body, MAX_QUOTE_BODY_BYTES).await {
        Ok(bytes) => contract::parse_json_body::<RateRequest>(&bytes, MAX_QUOTE_BODY_BYTES),
        Err(e) => Err(e),
    };
    match request {
        Ok(request) => Json(rates(&context.tenant, &request.rate, jiff::Timestamp::now())).into_response(),
        Err(e) => ErrorResponse(e).into_response(),
    }
}

/// Shopify's answer for a rate request at `now`: every line that can carry it, cheapest first.
pub fn rates(tenant: &TenantConfig, request: &RateRequestBody, now: jiff::Timestamp) -> RateResponse {
    let no_rates = RateResponse { rates: Vec::new() };
    let Some(warehouse) = origin_warehouse(tenant, &request.origin) else {
        tracing::warn!("rate request from an origin with no warehouse: no rates");
        return no_rates;
    };
    let items: Vec<Item> = request
        .items
        .iter()
        .filter(|i| i.requires_shipping)
        .map(|i| Item { grams: i.grams, dimensions: None, quantity: i.quantity })
        .collect();
    let destination = AddressRequest {
        country_code: request.destination.country.clone(),
        zip: request.destination.postal_code.clone(),
        province_code: request.destination.province.clone(),
        city: request.destination.city.clone(),
        address1: request.destination.address1.clone(),
        address2: request.destination.address2.clone(),
        company: request.destination.company_name.clone(),
        ..AddressRequest::default()
    };
    let answer = quoting::quote_items(tenant, warehouse, destination, &items, now);
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            tracing::info!(code = e.code, "rate request cannot be quoted: no rates");
            return no_rates;
        }
    };
    let zone = jiff::tz::TimeZone::get(&warehouse.time_zone).ok();
    let stamp = |date: jiff::civil::Date| {
        let zone = zone.clone()?;
        let zoned = date.at(0, 0, 0, 0).to_zoned(zone).ok()?;
        Some(zoned.strftime("%Y-%m-%d %H:%M:%S %z").to_string())
    };
    RateResponse {
        rates: answer
            .rates
            .rates
            .iter()
            .map(|rate| ShopifyRate {
                service_name: rate.quote.name.clone(),
                service_code: rate.quote.line.clone(),
                total_price: rate.quote.total_minor.to_string(),
                currency: rate.quote.currency.to_string(),
                min_delivery_date: rate.dates.as_ref().and_then(|d| stamp(d.min)),
                max_delivery_date: rate.dates.as_ref().and_then(|d| stamp(d.max)),
                description: rate.dates.as_ref().map_or_else(
                    || rate.quote.carrier.clone(),
                    |d| format!("{}: delivered {} to {}", rate.quote.carrier, d.min, d.max),
                ),
            })
            .collect(),
    }
}

/// The warehouse an origin means: one whose postcode or origin postcodes match, else the first in that country.
fn origin_warehouse<'t>(tenant: &'t TenantConfig, origin: &ShopifyAddress) -> Option<&'t Warehouse> {
    let country = origin.country.as_deref()?.to_ascii_uppercase();
    let code = origin.postal_code.as_deref().map(postcode::compact).unwrap_or_default();
    let in_country = || tenant.warehouses.iter().filter(|w| w.country == country);
    in_country()
        .find(|w| {
            !code.is_empty()
                && std::iter::once(&w.postcode).chain(&w.origin_postcodes).any(|p| postcode::compact(p) == code)
        })
        .or_else(|| in_country().next())
}
