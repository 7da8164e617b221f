//! The commercial invoice customs and the carrier read: the same [`Shipment`] the landed cost and the pre-check
//! use, laid out as the document that travels with the parcel, and rendered as a printable HTML page.

use std::fmt::Write as _;

use jiff::civil::Date;
use serde::Serialize;

use super::order::{DangerousGoods, Incoterm, Party, Shipment, hs_digits};
use super::rules::{Rules, in_force};
use crate::contract::ApiError;
use crate::money::{Currency, Money};

/// The exporter's declaration printed above the signature.
pub const DECLARATION: &str = "I declare that the information on this invoice is true and correct, and that the \
                               contents and value of this shipment are as stated above.";

/// The reason for export when the shipment gives none.
const DEFAULT_REASON_FOR_EXPORT: &str = "sale";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invoice {
    pub number: String,
    pub date: Date,
    /// The seller's order reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub seller: Party,
    pub buyer: Party,
    /// Country the parcel leaves from and country it goes to, ISO 3166-1 alpha-2.
    pub ship_from: String,
    pub ship_to: String,
    pub incoterm: Incoterm,
    pub reason_for_export: String,
    pub currency: Currency,
    pub lines: Vec<InvoiceLine>,
    pub totals: InvoiceTotals,
    /// The seller's EORI and the tax-at-sale registration the destination uses (IOSS, UK VAT …).
    pub seller_identifiers: Vec<Identifier>,
    pub declaration: String,
    pub signature: Signature,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceLine {
    pub description: String,
    /// Digits only.
    pub hs_code: String,
    pub origin: String,
    pub quantity: u32,
    pub unit_value: Money,
    pub total_value: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_weight_g: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_weight_g: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dangerous_goods: Option<DangerousGoods>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceTotals {
    pub goods: Money,
    pub shipping: Money,
    pub insurance: Money,
    /// Goods + shipping + insurance.
    pub invoice_total: Money,
    /// Net weight of all lines; absent when a line has no weight, since a partial sum would understate it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_weight_g: Option<u64>,
}

/// A seller identifier as printed: `EORI`, `IOSS`, `UK VAT`, `ABN/ARN`, `VOEC`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identifier {
    pub scheme: &'static str,
    pub value: String,
}

/// Who signs, when and where; the name is left blank for the person who signs to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// On behalf of: the seller.
    pub company: String,
    pub date: Date,
    pub place: String,
}

fn unprocessable(code: &'static str, message: impl Into<String>, field: impl Into<String>) -> ApiError {
    ApiError::new(422, code, message).with_field(field)
}

fn too_large(field: impl Into<String>) -> ApiError {
    unprocessable("amount_too_large", "the amounts are too large to add up", field)
}

/// The commercial invoice `number` for `shipment`, in the currency of its lines. The identifiers printed are the
/// seller's EORI and, of its tax-at-sale registrations, only the one the destination's rules use: an IOSS number
/// is meant for EU customs, not for every carrier.
pub fn commercial_invoice(rules: &Rules, shipment: &Shipment, number: &str) -> Result<Invoice, ApiError> {
    let number = number.trim();
    if number.is_empty() {
        return Err(unprocessable("missing_invoice_number", "an invoice needs a number", "number"));
    }
    let currency = invoice_currency(shipment)?;
    let mut lines = Vec::with_capacity(shipment.lines.len());
    for (i, line) in shipment.lines.iter().enumerate() {
        line.check_quantity(i)?;
        let unit = line.unit_value.0;
        if unit.minor < 0 {
            return Err(unprocessable(
                "negative_amount",
                format!("{unit} is negative"),
                format!("lines[{i}].unit_value"),
            ));
        }
        let total = unit.minor.checked_mul(i64::from(line.quantity)).ok_or_else(|| too_large(format!("lines[{i}]")))?;
        lines.push(InvoiceLine {
            description: line.description.trim().to_owned(),
            hs_code: hs_digits(&line.hs_code),
            origin: line.origin.clone(),
            quantity: line.quantity,
            unit_value: unit,
            total_value: Money::new(total, currency),
            unit_weight_g: line.unit_weight_g,
            total_weight_g: line.unit_weight_g.and_then(|g| g.checked_mul(u64::from(line.quantity))),
            dangerous_goods: line.dangerous_goods,
        });
    }
    let charge = |amount: Option<super::Amount>, field: &str| -> Result<i64, ApiError> {
        let minor = amount.map_or(0, |a| a.0.minor);
        if minor < 0 {
            return Err(unprocessable("negative_amount", format!("{field} is negative"), field));
        }
        Ok(minor)
    };
    let shipping = charge(shipment.shipping, "shipping")?;
    let insurance = charge(shipment.insurance, "insurance")?;
    let goods =
        lines.iter().try_fold(0i64, |sum, l| sum.checked_add(l.total_value.minor)).ok_or_else(|| too_large("lines"))?;
    let invoice_total =
        goods.checked_add(shipping).and_then(|t| t.checked_add(insurance)).ok_or_else(|| too_large("lines"))?;
    let net_weight_g = lines.iter().try_fold(0u64, |sum, l| sum.checked_add(l.total_weight_g?));
    Ok(Invoice {
        number: number.to_owned(),
        date: shipment.date,
        reference: shipment.reference.clone().filter(|r| !r.trim().is_empty()),
        seller: shipment.seller.clone(),
        buyer: shipment.buyer.clone(),
        ship_from: shipment.from.clone(),
        ship_to: shipment.to.clone(),
        incoterm: shipment.incoterm,
        reason_for_export: shipment
            .reason_for_export
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or(DEFAULT_REASON_FOR_EXPORT)
            .to_owned(),
        currency,
        lines,
        totals: InvoiceTotals {
            goods: Money::new(goods, currency),
            shipping: Money::new(shipping, currency),
            insurance: Money::new(insurance, currency),
            invoice_total: Money::new(invoice_total, currency),
            net_weight_g,
        },
        seller_identifiers: seller_identifiers(rules, shipment),
        declaration: DECLARATION.to_owned(),
        signature: Signature {
            name: None,
            company: shipment.seller.name.clone(),
            date: shipment.date,
            place: signature_place(shipment),
        },
    })
}

/// The one currency of the lines, transport and insurance.
fn invoice_currency(shipment: &Shipment) -> Result<Currency, ApiError> {
    let Some(first) = shipment.lines.first() else {
        return Err(unprocessable("no_lines", "an invoice needs at least one line", "lines"));
    };
    let currency = first.unit_value.0.currency;
    if currency.minor_digits().is_none() {
        return Err(unprocessable(
            "unknown_currency",
            format!("{currency} is not an ISO 4217 currency with minor units"),
            "lines[0].unit_value",
        ));
    }
    if shipment.lines.iter().any(|l| l.unit_value.0.currency != currency) {
        return Err(unprocessable(
            "mixed_currencies",
            "the lines are in more than one currency; a commercial invoice is in one",
            "lines",
        ));
    }
    for (field, amount) in [("shipping", shipment.shipping), ("insurance", shipment.insurance)] {
        if let Some(amount) = amount
            && amount.0.currency != currency
        {
            return Err(unprocessable(
                "mixed_currencies",
                format!("{field} is in {} but the lines are in {currency}", amount.0.currency),
                field,
            ));
        }
    }
    Ok(currency)
}

fn seller_identifiers(rules: &Rules, shipment: &Shipment) -> Vec<Identifier> {
    let seller = &shipment.seller;
    let mut identifiers = Vec::new();
    if let Some(eori) = seller.eori.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        identifiers.push(Identifier { scheme: "EORI", value: eori.to_owned() });
    }
    let Some(territory) = rules.territory(&shipment.to) else {
        return identifiers;
    };
    for scheme in in_force(&territory.tax_at_sale, shipment.date) {
        let printed = match scheme.registration.as_str() {
            "ioss_number" => "IOSS",
            "uk_vat_number" => "UK VAT",
            "au_gst_id" => "ABN/ARN",
            "voec_number" => "VOEC",
            _ => continue,
        };
        if let Some(value) = seller.registration(&scheme.registration)
            && !identifiers.iter().any(|i| i.scheme == printed)
        {
            identifiers.push(Identifier { scheme: printed, value: value.trim().to_owned() });
        }
    }
    identifiers
}

/// The seller's town as its address ends ("10115 Berlin"), else the country the parcel leaves from.
fn signature_place(shipment: &Shipment) -> String {
    let seller = &shipment.seller;
    seller
        .address
        .iter()
        .rev()
        .map(|line| line.trim())
        .find(|line| !line.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| if seller.country.is_empty() { shipment.from.clone() } else { seller.country.clone() })
}

// --- HTML ----------------------------------------------------------------------------------------------------

/// Text as HTML character data or a quoted attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A weight in kilograms to the gram: `1250` → `1.250 kg`.
fn kilograms(grams: u64) -> String {
    format!("{}.{:03} kg", grams / 1000, grams % 1000)
}

fn dangerous_goods_label(goods: DangerousGoods) -> Option<&'static str> {
    match goods {
        DangerousGoods::None => None,
        DangerousGoods::LithiumIonInEquipment => Some("Lithium-ion batteries in or with equipment (UN3481)"),
        DangerousGoods::LithiumIonBatteries => Some("Lithium-ion batteries (UN3480)"),
        DangerousGoods::LithiumMetal => Some("Lithium metal batteries (UN3090/UN3091)"),
        DangerousGoods::Other => Some("Dangerous goods: see the carrier's declaration"),
    }
}

const STYLE: &str = "\
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { font-family: Helvetica, Arial, sans-serif; font-size: 10pt; color: #000; margin: 0; }
h1 { font-size: 18pt; margin: 0 0 4mm; letter-spacing: 0.05em; text-transform: uppercase; }
h2 { font-size: 9pt; margin: 0 0 1.5mm; text-transform: uppercase; color: #444; }
.meta, .parties, .details { width: 100%; border-collapse: collapse; margin-bottom: 5mm; }
.parties td { width: 50%; vertical-align: top; padding: 0 4mm 0 0; }
.meta td, .details td { padding: 0.8mm 3mm 0.8mm 0; }
.meta th, .details th { text-align: left; font-weight: normal; color: #444; padding-right: 3mm; white-space: nowrap; }
table.lines { width: 100%; border-collapse: collapse; margin-bottom: 4mm; page-break-inside: auto; }
table.lines th, table.lines td { border: 0.3mm solid #999; padding: 1.2mm 1.5mm; vertical-align: top; }
table.lines th { background: #eee; text-align: left; font-size: 8.5pt; }
table.lines tr { page-break-inside: avoid; }
.num { text-align: right; white-space: nowrap; }
.dg { display: block; font-size: 8.5pt; font-weight: bold; }
table.totals { margin-left: auto; border-collapse: collapse; margin-bottom: 6mm; }
table.totals th { text-align: left; font-weight: normal; padding: 0.8mm 6mm 0.8mm 0; }
table.totals td { text-align: right; padding: 0.8mm 0; }
table.totals tr.grand th, table.totals tr.grand td { font-weight: bold; border-top: 0.4mm solid #000; }
.declaration { margin: 6mm 0; }
.signature { width: 100%; border-collapse: collapse; }
.signature td { width: 25%; padding: 8mm 4mm 0 0; vertical-align: bottom; }
.signature .line { border-bottom: 0.3mm solid #000; min-height: 6mm; }
.signature .label { font-size: 8pt; color: #444; padding-top: 1mm; }
@media screen { body { max-width: 210mm; margin: 10mm auto; padding: 0 10mm; } }
";

/// `invoice` as a self-contained, printable A4 HTML page: inline CSS, no scripts, no outside resources, every
/// text from the shipment escaped.
pub fn render_html(invoice: &Invoice) -> String {
    let mut html = String::with_capacity(8 * 1024);
    let currency = escape(invoice.currency.as_str());
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Commercial invoice {}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n<h1>Commercial invoice</h1>\n",
        escape(&invoice.number)
    );

    html.push_str("<table class=\"meta\">\n");
    row(&mut html, "Invoice number", &escape(&invoice.number));
    row(&mut html, "Date", &invoice.date.to_string());
    if let Some(reference) = &invoice.reference {
        row(&mut html, "Order reference", &escape(reference));
    }
    html.push_str("</table>\n");

    html.push_str("<table class=\"parties\"><tr>\n<td>\n<h2>Seller / exporter</h2>\n");
    party(&mut html, &invoice.seller);
    for identifier in &invoice.seller_identifiers {
        let _ = writeln!(html, "<div>{}: {}</div>", escape(identifier.scheme), escape(&identifier.value));
    }
    html.push_str("</td>\n<td>\n<h2>Buyer / consignee</h2>\n");
    party(&mut html, &invoice.buyer);
    if let Some(eori) = invoice.buyer.eori.as_deref().filter(|e| !e.trim().is_empty()) {
        let _ = writeln!(html, "<div>EORI: {}</div>", escape(eori));
    }
    html.push_str("</td>\n</tr></table>\n");

    html.push_str("<table class=\"details\">\n");
    row(&mut html, "Country of export", &escape(&invoice.ship_from));
    row(&mut html, "Country of destination", &escape(&invoice.ship_to));
    let incoterm = match invoice.incoterm {
        Incoterm::Ddp => "DDP (delivered duty paid)",
        Incoterm::Dap => "DAP (delivered at place)",
    };
    row(&mut html, "Incoterm", incoterm);
    row(&mut html, "Reason for export", &escape(&invoice.reason_for_export));
    row(&mut html, "Currency", &currency);
    html.push_str("</table>\n");

    let _ = writeln!(
        html,
        "<table class=\"lines\">\n<thead><tr><th>#</th><th>Description of goods</th><th>HS code</th><th>Origin</th>\
         <th class=\"num\">Qty</th><th class=\"num\">Unit value ({currency})</th>\
         <th class=\"num\">Total value ({currency})</th><th class=\"num\">Unit net weight</th>\
         <th class=\"num\">Net weight</th></tr></thead>\n<tbody>"
    );
    for (i, line) in invoice.lines.iter().enumerate() {
        let dangerous = line
            .dangerous_goods
            .and_then(dangerous_goods_label)
            .map(|label| format!("<span class=\"dg\">{}</span>", escape(label)))
            .unwrap_or_default();
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}{dangerous}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            i + 1,
            escape(&line.description),
            escape(&line.hs_code),
            escape(&line.origin),
            line.quantity,
            line.unit_value.to_decimal(),
            line.total_value.to_decimal(),
            line.unit_weight_g.map(kilograms).unwrap_or_default(),
            line.total_weight_g.map(kilograms).unwrap_or_default(),
        );
    }
    html.push_str("</tbody>\n</table>\n");

    let totals = &invoice.totals;
    html.push_str("<table class=\"totals\">\n");
    total_row(&mut html, "Goods", &totals.goods.to_string());
    total_row(&mut html, "Shipping", &totals.shipping.to_string());
    total_row(&mut html, "Insurance", &totals.insurance.to_string());
    let _ = writeln!(
        html,
        "<tr class=\"grand\"><th>Invoice total</th><td>{}</td></tr>",
        escape(&totals.invoice_total.to_string())
    );
    let weight = totals.net_weight_g.map_or_else(|| "not stated for every line".to_owned(), kilograms);
    total_row(&mut html, "Total net weight", &weight);
    html.push_str("</table>\n");

    let _ = writeln!(html, "<p class=\"declaration\">{}</p>", escape(&invoice.declaration));
    let signature = &invoice.signature;
    let _ = writeln!(
        html,
        "<table class=\"signature\"><tr>\
         <td><div class=\"line\">{}</div><div class=\"label\">Name</div></td>\
         <td><div class=\"line\"></div><div class=\"label\">Signature, for {}</div></td>\
         <td><div class=\"line\">{}</div><div class=\"label\">Date</div></td>\
         <td><div class=\"line\">{}</div><div class=\"label\">Place</div></td>\
         </tr></table>",
        signature.name.as_deref().map(escape).unwrap_or_default(),
        escape(&signature.company),
        signature.date,
        escape(&signature.place),
    );
    html.push_str("</body>\n</html>\n");
    html
}

/// A label and an already escaped value.
fn row(html: &mut String, label: &str, value: &str) {
    let _ = writeln!(html, "<tr><th>{label}</th><td>{value}</td></tr>");
}

fn total_row(html: &mut String, label: &str, value: &str) {
    let _ = writeln!(html, "<tr><th>{label}</th><td>{}</td></tr>", escape(value));
}

fn party(html: &mut String, party: &Party) {
    let _ = writeln!(html, "<div><strong>{}</strong></div>", escape(&party.name));
    for line in party.address.iter().filter(|l| !l.trim().is_empty()) {
        let _ = writeln!(html, "<div>{}</div>", escape(line));
    }
    if !party.country.is_empty() {
        let _ = writeln!(html, "<div>{}</div>", escape(&party.country));
    }
    for (label, value) in [("Email", &party.email), ("Phone", &party.phone)] {
        if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            let _ = writeln!(html, "<div>{label}: {}</div>", escape(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn rules() -> &'static Rules {
        Rules::builtin().expect("shipped rules")
    }

    /// Two lines of kitchenware sold DAP from the US to France.
    fn kitchenware() -> Value {
        json!({
            "to": "FR", "from": "US", "date": "2026-07-10", "incoterm": "DAP", "reference": "ORDER-1042",
            "lines": [
                {"description": "Ceramic coffee mug, 350 ml", "hs_code": "6912.00.10", "origin": "PT",
                 "unit_value": "12.50 EUR", "quantity": 2, "unit_weight_g": 250},
                {"description": "Stainless steel teaspoon", "hs_code": "8215.99.10", "origin": "DE",
                 "unit_value": "4.99 EUR", "quantity": 3, "unit_weight_g": 120}
            ],
            "shipping": "6.90 EUR", "insurance": "1.10 EUR",
            "seller": {"name": "Mug & Spoon Co.", "address": ["1 Main St", "Portland, OR 97201"], "country": "US",
                       "eori": "NL123456789", "ioss_number": "IM5280000001", "uk_vat_number": "GB123456789"},
            "buyer": {"name": "Claire Martin", "address": ["3 rue de la Paix", "75002 Paris"], "country": "FR"}
        })
    }

    fn invoice(shipment: Value) -> Result<Invoice, ApiError> {
        commercial_invoice(rules(), &serde_json::from_value(shipment).expect("valid shipment"), "INV-2026-0001")
    }

    #[test]
    fn totals_add_up_by_hand() {
        let invoice = invoice(kitchenware()).expect("invoice");
        let eur = Currency::new("EUR").expect("EUR");
        // Line 1: 2 × 12.50 = 25.00 EUR, 2 × 250 g = 500 g.
        assert_eq!(invoice.lines[0].total_value, Money::new(2500, eur));
        assert_eq!(invoice.lines[0].total_weight_g, Some(500));
        // Line 2: 3 × 4.99 = 14.97 EUR, 3 × 120 g = 360 g.
        assert_eq!(invoice.lines[1].total_value, Money::new(1497, eur));
        assert_eq!(invoice.lines[1].total_weight_g, Some(360));
        // Goods 25.00 + 14.97 = 39.97; invoice total 39.97 + 6.90 shipping + 1.10 insurance = 47.97.
        let totals = &invoice.totals;
        assert_eq!(totals.goods, Money::new(3997, eur));
        assert_eq!(totals.shipping, Money::new(690, eur));
        assert_eq!(totals.insurance, Money::new(110, eur));
        assert_eq!(totals.invoice_total, Money::new(4797, eur));
        // Net weight 500 + 360 = 860 g.
        assert_eq!(totals.net_weight_g, Some(860));
        assert_eq!(invoice.currency, eur);
        assert_eq!(invoice.lines[0].hs_code, "69120010");
    }

    #[test]
    fn net_weight_is_left_out_when_a_line_has_none() {
        let mut shipment = kitchenware();
        shipment["lines"][1].as_object_mut().expect("line").remove("unit_weight_g");
        let invoice = invoice(shipment).expect("invoice");
        assert_eq!(invoice.totals.net_weight_g, None);
        assert_eq!(invoice.lines[0].total_weight_g, Some(500));
    }

    #[test]
    fn transport_and_insurance_default_to_zero() {
        let mut shipment = kitchenware();
        shipment.as_object_mut().expect("shipment").remove("shipping");
        shipment.as_object_mut().expect("shipment").remove("insurance");
        let invoice = invoice(shipment).expect("invoice");
        assert_eq!(invoice.totals.shipping.minor, 0);
        assert_eq!(invoice.totals.invoice_total, invoice.totals.goods);
    }

    #[test]
    fn mixed_currencies_are_refused() {
        let mut shipment = kitchenware();
        shipment["lines"][1]["unit_value"] = json!("5.00 USD");
        let error = invoice(shipment).expect_err("mixed");
        assert_eq!((error.status, error.code, error.field.as_deref()), (422, "mixed_currencies", Some("lines")));
        let mut shipment = kitchenware();
        shipment["shipping"] = json!("7.00 USD");
        let error = invoice(shipment).expect_err("mixed");
        assert_eq!((error.code, error.field.as_deref()), ("mixed_currencies", Some("shipping")));
    }

    #[test]
    fn unusable_input_is_a_422_not_a_panic() {
        let error = commercial_invoice(rules(), &serde_json::from_value(kitchenware()).expect("valid"), "  ")
            .expect_err("no number");
        assert_eq!((error.status, error.code), (422, "missing_invoice_number"));
        let mut shipment = kitchenware();
        shipment["lines"] = json!([]);
        assert_eq!(invoice(shipment).expect_err("no lines").code, "no_lines");
        let mut shipment = kitchenware();
        shipment["lines"][0]["quantity"] = json!(0);
        assert_eq!(invoice(shipment).expect_err("zero").field.as_deref(), Some("lines[0].quantity"));
        let mut shipment: Shipment = serde_json::from_value(kitchenware()).expect("valid");
        shipment.lines[0].unit_value.0.minor = i64::MAX;
        let error = commercial_invoice(rules(), &shipment, "1").expect_err("overflow");
        assert_eq!(error.code, "amount_too_large");
    }

    #[test]
    fn reason_for_export_defaults_to_sale() {
        assert_eq!(invoice(kitchenware()).expect("invoice").reason_for_export, "sale");
        let mut shipment = kitchenware();
        shipment["reason_for_export"] = json!("return");
        assert_eq!(invoice(shipment).expect("invoice").reason_for_export, "return");
    }

    #[test]
    fn the_seller_shows_its_eori_and_the_destinations_registration_only() {
        let schemes = |invoice: &Invoice| invoice.seller_identifiers.iter().map(|i| i.scheme).collect::<Vec<_>>();
        // France: EORI and IOSS, not the UK VAT number.
        assert_eq!(schemes(&invoice(kitchenware()).expect("invoice")), ["EORI", "IOSS"]);
        let mut gb = kitchenware();
        gb["to"] = json!("GB");
        assert_eq!(schemes(&invoice(gb).expect("invoice")), ["EORI", "UK VAT"]);
        let mut elsewhere = kitchenware();
        elsewhere["to"] = json!("BR");
        assert_eq!(schemes(&invoice(elsewhere).expect("invoice")), ["EORI"]);
    }

    #[test]
    fn the_signature_block_has_a_date_and_a_place() {
        let invoice = invoice(kitchenware()).expect("invoice");
        assert_eq!(invoice.signature.name, None);
        assert_eq!(invoice.signature.company, "Mug & Spoon Co.");
        assert_eq!(invoice.signature.place, "Portland, OR 97201");
        assert_eq!(invoice.signature.date.to_string(), "2026-07-10");
        assert!(invoice.declaration.starts_with("I declare that the information on this invoice is true and correct"));
    }

    #[test]
    fn the_invoice_serializes_for_the_api() {
        let json = serde_json::to_value(invoice(kitchenware()).expect("invoice")).expect("serializes");
        assert_eq!(json["number"], "INV-2026-0001");
        assert_eq!(json["incoterm"], "DAP");
        assert_eq!(json["currency"], "EUR");
        assert_eq!(json["totals"]["invoice_total"], json!({"minor": 4797, "currency": "EUR"}));
        assert_eq!(json["seller_identifiers"][1], json!({"scheme": "IOSS", "value": "IM5280000001"}));
    }

    #[test]
    fn the_html_page_escapes_every_user_string() {
        let mut shipment = kitchenware();
        shipment["lines"][0]["description"] = json!("<script>alert('x')</script> mug");
        shipment["buyer"]["name"] = json!("\"Claire\" <b>Martin</b>");
        shipment["reference"] = json!("A&B");
        let html = render_html(&invoice(shipment).expect("invoice"));
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; mug"));
        assert!(html.contains("&quot;Claire&quot; &lt;b&gt;Martin&lt;/b&gt;"));
        assert!(html.contains("A&amp;B"));
        assert!(html.contains("Mug &amp; Spoon Co."));
    }

    #[test]
    fn the_html_page_is_a_printable_a4_invoice() {
        let mut shipment = kitchenware();
        shipment["lines"][1]["dangerous_goods"] = json!("lithium_ion_in_equipment");
        let html = render_html(&invoice(shipment).expect("invoice"));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("@page { size: A4;"));
        // Self-contained: no scripts, stylesheets or images from elsewhere.
        assert!(!html.contains("<link") && !html.contains("src="));
        for text in ["INV-2026-0001", "ORDER-1042", "69120010", "25.00", "14.97", "47.97 EUR", "0.860 kg", "UN3481"] {
            assert!(html.contains(text), "{text} missing from the page");
        }
        assert!(html.contains("IOSS: IM5280000001"));
        assert!(html.contains("I declare that the information on this invoice is true and correct"));
    }

    #[test]
    fn weights_print_in_kilograms_to_the_gram() {
        assert_eq!(kilograms(860), "0.860 kg");
        assert_eq!(kilograms(12_005), "12.005 kg");
    }
}
