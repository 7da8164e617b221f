//! Landed-cost goldens worked by hand from the rules they cite, on both sides of every dated change they
//! exercise. Amounts are minor units of the destination's currency. Rates and thresholds are those of
//! `shared/data/customs` (the tariff rows are its labelled sample); FX is its sample table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lastmile_core::duty::landed::{LandedCost, Payer};
use lastmile_core::duty::rules::{Rules, builtin_files};
use lastmile_core::duty::{Shipment, landed_cost};
use serde_json::{Value, json};

fn shipment(value: Value) -> Shipment {
    serde_json::from_value(value).expect("valid shipment")
}

fn cost(value: Value) -> LandedCost {
    landed_cost(Rules::builtin().expect("shipped rules"), &shipment(value)).expect("landed cost")
}

fn line(hs: &str, origin: &str, value: &str, quantity: u32) -> Value {
    json!({"description": "test goods", "hs_code": hs, "origin": origin, "unit_value": value, "quantity": quantity})
}

/// (duty, tax, fees, landed cost) in minor units.
fn figures(c: &LandedCost) -> (i64, i64, i64, i64) {
    (c.totals.duty.minor, c.totals.tax.minor, c.totals.fees.minor, c.totals.landed_cost.minor)
}

// --- EU: the €150 duty relief ends 2026-06-30; the €3 flat duty starts 2026-07-01 (Council Regulation (EU)
// 2026/382, Commission Delegated Regulation (EU) 2026/1022). DE VAT 19 %. No IOSS number: VAT at import.

#[test]
fn eu_120_euro_chair_on_the_last_day_of_the_duty_relief() {
    // Intrinsic value 120.00 ≤ 150.00 → no duty (Reg. 1186/2009 Art. 23, in force to 2026-06-30).
    // VAT base = 120.00 + 0 duty = 120.00; 19 % = 22.80. Landed 120.00 + 22.80 = 142.80.
    let c = cost(json!({"to": "DE", "from": "CN", "date": "2026-06-30", "incoterm": "DDP",
        "lines": [line("94016100", "CN", "120.00 EUR", 1)]}));
    assert_eq!(figures(&c), (0, 2280, 0, 14280));
    assert_eq!(c.regime.id, "duty_relief");
}

#[test]
fn eu_120_euro_chair_on_the_first_day_of_the_flat_duty() {
    // Intrinsic 120.00 ≤ 150.00 → €3 × 1 subheading (940161) = 3.00 instead of the tariff.
    // VAT base = 120.00 + 3.00 = 123.00; 19 % = 23.37. Landed 120.00 + 3.00 + 23.37 = 146.37.
    for date in ["2026-07-01", "2026-11-25"] {
        let c = cost(json!({"to": "DE", "from": "CN", "date": date, "incoterm": "DDP",
            "lines": [line("94016100", "CN", "120.00 EUR", 1)]}));
        assert_eq!(figures(&c), (300, 2337, 0, 14637), "{date}");
        assert_eq!(c.regime.id, "flat_duty");
        assert_eq!(c.taxes[0].collected, "border");
        assert_eq!(c.taxes[0].payer, Payer::Seller);
    }
}

#[test]
fn eu_flat_duty_counts_distinct_subheadings_not_units() {
    // 2 T-shirts (610910) at 10.00 + 1 drill (846721) at 80.00: intrinsic 100.00 → 2 subheadings × 3.00 = 6.00.
    // VAT (100.00 + 6.00) × 19 % = 20.14.
    let mixed = cost(json!({"to": "DE", "from": "CN", "date": "2026-11-25", "incoterm": "DDP", "lines": [
        line("61091000", "CN", "10.00 EUR", 2), line("84672100", "CN", "80.00 EUR", 1)]}));
    assert_eq!(figures(&mixed), (600, 2014, 0, 12614));
    // 5 T-shirts at 10.00: one subheading → 3.00; VAT (50.00 + 3.00) × 19 % = 10.07.
    let same = cost(json!({"to": "DE", "from": "CN", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("61091000", "CN", "10.00 EUR", 5)]}));
    assert_eq!(figures(&same), (300, 1007, 0, 6307));
}

#[test]
fn eu_ioss_number_moves_vat_to_checkout() {
    // Same chair with an IOSS number: VAT 23.37 is charged at checkout (Directive 2017/2455, from 2021-07-01);
    // the seller pays only the 3.00 duty at import.
    let c = cost(json!({"to": "DE", "from": "CN", "date": "2026-11-25", "incoterm": "DDP",
        "seller": {"ioss_number": "IM2760000001"}, "lines": [line("94016100", "CN", "120.00 EUR", 1)]}));
    assert_eq!(c.regime.id, "flat_duty+tax_at_sale");
    assert_eq!((c.totals.seller_pays.minor, c.totals.buyer_pays_at_checkout.minor), (300, 2337));
    assert_eq!(c.taxes[0].payer, Payer::BuyerAtCheckout);
}

#[test]
fn eu_cif_above_the_threshold_pays_the_tariff_on_goods_and_transport() {
    // T-shirts 2 × 100.00 + transport 30.00 → intrinsic 200.00 > 150.00 → tariff.
    // Customs value (CIF, UCC Art. 70-71) = 230.00; duty 12 % (TARIC 6109, sample) = 27.60.
    // VAT base 230.00 + 27.60 = 257.60; 19 % = 48.944 → 48.94. Landed 230.00 + 27.60 + 48.94 = 306.54.
    let c = cost(json!({"to": "DE", "from": "CN", "date": "2026-11-25", "incoterm": "DDP",
        "shipping": "30.00 EUR", "lines": [line("6109.10.00", "CN", "100.00 EUR", 2)]}));
    assert_eq!(figures(&c), (2760, 4894, 0, 30654));
    assert_eq!(c.totals.customs_value.minor, 23000);
}

#[test]
fn de_vat_follows_its_dated_rate_history() {
    // 2020-11-01: DE standard VAT was 16 % (1 July to 31 December 2020); the €22 exemption and the €150 duty
    // relief were in force. 100.00 → no duty, VAT 16.00. On 2021-01-01 the rate was 19 % again → 19.00.
    let on = |date: &str| {
        cost(json!({"to": "DE", "from": "CN", "date": date, "incoterm": "DDP",
            "lines": [line("94016100", "CN", "100.00 EUR", 1)]}))
    };
    assert_eq!(figures(&on("2020-11-01")), (0, 1600, 0, 11600));
    assert_eq!(figures(&on("2021-01-01")), (0, 1900, 0, 11900));
    // 20.00 ≤ 22.00 before 2021-07-01: no import VAT either.
    let small = cost(json!({"to": "DE", "from": "CN", "date": "2021-06-30", "incoterm": "DDP",
        "lines": [line("94016100", "CN", "20.00 EUR", 1)]}));
    assert_eq!(figures(&small), (0, 0, 0, 2000));
    assert_eq!(small.regime.id, "duty_relief+tax_relief");
}

// --- US: de minimis ($800) suspended for CN/HK from 2025-05-02 and for every country from 2025-08-29
// (EO 14256, EO 14324). FOB valuation. 19 CFR 159.3: whole-dollar values per rate, duty in cents.

#[test]
fn us_50_dollar_t_shirt_before_and_after_de_minimis_ends() {
    // 2025-08-28, origin VN: $50 ≤ $800 → released duty-free, no entry, no MPF.
    let before = cost(json!({"to": "US", "from": "DE", "date": "2025-08-28", "incoterm": "DDP",
        "lines": [line("610910", "VN", "50.00 USD", 1)]}));
    assert_eq!(figures(&before), (0, 0, 0, 5000));
    // 2025-08-29: duty 16.5 % × $50 = $8.25; informal-entry MPF FY2025 $2.62. Landed 50 + 8.25 + 2.62 = 60.87.
    let after = cost(json!({"to": "US", "from": "DE", "date": "2025-08-29", "incoterm": "DDP",
        "lines": [line("610910", "VN", "50.00 USD", 1)]}));
    assert_eq!(figures(&after), (825, 0, 262, 6087));
    assert_eq!(after.regime.id, "tariff");
}

#[test]
fn us_china_origin_lost_de_minimis_in_may_and_pays_section_301() {
    // 2025-06-01, origin CN: excluded from the relief row; general 16.5 % = 8.25 and Section 301 List 4A 7.5 %
    // = 3.75 → duty 12.00; MPF 2.62.
    let c = cost(json!({"to": "US", "from": "DE", "date": "2025-06-01", "incoterm": "DDP",
        "lines": [line("610910", "CN", "50.00 USD", 1)]}));
    assert_eq!(figures(&c), (1200, 0, 262, 6462));
    assert_eq!(c.duties.len(), 2);
    // The same parcel on 2025-05-01 was still within de minimis.
    let earlier = cost(json!({"to": "US", "from": "DE", "date": "2025-05-01", "incoterm": "DDP",
        "lines": [line("610910", "CN", "50.00 USD", 1)]}));
    assert_eq!(figures(&earlier), (0, 0, 0, 5000));
}

#[test]
fn us_values_round_to_whole_dollars_per_rate_and_duty_half_even() {
    // €38.27 at the sample rate 1 USD = 0.86 EUR (2026-06-01) → $44.50 exactly → whole dollars, 50 cents up →
    // $45; 16.5 % × 45 = 7.425 → half-even → $7.42. MPF: FY2026 amount carried ($2.69, marked uncertain).
    let c = cost(json!({"to": "US", "from": "DE", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("610910", "VN", "38.27 EUR", 1)]}));
    assert_eq!(c.totals.goods.minor, 4450);
    assert_eq!((c.totals.duty.minor, c.totals.fees.minor), (742, 269));
    assert_eq!(c.fx.len(), 1);
    assert!(c.warnings.iter().any(|w| w.contains("us-mpf-informal")));
    // Two lines at the same rate are one unit: $20.40 + $20.40 = $40.80 → $41; 16.5 % = 6.765 → $6.76.
    // (Per line it would be $20 + $20 → $6.60.)
    let grouped = cost(json!({"to": "US", "from": "DE", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("610910", "VN", "20.40 USD", 1), line("61091000", "TH", "20.40 USD", 1)]}));
    assert_eq!(grouped.totals.duty.minor, 676);
    assert_eq!(grouped.duties.len(), 1);
}

// --- Canada: CUSMA courier thresholds (CAD 150 duty / CAD 40 tax, shipped from US/MX), CAD 20 otherwise;
// FOB; value for tax = value for duty + duty; GST 5 % plus the provincial part of HST (ON 8 %).

#[test]
fn ca_fob_duty_then_gst_and_hst_on_value_plus_duty() {
    // From DE, origin CN, CAD 200 + CAD 30 transport: VFD (FOB) 200.00; duty 18 % = 36.00.
    // Value for tax 236.00: GST 5 % = 11.80, HST provincial 8 % = 18.88. Landed 200 + 30 + 36 + 30.68 = 296.68.
    let c = cost(json!({"to": "CA", "subdivision": "ON", "from": "DE", "date": "2026-11-25", "incoterm": "DDP",
        "shipping": "30.00 CAD", "lines": [line("610910", "CN", "200.00 CAD", 1)]}));
    assert_eq!(figures(&c), (3600, 3068, 0, 29668));
    assert_eq!(c.taxes.len(), 2);
}

#[test]
fn ca_cusma_origin_is_duty_free_and_courier_thresholds_depend_on_ship_from() {
    // From US, origin US, CAD 200 > 150: tariff 18 % replaced by CUSMA 0 % → duty 0; GST 10.00 + HST 16.00.
    let cusma = cost(json!({"to": "CA", "subdivision": "ON", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("610910", "US", "200.00 CAD", 1)]}));
    assert_eq!(figures(&cusma), (0, 2600, 0, 22600));
    assert_eq!(cusma.duties[0].basis, "CUSMA");
    // Origin CN shipped from US: no preference → 18 % = 36.00; taxes on 236.00 = 11.80 + 18.88.
    let non_originating = cost(json!({"to": "CA", "subdivision": "ON", "from": "US", "date": "2026-11-25",
        "incoterm": "DDP", "lines": [line("610910", "CN", "200.00 CAD", 1)]}));
    assert_eq!(figures(&non_originating), (3600, 3068, 0, 26668));
    // CAD 100 by courier from US: ≤ 150 → no duty; > 40 → GST 5.00 + HST 8.00.
    let courier = cost(json!({"to": "CA", "subdivision": "ON", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("610910", "CN", "100.00 CAD", 1)]}));
    assert_eq!(figures(&courier), (0, 1300, 0, 11300));
    // The same CAD 100 by post: only the CAD 20 postal threshold → 18 % = 18.00; tax on 118.00 = 5.90 + 9.44.
    let postal = cost(json!({"to": "CA", "subdivision": "ON", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "channel": "postal", "lines": [line("610910", "CN", "100.00 CAD", 1)]}));
    assert_eq!(figures(&postal), (1800, 1534, 0, 13334));
    // CAD 35 by courier from US: ≤ 40 → no duty and no tax.
    let tiny = cost(json!({"to": "CA", "subdivision": "ON", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("610910", "CN", "35.00 CAD", 1)]}));
    assert_eq!(figures(&tiny), (0, 0, 0, 3500));
}

// --- UK: £135 duty relief and VAT at the point of sale (from 2021-01-01); CIF; VAT 20 %.

#[test]
fn uk_low_value_vat_at_checkout_and_dap_postal_charges_above_it() {
    // £100 + £10 transport: no duty; VAT at sale 20 % × 110.00 = 22.00, paid by the buyer at checkout.
    let low = cost(json!({"to": "GB", "from": "DE", "date": "2026-11-25", "incoterm": "DDP",
        "shipping": "10.00 GBP", "seller": {"uk_vat_number": "GB123456789"},
        "lines": [line("610910", "CN", "100.00 GBP", 1)]}));
    assert_eq!(figures(&low), (0, 2200, 0, 13200));
    assert_eq!(low.totals.buyer_pays_at_checkout.minor, 2200);
    assert_eq!(low.regime.id, "duty_relief+tax_at_sale");
    // £200 + £10 by post, DAP: CIF 210.00; duty 12 % = 25.20; VAT 20 % × 235.20 = 47.04; Royal Mail £8.00.
    // The buyer pays 25.20 + 47.04 + 8.00 = 80.24 on delivery.
    let dap = cost(json!({"to": "GB", "from": "DE", "date": "2026-11-25", "incoterm": "DAP", "channel": "postal",
        "shipping": "10.00 GBP", "lines": [line("610910", "CN", "200.00 GBP", 1)]}));
    assert_eq!(figures(&dap), (2520, 4704, 800, 29024));
    assert_eq!((dap.totals.buyer_pays_on_delivery.minor, dap.totals.seller_pays.minor), (8024, 0));
}

// --- Australia: A$1,000 border threshold; GST at sale below it (from 2018-07-01); FOB duty; GST on VoTI.

#[test]
fn au_gst_at_sale_below_1000_and_at_the_border_above() {
    // A$500 + A$20 transport: no duty; GST at checkout 10 % × 520.00 = 52.00.
    let low = cost(json!({"to": "AU", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "shipping": "20.00 AUD", "seller": {"au_gst_id": "ARN 3000 0000 001"},
        "lines": [line("846721", "CN", "500.00 AUD", 1)]}));
    assert_eq!(figures(&low), (0, 5200, 0, 57200));
    // A$1,500 + A$40: duty 5 % × 1,500 (FOB) = 75.00; GST 10 % × (1,500 + 40 + 75) = 161.50; import
    // processing charge A$50.00. Landed 1,500 + 40 + 75 + 161.50 + 50 = 1,826.50.
    let high = cost(json!({"to": "AU", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "shipping": "40.00 AUD", "lines": [line("846721", "CN", "1500.00 AUD", 1)]}));
    assert_eq!(figures(&high), (7500, 16150, 5000, 182650));
}

// --- Japan: ¥10,000 exemption on the taxable value; CIF; value rounded down to ¥1,000, duty and tax down to
// ¥100 (Customs Law Art. 13-4 with the General Rules for National Taxes Art. 118-119).

#[test]
fn jp_rounds_down_to_the_thousand_and_the_hundred() {
    // ¥23,456 + ¥1,500 transport: CIF 24,956 → 24,000; 7.4 % = 1,776 → ¥1,700.
    // Consumption tax 10 % × (24,956 + 1,700) = 2,665.6 → ¥2,600.
    let c = cost(json!({"to": "JP", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "shipping": "1500 JPY", "lines": [line("610910", "CN", "23456 JPY", 1)]}));
    assert_eq!(figures(&c), (1700, 2600, 0, 23456 + 1500 + 1700 + 2600));
    // ¥9,000 + ¥1,000 = ¥10,000 taxable value: exempt from duty and tax.
    let exempt = cost(json!({"to": "JP", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "shipping": "1000 JPY", "lines": [line("610910", "CN", "9000 JPY", 1)]}));
    assert_eq!(figures(&exempt), (0, 0, 0, 10000));
}

// --- Rules are data: the same code answers differently when a copy of the rule files says otherwise.

#[test]
fn editing_a_copy_of_the_rules_changes_the_answer() {
    let mut files = builtin_files();
    for (name, text) in &mut files {
        if name == "territories/EU.toml" {
            *text = text.replace("amount = \"3.00\"", "amount = \"5.00\"");
        }
        if name == "vat_rates.csv" {
            *text = text.replace("DE,,VAT,standard,19,2021-01-01", "DE,,VAT,standard,21,2021-01-01");
        }
    }
    let borrowed: Vec<(String, &str)> = files.iter().map(|(n, t)| (n.clone(), t.as_str())).collect();
    let edited = Rules::from_files(&borrowed).expect("edited rules");
    let order = shipment(json!({"to": "DE", "from": "CN", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("94016100", "CN", "120.00 EUR", 1)]}));
    // €5 flat duty; VAT 21 % × 125.00 = 26.25.
    let c = landed_cost(&edited, &order).expect("landed cost");
    assert_eq!(figures(&c), (500, 2625, 0, 15125));
    let shipped = landed_cost(Rules::builtin().expect("shipped rules"), &order).expect("landed cost");
    assert_eq!(figures(&shipped), (300, 2337, 0, 14637));
}

#[test]
fn a_seller_tariff_row_wins_over_the_sample() {
    // The seller classifies 9401.61.00 at 5.6 % in the EU: €200 chair → duty 11.20, VAT 19 % × 211.20 = 40.13.
    let rules = Rules::builtin()
        .expect("shipped rules")
        .clone()
        .with_seller_tariff(
            "territory,hs,description,program,kind,rate,currency,effective_from,effective_to,source,confidence,note\n\
             EU,94016100,Upholstered wooden seats,,ad_valorem,5.6,,,,seller's broker ruling,certain,\n",
        )
        .expect("seller tariff");
    let order = shipment(json!({"to": "DE", "from": "CN", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("94016100", "CN", "200.00 EUR", 1)]}));
    let c = landed_cost(&rules, &order).expect("landed cost");
    assert_eq!(figures(&c), (1120, 4013, 0, 25133));
}

#[test]
fn unknown_inputs_are_422_with_the_field() {
    let rules = Rules::builtin().expect("shipped rules");
    let error = |value: Value| landed_cost(rules, &shipment(value)).expect_err("rejected");
    let e = error(json!({"to": "BR", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("610910", "CN", "10.00 USD", 1)]}));
    assert_eq!((e.status, e.code, e.field.as_deref()), (422, "unsupported_destination", Some("to")));
    let e = error(json!({"to": "DE", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("97019900", "CN", "900.00 EUR", 1)]}));
    assert_eq!((e.code, e.field.as_deref()), ("unknown_tariff", Some("lines[0].hs_code")));
    let e = error(json!({"to": "DE", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [line("610910", "CN", "900.00 BRL", 1)]}));
    assert_eq!((e.code, e.field.as_deref()), ("no_fx_rate", Some("lines[0].unit_value")));
    let e = error(json!({"to": "DE", "from": "US", "date": "2026-11-25", "incoterm": "DDP",
        "lines": [{"description": "x", "hs_code": "610910", "origin": "CN", "unit_value": "900.00 EUR", "quantity": 1,
                   "tax_class": "luxury"}]}));
    assert_eq!((e.code, e.field.as_deref()), ("unknown_tax_class", Some("lines[0].tax_class")));
}
