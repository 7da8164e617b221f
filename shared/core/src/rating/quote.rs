//! One line's price for a shipment: billable weight, zone, base price, minimum, surcharges, account discount
//! and insurance, as a breakdown whose lines add up to the total; or why the line cannot carry it.

use jiff::civil::Date;
use serde::Serialize;

use super::card::{LineKind, RateCard};
use super::price::apply_minimum;
use super::surcharge::{self, Charge, Shipment};
use super::weight::Billable;
use super::zone::Place;
use crate::address::postcode;
use crate::money::{Currency, percent_of};
use crate::units::Dimensions;

/// One parcel (or pallet, on a freight line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parcel {
    pub grams: u64,
    pub dimensions: Option<Dimensions>,
}

/// Where it goes, as the address engine saw it.
#[derive(Debug, Clone, Default)]
pub struct Destination<'a> {
    pub country: &'a str,
    pub postcode: &'a str,
    /// ISO 3166-2 suffix (`AK`, `ON`), when known.
    pub region: Option<&'a str>,
    pub residential: Option<bool>,
    pub remote_area: bool,
    pub po_box: bool,
    pub military: bool,
}

/// Everything a quote depends on besides the card.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub origin: Place<'a>,
    pub destination: Destination<'a>,
    pub parcels: &'a [Parcel],
    pub ship_date: Date,
    /// Declared value for insurance, in the card's currency.
    pub declared_value: Option<i64>,
    pub options: &'a [String],
    /// The seller's account discount on base prices, in basis points.
    pub discount_basis_points: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineQuote {
    pub line: String,
    pub name: String,
    pub carrier: String,
    pub card_version: String,
    pub illustrative: bool,
    pub currency: Currency,
    pub total_minor: i64,
    pub zone: String,
    pub billable: Vec<Billable>,
    /// Lines that add up to `total_minor`.
    pub breakdown: Vec<Charge>,
}

/// A line that cannot carry the shipment, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Excluded {
    pub line: String,
    pub reason: String,
}

/// Prices `request` on `card`.
pub fn quote(card: &RateCard, request: &Request<'_>) -> Result<LineQuote, Excluded> {
    let exclude = |reason: String| Excluded { line: card.id.clone(), reason };
    let destination = &request.destination;
    if !card.origin_countries.iter().any(|c| c == request.origin.country) {
        return Err(exclude(format!("does not ship from {}", request.origin.country)));
    }
    if !card.destination_countries.iter().any(|c| c == destination.country) {
        return Err(exclude(format!("does not deliver to {}", destination.country)));
    }
    if !card.destination_regions.is_empty()
        && !destination.region.is_some_and(|r| card.destination_regions.iter().any(|served| served == r))
    {
        return Err(exclude(format!(
            "delivers only to {} ({} given)",
            card.destination_regions.join(", "),
            destination.region.unwrap_or("no region")
        )));
    }
    if card.kind != LineKind::Postal && (destination.po_box || destination.military) {
        let what = if destination.military { "military (APO/FPO/DPO)" } else { "PO box" };
        return Err(exclude(format!("a {what} address needs a postal line")));
    }
    if request.parcels.is_empty() {
        return Err(exclude("no parcels to quote".into()));
    }
    for (i, parcel) in request.parcels.iter().enumerate() {
        check_limits(card, parcel).map_err(|reason| exclude(format!("parcel {}: {reason}", i + 1)))?;
    }
    let zone = card
        .zones
        .zone(request.origin, Place { country: destination.country, postcode: destination.postcode })
        .map_err(|e| exclude(e.to_string()))?;

    let compact_postcode = postcode::compact(destination.postcode);
    let mut breakdown = Vec::new();
    let mut billables = Vec::new();
    let pallets = if card.kind == LineKind::Freight { request.parcels.len() as u32 } else { 1 };
    // Freight prices the pallets together; parcels are priced one by one.
    let priced: Vec<&Parcel> =
        if card.kind == LineKind::Freight { vec![&request.parcels[0]] } else { request.parcels.iter().collect() };
    for parcel in priced {
        let billable = card.weight.billable(parcel.grams, parcel.dimensions);
        let base = card.price.base_price(&zone.zone, billable.billable, pallets).map_err(|e| exclude(e.to_string()))?;
        let base = apply_minimum(base, card.minimum_charge);
        let shipment = Shipment {
            ship_date: request.ship_date,
            actual_grams: parcel.grams,
            dimensions: parcel.dimensions,
            residential: destination.residential,
            remote_area: destination.remote_area,
            postcode: &compact_postcode,
            options: request.options,
        };
        let surcharges = surcharge::apply(&card.surcharges, base.minor, &shipment);
        let discount = percent_of(base.minor, request.discount_basis_points);
        let base_minor = base.minor;
        breakdown.push(Charge { code: "base".into(), minor: base.minor, explanation: base.explanation });
        if discount != 0 {
            breakdown.push(Charge {
                code: "discount".into(),
                minor: -discount,
                explanation: format!(
                    "account discount {}.{:02} % of the base price {base_minor}",
                    request.discount_basis_points / 100,
                    request.discount_basis_points % 100,
                ),
            });
        }
        breakdown.extend(surcharges);
        billables.push(billable);
    }
    if let Some(value) = request.declared_value.filter(|v| *v > 0) {
        breakdown.push(insurance(card, value).map_err(exclude)?);
    }
    Ok(LineQuote {
        line: card.id.clone(),
        name: card.name.clone(),
        carrier: card.carrier.clone(),
        card_version: card.version.clone(),
        illustrative: card.illustrative,
        currency: card.currency,
        total_minor: breakdown.iter().map(|c| c.minor).sum(),
        zone: zone.zone,
        billable: billables,
        breakdown,
    })
}

fn check_limits(card: &RateCard, parcel: &Parcel) -> Result<(), String> {
    let limits = &card.limits;
    if let Some(max) = limits.max_weight_g.filter(|max| parcel.grams > *max) {
        return Err(format!("{} g is over the line's {max} g", parcel.grams));
    }
    let Some(sides) = parcel.dimensions.map(Dimensions::sorted_desc) else { return Ok(()) };
    if let Some(max) = limits.max_length_mm.filter(|max| sides[0] > *max) {
        return Err(format!("longest side {} mm is over the line's {max} mm", sides[0]));
    }
    if let Some(max) = limits.max_sides_mm
        && sides.iter().zip(max).any(|(side, max)| *side > max)
    {
        return Err(format!(
            "{}×{}×{} mm does not fit the line's {}×{}×{} mm",
            sides[0], sides[1], sides[2], max[0], max[1], max[2]
        ));
    }
    let length_plus_girth = sides[0] + 2 * (sides[1] + sides[2]);
    if let Some(max) = limits.max_length_plus_girth_mm.filter(|max| length_plus_girth > *max) {
        return Err(format!("length + girth {length_plus_girth} mm is over the line's {max} mm"));
    }
    Ok(())
}

fn insurance(card: &RateCard, declared: i64) -> Result<Charge, String> {
    let Some(cover) = &card.insurance else {
        return Err("the line offers no declared-value cover".into());
    };
    if let Some(max) = cover.max_declared.filter(|max| declared > *max) {
        return Err(format!("declared value {declared} is over the line's cover limit {max}"));
    }
    let above = (declared - cover.included).max(0);
    let per = cover.per.max(1);
    // Every started step counts: `above` is never negative.
    let steps = (above + per - 1) / per;
    let minor = if steps == 0 { 0 } else { (steps * cover.rate).max(cover.minimum) };
    Ok(Charge {
        code: "insurance".into(),
        minor,
        explanation: format!(
            "declared {declared}: {steps} × {} per started {} above the included {} (minimum {})",
            cover.rate, cover.per, cover.included, cover.minimum
        ),
    })
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    const CARD: &str = r#"
id = "test-ground"
name = "Test Ground"
carrier = "Example"
kind = "courier"
currency = "USD"
version = "2026-11-01"
illustrative = true
source = "test card"
origin_countries = ["US"]
destination_countries = ["US"]

[weight]
unit = "lb"
divisor = 139
dimension_rounding = "nearest"
increment = 1000

[limits]
max_weight_g = 68039
max_length_plus_girth_mm = 4191

[zones]
method = "flat"
zone = "1"

[price]
model = "brackets"
brackets = [
  { up_to = 5000, zones = { "1" = 1000 } },
  { up_to = 20000, zones = { "1" = 2000 } },
]

[[surcharges]]
code = "residential"
when = { if = "residential" }
amounts = [{ from = "2026-01-01", minor = 500 }]

[insurance]
included = 10000
per = 10000
rate = 105
minimum = 315
"#;

    fn request<'a>(parcels: &'a [Parcel], destination: Destination<'a>) -> Request<'a> {
        Request {
            origin: Place { country: "US", postcode: "07001" },
            destination,
            parcels,
            ship_date: date(2026, 11, 25),
            declared_value: None,
            options: &[],
            discount_basis_points: 0,
        }
    }

    fn home() -> Destination<'static> {
        Destination {
            country: "US",
            postcode: "99501",
            region: Some("AK"),
            residential: Some(true),
            ..Default::default()
        }
    }

    #[test]
    fn the_breakdown_adds_up_and_explains_itself() {
        let card = RateCard::from_toml(CARD).unwrap();
        let parcel =
            [Parcel { grams: 2300, dimensions: Some(Dimensions { length_mm: 400, width_mm: 300, height_mm: 200 }) }];
        // Billable 12 lb (volumetric 1536 in³ / 139 = 11.051 lb → 12; see weight.rs) → bracket up to 20 lb: 20.00;
        // residential 5.00. Total 25.00.
        let q = quote(&card, &request(&parcel, home())).unwrap();
        assert_eq!(q.billable[0].billable, 12_000);
        assert_eq!(
            q.breakdown.iter().map(|c| (c.code.as_str(), c.minor)).collect::<Vec<_>>(),
            [("base", 2000), ("residential", 500)]
        );
        assert_eq!(q.total_minor, 2500);
        // A 15 % discount on the base: −3.00. Declared $250: 2 started $100 steps above $100 × 1.05 = 2.10 →
        // minimum 3.15. Total 20.00 − 3.00 + 5.00 + 3.15 = 25.15.
        let mut discounted = request(&parcel, home());
        discounted.discount_basis_points = 1500;
        discounted.declared_value = Some(25_000);
        let q = quote(&card, &discounted).unwrap();
        assert_eq!(
            q.breakdown.iter().map(|c| (c.code.as_str(), c.minor)).collect::<Vec<_>>(),
            [("base", 2000), ("discount", -300), ("residential", 500), ("insurance", 315)]
        );
        assert_eq!(q.total_minor, 2515);
    }

    #[test]
    fn exclusions_say_why() {
        let card = RateCard::from_toml(CARD).unwrap();
        let heavy = [Parcel { grams: 70_000, dimensions: None }];
        assert!(quote(&card, &request(&heavy, home())).unwrap_err().reason.contains("over the line's 68039 g"));
        let long =
            [Parcel { grams: 1000, dimensions: Some(Dimensions { length_mm: 2000, width_mm: 600, height_mm: 600 }) }];
        // 2000 + 2 × (600 + 600) = 4400 mm > 4191 mm (165 in)
        assert!(quote(&card, &request(&long, home())).unwrap_err().reason.contains("length + girth 4400 mm"));
        let light = [Parcel { grams: 1000, dimensions: None }];
        let po_box = Destination { po_box: true, ..home() };
        assert!(
            quote(&card, &request(&light, po_box)).unwrap_err().reason.contains("PO box address needs a postal line")
        );
        let canada = Destination { country: "CA", postcode: "K1A0B1", ..home() };
        assert!(quote(&card, &request(&light, canada)).unwrap_err().reason.contains("does not deliver to CA"));
    }

    #[test]
    fn cards_with_rules_out_of_order_are_refused() {
        let bad = CARD.replace("up_to = 20000", "up_to = 4000");
        assert!(matches!(RateCard::from_toml(&bad), Err(super::super::card::CardError::Rule { .. })));
        assert!(matches!(RateCard::from_toml("id = 1"), Err(super::super::card::CardError::Syntax(_))));
    }
}
