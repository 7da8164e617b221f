//! Quoting, shared by the quote function and the router: from a tenant's configuration and a request to the core's quote: the warehouse, the destination as the
//! address engine reads it, the parcels, the handover time in the warehouse's time zone, and the lines.

use crate::config::{TenantConfig, Warehouse};
use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use lastmile_core::address::{self, AddressRequest, AddressResult, Tristate};
use lastmile_core::calendar::{CalendarId, holidays};
use lastmile_core::contract::ApiError;
use lastmile_core::duty::{self, rules::Rules};
use lastmile_core::money::Money;
use lastmile_core::rating::card::{LineKind, RateCard, builtin};
use lastmile_core::rating::engine::{Rates, quote_all};
use lastmile_core::rating::packing::{self, Item, MAX_UNITS};
use lastmile_core::rating::quote::{Destination, Parcel, Request};
use lastmile_core::rating::surcharge::Charge;
use lastmile_core::rating::transit::Handover;
use lastmile_core::rating::zone::Place;

/// A shipment to quote, however it was asked for.
pub struct Shipment<'a> {
    pub warehouse: &'a Warehouse,
    pub destination: AddressRequest,
    pub parcels: Vec<Parcel>,
    pub ship_at: Timestamp,
    pub declared_value: Option<i64>,
    pub options: Vec<String>,
    /// Line ids to restrict to, on top of the tenant's own list.
    pub lines: Vec<String>,
}

/// The answer: the destination as read, the parcels quoted, and every line's rate or exclusion.
#[derive(Debug, serde::Serialize)]
pub struct Answer {
    pub warehouse: String,
    pub destination: AddressResult,
    pub parcels: Vec<ParcelOut>,
    #[serde(flatten)]
    pub rates: Rates,
}

#[derive(Debug, serde::Serialize)]
pub struct ParcelOut {
    pub grams: u64,
    pub dimensions_mm: Option<[u32; 3]>,
}

/// The tenant's warehouse `id`, or its first one.
pub fn warehouse<'t>(tenant: &'t TenantConfig, id: Option<&str>) -> Result<&'t Warehouse, ApiError> {
    match id {
        Some(id) => tenant.warehouses.iter().find(|w| w.id == id).ok_or_else(|| {
            ApiError::new(422, "unknown_warehouse", format!("no warehouse {id:?} in this tenant's configuration"))
                .with_field("from")
        }),
        None => tenant.warehouses.first().ok_or_else(|| {
            ApiError::new(422, "no_warehouse", "this tenant's configuration has no warehouse to ship from")
        }),
    }
}

/// Parcels from explicit parcels, or packed from items by the tenant's rule.
pub fn parcels(tenant: &TenantConfig, explicit: Vec<Parcel>, items: &[Item]) -> Result<Vec<Parcel>, ApiError> {
    if !explicit.is_empty() {
        return Ok(explicit);
    }
    let units: u64 = items.iter().map(|i| u64::from(i.quantity)).sum();
    if units > MAX_UNITS as u64 {
        return Err(ApiError::new(422, "too_many_items", format!("{units} item units: at most {MAX_UNITS}"))
            .with_field("items"));
    }
    let packed = packing::pack(items, &tenant.rating.packing);
    if packed.is_empty() {
        return Err(
            ApiError::new(422, "nothing_to_ship", "give parcels, or items with a quantity").with_field("parcels")
        );
    }
    Ok(packed)
}

/// Packs `items` by the tenant's rule and quotes them from `warehouse` on every line: how an order (from the
/// CarrierService callback or the router) is priced.
pub fn quote_items(
    tenant: &TenantConfig,
    warehouse: &Warehouse,
    destination: AddressRequest,
    items: &[Item],
    ship_at: Timestamp,
) -> Result<Answer, ApiError> {
    let parcels = parcels(tenant, Vec::new(), items)?;
    let lines = Vec::new();
    quote(
        tenant,
        Shipment { warehouse, destination, parcels, ship_at, declared_value: None, options: Vec::new(), lines },
    )
}

pub fn quote(tenant: &TenantConfig, shipment: Shipment<'_>) -> Result<Answer, ApiError> {
    let warehouse = shipment.warehouse;
    let destination = address::validate(&shipment.destination).map_err(|e| prefix_field(e, "to"))?;
    let postcode = destination.standardized.postcode.clone().ok_or_else(|| {
        ApiError::new(422, "destination_postcode_needed", "the destination has no postcode to find a zone by")
            .with_field("to.postcode")
    })?;
    let region = destination.standardized.region_code.as_deref().map(|code| code.rsplit('-').next().unwrap_or(code));
    let residential = match destination.flags.residential.value {
        Tristate::Yes => Some(true),
        Tristate::No => Some(false),
        Tristate::Unknown => None,
    };
    let zone = TimeZone::get(&warehouse.time_zone).map_err(|e| {
        ApiError::new(
            422,
            "bad_time_zone",
            format!("warehouse {}: time zone {:?}: {e}", warehouse.id, warehouse.time_zone),
        )
    })?;
    let cutoff: Time = warehouse.cutoff.parse().map_err(|e| {
        ApiError::new(422, "bad_cutoff", format!("warehouse {}: cut-off {:?}: {e}", warehouse.id, warehouse.cutoff))
    })?;
    let working_weekdays: Vec<u8> = warehouse.working_days.iter().filter_map(|d| weekday_number(d)).collect();
    let handover = Handover {
        local: shipment.ship_at.to_zoned(zone).datetime(),
        cutoff,
        working_weekdays: &working_weekdays,
        calendar: CalendarId::new(&warehouse.country, warehouse.region.as_deref()),
    };
    let request = Request {
        origin: Place { country: &warehouse.country, postcode: &warehouse.postcode },
        destination: Destination {
            country: &destination.country,
            postcode: &postcode,
            region,
            residential,
            remote_area: destination.flags.remote_area.is_some(),
            po_box: destination.flags.po_box,
            military: destination.flags.military,
        },
        parcels: &shipment.parcels,
        ship_date: handover.local.date(),
        declared_value: shipment.declared_value,
        options: &shipment.options,
        discount_basis_points: tenant.rating.discount_basis_points,
    };
    let wanted = |card: &&RateCard| {
        (tenant.rating.lines.is_empty() || tenant.rating.lines.contains(&card.id))
            && (shipment.lines.is_empty() || shipment.lines.contains(&card.id))
    };
    let cards = builtin().iter().filter_map(|c| c.as_ref().ok()).filter(wanted);
    let destination_calendar = CalendarId::new(&destination.country, region);
    let rates = quote_all(cards, &request, &handover, &destination_calendar, holidays());
    let parcels = shipment
        .parcels
        .iter()
        .map(|p| ParcelOut {
            grams: p.grams,
            dimensions_mm: p.dimensions.map(|d| [d.length_mm, d.width_mm, d.height_mm]),
        })
        .collect();
    Ok(Answer { warehouse: warehouse.id.clone(), destination, parcels, rates })
}

fn weekday_number(day: &str) -> Option<u8> {
    let position =
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().position(|d| day.eq_ignore_ascii_case(d))?;
    Some(position as u8 + 1)
}

fn prefix_field(mut e: ApiError, prefix: &str) -> ApiError {
    e.field = Some(e.field.map_or_else(|| prefix.to_owned(), |f| format!("{prefix}.{f}")));
    e
}

/// What is in the parcels, as customs needs it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomsRequest {
    pub lines: Vec<duty::Line>,
    #[serde(default)]
    pub insurance: Option<duty::Amount>,
    /// The seller's customs identifiers (EORI, IOSS, UK VAT number …).
    #[serde(default)]
    pub seller: duty::Party,
}

/// Works out the landed cost of every cross-border rate (origin and destination in different customs
/// territories), with the rate's own price as the transport cost. Under DDP the duty, import tax and fees,
/// converted into the rate's currency, become lines of its breakdown and part of its total.
pub fn add_landed_costs(
    answer: &mut Answer,
    rules: &Rules,
    customs: &CustomsRequest,
    warehouse: &Warehouse,
    ship_at: Timestamp,
    incoterm: duty::Incoterm,
) -> Result<(), ApiError> {
    let to = answer.destination.country.to_string();
    let crosses_border = match (rules.territory(&warehouse.country), rules.territory(&to)) {
        (Some(from), Some(into)) => from.id != into.id,
        (_, None) => false,
        (None, Some(_)) => true,
    };
    if !crosses_border || customs.lines.is_empty() {
        return Ok(());
    }
    let date = TimeZone::get(&warehouse.time_zone)
        .map_or_else(|_| ship_at.to_zoned(TimeZone::UTC).date(), |tz| ship_at.to_zoned(tz).date());
    let subdivision = answer
        .destination
        .standardized
        .region_code
        .as_deref()
        .map(|code| code.rsplit('-').next().unwrap_or(code).to_owned());
    for rate in &mut answer.rates.rates {
        let quote = &mut rate.quote;
        let shipment = duty::Shipment {
            to: to.clone(),
            subdivision: subdivision.clone(),
            from: warehouse.country.clone(),
            date,
            incoterm,
            channel: if postal(&quote.line) { duty::Channel::Postal } else { duty::Channel::Courier },
            carrier: Some(quote.carrier.clone()),
            lines: customs.lines.clone(),
            shipping: Some(duty::Amount(Money::new(quote.total_minor, quote.currency))),
            insurance: customs.insurance,
            seller: customs.seller.clone(),
            buyer: duty::Party::default(),
            reason_for_export: None,
            reference: None,
        };
        let cost = duty::landed_cost(rules, &shipment).map_err(|e| prefix_field(e, "customs"))?;
        if incoterm == duty::Incoterm::Ddp {
            let in_rate_currency = |money: Money| -> Result<i64, ApiError> {
                if money.currency == quote.currency {
                    return Ok(money.minor);
                }
                let (value, _) =
                    rules.fx.convert(money.to_decimal(), money.currency, quote.currency, date).ok_or_else(|| {
                        ApiError::new(
                            422,
                            "no_fx_rate",
                            format!("no FX rate {} → {} on or before {date}", money.currency, quote.currency),
                        )
                        .with_field("customs")
                    })?;
                Ok(Money::from_decimal(value, quote.currency).minor)
            };
            let charges = [
                ("duty", cost.totals.duty, "duty"),
                ("import_tax", cost.totals.tax, "import VAT/GST"),
                ("customs_fees", cost.totals.fees, "customs fees"),
            ];
            for (code, money, what) in charges {
                if money.minor == 0 {
                    continue;
                }
                let minor = in_rate_currency(money)?;
                quote.total_minor += minor;
                quote.breakdown.push(Charge {
                    code: code.to_owned(),
                    minor,
                    explanation: format!("{what} {money} paid by the seller under DDP ({})", cost.regime.summary),
                });
            }
        }
        rate.landed_cost = Some(Box::new(cost));
    }
    // Prices changed under DDP: cheapest first again.
    answer.rates.rates.sort_by_key(|r| r.quote.total_minor);
    Ok(())
}

/// Whether a line is a postal one, whose parcels clear customs under the postal thresholds.
fn postal(line: &str) -> bool {
    builtin().iter().flatten().any(|card| card.id == line && card.kind == LineKind::Postal)
}
