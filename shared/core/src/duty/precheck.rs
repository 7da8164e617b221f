//! The customs pre-check: what would make customs or the carrier hold a shipment, found before the label is
//! printed. Each problem names the field to fix (a JSON path into the [`Shipment`]) and whether the shipment can
//! go as it is (`warning`) or not (`blocking`). The thresholds and word lists are data: the territories' rules,
//! `vague_descriptions.csv` and `dangerous_goods_hints.csv` in `shared/data/customs`.

use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde::Serialize;

use super::order::{DangerousGoods, Incoterm, Line, Party, Shipment, hs_digits};
use super::rules::{Part, Rules, Territory, ValueOf, in_force};
use crate::address::refdata::country_code;
use crate::money::{Currency, Money};
use crate::text::fold;

/// Whether a shipment can go as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Customs or the carrier will hold or refuse the shipment: fix it before shipping.
    Blocking,
    /// The shipment may clear, but slower or with questions: worth fixing.
    Warning,
}

/// One thing to fix, at one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: &'static str,
    /// JSON path into the shipment: `to`, `lines[0].hs_code`, `seller.ioss_number`.
    pub field: String,
    pub severity: Severity,
    pub message: String,
}

impl Problem {
    fn blocking(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem { code, field: field.into(), severity: Severity::Blocking, message: message.into() }
    }

    fn warning(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem { code, field: field.into(), severity: Severity::Warning, message: message.into() }
    }
}

/// Every problem customs or the carrier would find in `shipment` under `rules`, in the order of the shipment's
/// fields: the shipment itself, then each line, then the seller and the buyer.
pub fn precheck(rules: &Rules, shipment: &Shipment) -> Vec<Problem> {
    let mut problems = Vec::new();
    let territory = rules.territory(&shipment.to);
    if territory.is_none() {
        let known: Vec<&str> = rules.territories.iter().map(|t| t.id.as_str()).collect();
        problems.push(Problem::blocking(
            "unsupported_destination",
            "to",
            format!("no customs rules for {:?}: lastmile knows {}", shipment.to, known.join(", ")),
        ));
    }
    if shipment.lines.is_empty() {
        problems.push(Problem::blocking("no_lines", "lines", "a shipment needs at least one line of goods"));
    }
    for (i, line) in shipment.lines.iter().enumerate() {
        check_description(i, line, &mut problems);
        check_hs_code(territory, i, line, &mut problems);
        check_origin(i, line, &mut problems);
        check_value(&line.unit_value.0, &format!("lines[{i}].unit_value"), &mut problems);
        if line.quantity == 0 {
            problems.push(Problem::blocking(
                "invalid_quantity",
                format!("lines[{i}].quantity"),
                "quantity must be at least 1",
            ));
        }
        check_dangerous_goods(i, line, &mut problems);
    }
    for (field, amount) in [("shipping", shipment.shipping), ("insurance", shipment.insurance)] {
        if let Some(amount) = amount {
            check_charge(&amount.0, field, &mut problems);
        }
    }
    check_one_currency(shipment, &mut problems);
    check_identifier_formats(&shipment.seller, "seller", &mut problems);
    check_identifier_formats(&shipment.buyer, "buyer", &mut problems);
    if let Some(territory) = territory
        && crosses_border(rules, shipment, territory)
    {
        check_eori_for_import(territory, shipment, &mut problems);
        check_tax_at_sale(rules, territory, shipment, &mut problems);
    }
    sort_by_field(&mut problems);
    problems
}

/// Goods moving inside one customs territory (Germany to France) are not declared to customs at all.
fn crosses_border(rules: &Rules, shipment: &Shipment, destination: &Territory) -> bool {
    rules.territory(&shipment.from).is_none_or(|origin| origin.id != destination.id)
}

// --- Lines ---------------------------------------------------------------------------------------------------

/// A vague description alone, folded (`GIFT`), and why customs refuses it.
struct VagueDescription {
    phrase: String,
    reason: String,
}

fn vague_descriptions() -> &'static [VagueDescription] {
    static TABLE: OnceLock<Vec<VagueDescription>> = OnceLock::new();
    TABLE.get_or_init(|| {
        read_phrases(include_str!("../../../data/customs/vague_descriptions.csv"))
            .into_iter()
            .map(|(phrase, reason)| VagueDescription { phrase, reason })
            .collect()
    })
}

/// A word or phrase that suggests dangerous goods, folded (`POWER BANK`), and the UN numbers it points to.
struct DangerousGoodsHint {
    phrase: String,
    un_hint: String,
}

fn dangerous_goods_hints() -> &'static [DangerousGoodsHint] {
    static TABLE: OnceLock<Vec<DangerousGoodsHint>> = OnceLock::new();
    TABLE.get_or_init(|| {
        read_phrases(include_str!("../../../data/customs/dangerous_goods_hints.csv"))
            .into_iter()
            .map(|(phrase, un_hint)| DangerousGoodsHint { phrase, un_hint })
            .collect()
    })
}

/// The first two columns of a phrase table, the phrase folded the way descriptions are.
fn read_phrases(text: &str) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .flatten()
        .filter_map(|row| Some((fold(row.get(0)?), row.get(1)?.to_owned())))
        .filter(|(phrase, _)| !phrase.is_empty())
        .collect()
}

/// Fewer letters and digits than this cannot name goods.
const SHORTEST_DESCRIPTION: usize = 3;

const DESCRIBE_THE_GOODS: &str = "describe the goods themselves: what each item is, what it is made of and what it \
                                  is for (\"men's cotton T-shirt\", \"stainless steel kitchen knife\")";

fn check_description(i: usize, line: &Line, problems: &mut Vec<Problem>) {
    let field = format!("lines[{i}].description");
    let folded = fold(&line.description);
    if folded.chars().filter(|c| *c != ' ').count() < SHORTEST_DESCRIPTION {
        problems.push(Problem::blocking(
            "description_too_short",
            field,
            format!("description {:?} is too short for customs; {DESCRIBE_THE_GOODS}", line.description.trim()),
        ));
    } else if let Some(vague) = vague_descriptions().iter().find(|v| v.phrase == folded) {
        problems.push(Problem::blocking(
            "vague_description",
            field,
            format!(
                "{:?} {}: customs refuse it on its own; {DESCRIBE_THE_GOODS}",
                line.description.trim(),
                vague.reason
            ),
        ));
    }
}

fn check_hs_code(territory: Option<&Territory>, i: usize, line: &Line, problems: &mut Vec<Problem>) {
    let field = format!("lines[{i}].hs_code");
    let digits = hs_digits(&line.hs_code);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        problems.push(Problem::blocking(
            "hs_code_not_digits",
            field,
            format!("HS code {:?} must be digits (dots and spaces are allowed between them)", line.hs_code),
        ));
    } else if digits.len() < 6 {
        problems.push(Problem::blocking(
            "hs_code_too_short",
            field,
            format!(
                "HS code {digits} has {} digits; every customs declaration needs at least the 6-digit HS subheading",
                digits.len()
            ),
        ));
    } else if let Some(territory) = territory
        && digits.len() < territory.hs_digits_required
    {
        problems.push(Problem::warning(
            "hs_code_needs_more_digits",
            field,
            format!(
                "HS code {digits} has {} digits; {} import declarations use {}-digit codes, and customs may hold \
                 the parcel to classify it",
                digits.len(),
                territory.name,
                territory.hs_digits_required
            ),
        ));
    }
}

fn check_origin(i: usize, line: &Line, problems: &mut Vec<Problem>) {
    let origin = line.origin.as_str();
    let is_code = origin.len() == 2 && origin.bytes().all(|b| b.is_ascii_uppercase());
    if is_code && country_code(origin) == Some(origin) {
        return;
    }
    let message = match country_code(origin) {
        Some(code) => format!("origin {origin:?} must be the ISO 3166-1 alpha-2 code: {code}"),
        None => format!("origin {origin:?} is not an ISO 3166-1 alpha-2 country code (where the goods were made)"),
    };
    problems.push(Problem::blocking("invalid_origin", format!("lines[{i}].origin"), message));
}

/// A unit value: customs needs a positive value in a currency it can convert, even for gifts and samples.
fn check_value(value: &Money, field: &str, problems: &mut Vec<Problem>) {
    if value.currency.minor_digits().is_none() {
        problems.push(unknown_currency(value.currency, field));
    } else if value.minor <= 0 {
        problems.push(Problem::blocking(
            "invalid_unit_value",
            field,
            format!("unit value {value} must be more than zero: declare what a buyer would pay, gifts and samples too"),
        ));
    }
}

/// Transport and insurance may be free, never negative.
fn check_charge(value: &Money, field: &str, problems: &mut Vec<Problem>) {
    if value.currency.minor_digits().is_none() {
        problems.push(unknown_currency(value.currency, field));
    } else if value.minor < 0 {
        problems.push(Problem::blocking("negative_amount", field, format!("{value} is negative")));
    }
}

fn unknown_currency(currency: Currency, field: &str) -> Problem {
    Problem::blocking(
        "unknown_currency",
        field,
        format!("{currency} is not an ISO 4217 currency with minor units; customs values need one"),
    )
}

fn check_dangerous_goods(i: usize, line: &Line, problems: &mut Vec<Problem>) {
    let padded = format!(" {} ", fold(&line.description));
    let Some(hint) = dangerous_goods_hints().iter().find(|h| padded.contains(&format!(" {} ", h.phrase))) else {
        return;
    };
    let field = format!("lines[{i}].dangerous_goods");
    let description = line.description.trim();
    match line.dangerous_goods {
        None => problems.push(Problem::blocking(
            "undeclared_dangerous_goods",
            field,
            format!(
                "{description:?} suggests dangerous goods ({}); declare dangerous_goods (lithium_ion_batteries, \
                 lithium_ion_in_equipment, lithium_metal, other), or none if it has none",
                hint.un_hint
            ),
        )),
        Some(DangerousGoods::None) => problems.push(Problem::warning(
            "dangerous_goods_declared_none",
            field,
            format!(
                "{description:?} suggests dangerous goods ({}) but the line declares none; check before the carrier \
                 does",
                hint.un_hint
            ),
        )),
        Some(_) => {}
    }
}

/// The commercial invoice is in one currency: every line, transport and insurance in it.
fn check_one_currency(shipment: &Shipment, problems: &mut Vec<Problem>) {
    let Some(first) = shipment.lines.first().map(|l| l.unit_value.0.currency) else {
        return;
    };
    if shipment.lines.iter().any(|l| l.unit_value.0.currency != first) {
        let mut currencies: Vec<&str> = shipment.lines.iter().map(|l| l.unit_value.0.currency.as_str()).collect();
        currencies.sort_unstable();
        currencies.dedup();
        problems.push(Problem::blocking(
            "mixed_currencies",
            "lines",
            format!("lines are in {}; a commercial invoice is in one currency", currencies.join(" and ")),
        ));
        return;
    }
    for (field, amount) in [("shipping", shipment.shipping), ("insurance", shipment.insurance)] {
        if let Some(amount) = amount
            && amount.0.currency != first
        {
            problems.push(Problem::blocking(
                "mixed_currencies",
                field,
                format!(
                    "{field} is in {} but the lines are in {first}; a commercial invoice is in one currency",
                    amount.0.currency
                ),
            ));
        }
    }
}

// --- Identifiers ---------------------------------------------------------------------------------------------

/// Identifiers are compared without spaces and in capitals, as customs systems store them.
fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect()
}

/// EORI: the issuing country's code (or `XI` for Northern Ireland) and up to 15 letters and digits.
fn is_eori(eori: &str) -> bool {
    let Some((prefix, rest)) = eori.split_at_checked(2) else {
        return false;
    };
    let known_prefix = prefix == "XI" || country_code(prefix) == Some(prefix);
    prefix.bytes().all(|b| b.is_ascii_uppercase())
        && known_prefix
        && (1..=15).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// EU IOSS number: `IM`, then 10 digits.
fn is_ioss_number(number: &str) -> bool {
    number.strip_prefix("IM").is_some_and(|rest| rest.len() == 10 && all_digits(rest))
}

/// UK VAT registration: `GB` and 9 digits, 12 for a branch trader, or `GBGD`/`GBHA` and 3 digits (government
/// departments, health authorities).
fn is_uk_vat_number(number: &str) -> bool {
    let Some(rest) = number.strip_prefix("GB") else {
        return false;
    };
    if let Some(code) = rest.strip_prefix("GD").or_else(|| rest.strip_prefix("HA")) {
        return code.len() == 3 && all_digits(code);
    }
    matches!(rest.len(), 9 | 12) && all_digits(rest)
}

fn all_digits(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
}

/// Whatever identifier a party gives must be well formed, wherever the shipment goes.
fn check_identifier_formats(party: &Party, who: &str, problems: &mut Vec<Problem>) {
    let given = |value: &Option<String>| value.as_deref().filter(|v| !v.trim().is_empty()).map(compact);
    if let Some(eori) = given(&party.eori)
        && !is_eori(&eori)
    {
        problems.push(Problem::blocking(
            "invalid_eori",
            format!("{who}.eori"),
            format!(
                "EORI {eori:?} must be a country code and 1 to 15 letters or digits (DE123456789012345, GB123456789000)"
            ),
        ));
    }
    if let Some(ioss) = given(&party.ioss_number)
        && !is_ioss_number(&ioss)
    {
        problems.push(Problem::blocking(
            "invalid_ioss_number",
            format!("{who}.ioss_number"),
            format!("IOSS number {ioss:?} must be IM and 10 digits (IM2760000001)"),
        ));
    }
    if let Some(vat) = given(&party.uk_vat_number)
        && !is_uk_vat_number(&vat)
    {
        problems.push(Problem::blocking(
            "invalid_uk_vat_number",
            format!("{who}.uk_vat_number"),
            format!(
                "UK VAT number {vat:?} must be GB and 9 digits (12 for a branch trader, or GBGD/GBHA and 3 digits)"
            ),
        ));
    }
}

/// Under DDP the seller is the importer, and where the territory asks for it, declares with its own EORI.
fn check_eori_for_import(territory: &Territory, shipment: &Shipment, problems: &mut Vec<Problem>) {
    if shipment.incoterm != Incoterm::Ddp || !territory.eori_for_ddp {
        return;
    }
    let Some(eori) = shipment.seller.eori.as_deref().filter(|e| !e.trim().is_empty()).map(compact) else {
        problems.push(Problem::warning(
            "missing_eori",
            "seller.eori",
            format!(
                "a DDP seller is the importer in {} customs and needs an EORI number for a full declaration",
                territory.name
            ),
        ));
        return;
    };
    let prefix = eori.get(..2).unwrap_or_default();
    if is_eori(&eori) && !territory.eori_prefixes.is_empty() && !territory.eori_prefixes.iter().any(|p| p == prefix) {
        problems.push(Problem::blocking(
            "eori_not_valid_for_destination",
            "seller.eori",
            format!(
                "EORI {eori} is not accepted by {} customs: a DDP importer needs one starting with {}",
                territory.name,
                territory.eori_prefixes.join(" or ")
            ),
        ));
    }
}

/// Where the tax is collected at checkout (EU IOSS, UK ≤ £135, AU, NO), the seller's registration goes on the
/// declaration: always where the scheme is mandatory, and under DDP where the seller opts in by paying the tax.
fn check_tax_at_sale(rules: &Rules, territory: &Territory, shipment: &Shipment, problems: &mut Vec<Problem>) {
    let (intrinsic, customs) = match consignment_values(rules, territory, shipment) {
        Ok(Some(values)) => values,
        // Values customs cannot read are reported on their own fields.
        Ok(None) => return,
        Err(problem) => {
            problems.push(problem);
            return;
        }
    };
    let value_of = |of: ValueOf| match of {
        ValueOf::Intrinsic => intrinsic,
        ValueOf::Customs => customs,
    };
    let Some(scheme) = in_force(&territory.tax_at_sale, shipment.date).find(|s| value_of(s.value) <= s.max) else {
        return;
    };
    if !(scheme.mandatory || shipment.incoterm == Incoterm::Ddp)
        || shipment.seller.registration(&scheme.registration).is_some()
    {
        return;
    }
    let value_name = match scheme.value {
        ValueOf::Intrinsic => "goods",
        ValueOf::Customs => "customs",
    };
    let why = if scheme.mandatory {
        "the tax must be charged at checkout"
    } else {
        "a DDP seller charges the tax at checkout and declares its number so the parcel is released tax-paid"
    };
    problems.push(Problem::blocking(
        missing_registration_code(&scheme.registration),
        format!("seller.{}", scheme.registration),
        format!(
            "{}: the {value_name} value {} is at most {}; {why}: give the seller's {} ({})",
            scheme.scheme,
            decimal_money(value_of(scheme.value), territory.currency),
            decimal_money(scheme.max, territory.currency),
            registration_name(&scheme.registration),
            scheme.source
        ),
    ));
}

fn missing_registration_code(registration: &str) -> &'static str {
    match registration {
        "ioss_number" => "missing_ioss_number",
        "uk_vat_number" => "missing_uk_vat_number",
        "au_gst_id" => "missing_au_gst_id",
        "voec_number" => "missing_voec_number",
        _ => "missing_registration",
    }
}

fn registration_name(registration: &str) -> &str {
    match registration {
        "ioss_number" => "IOSS number",
        "uk_vat_number" => "UK VAT registration number",
        "au_gst_id" => "ABN or ARN (GST registration)",
        "voec_number" => "VOEC number",
        other => other,
    }
}

fn decimal_money(value: Decimal, currency: Currency) -> String {
    format!("{} {currency}", value.round_dp(currency.minor_digits().unwrap_or(0)))
}

/// The consignment's intrinsic (goods) and customs values in the territory's currency on the shipment date;
/// `None` when an amount is unreadable, a warning when no FX rate converts it.
fn consignment_values(
    rules: &Rules,
    territory: &Territory,
    shipment: &Shipment,
) -> Result<Option<(Decimal, Decimal)>, Problem> {
    let to_local = |amount: Money, field: String| -> Result<Option<Decimal>, Problem> {
        if amount.currency.minor_digits().is_none() || amount.minor < 0 {
            return Ok(None);
        }
        if amount.currency == territory.currency {
            return Ok(Some(amount.to_decimal()));
        }
        match rules.fx.convert(amount.to_decimal(), amount.currency, territory.currency, shipment.date) {
            Some((value, _)) => Ok(Some(value)),
            None => Err(Problem::warning(
                "no_fx_rate",
                field,
                format!(
                    "no FX rate {} → {} on or before {}: the {} low-value thresholds were not checked",
                    amount.currency, territory.currency, shipment.date, territory.name
                ),
            )),
        }
    };
    let mut goods = Decimal::ZERO;
    for (i, line) in shipment.lines.iter().enumerate() {
        let Some(unit) = to_local(line.unit_value.0, format!("lines[{i}].unit_value"))? else {
            return Ok(None);
        };
        let Some(total) = unit.checked_mul(Decimal::from(line.quantity)).and_then(|t| goods.checked_add(t)) else {
            return Ok(None);
        };
        goods = total;
    }
    let includes =
        |part: Part| in_force(&territory.valuation, shipment.date).next().is_some_and(|v| v.includes.contains(&part));
    let mut customs = goods;
    for (part, field, amount) in
        [(Part::Shipping, "shipping", shipment.shipping), (Part::Insurance, "insurance", shipment.insurance)]
    {
        if let Some(amount) = amount
            && includes(part)
        {
            let Some(value) = to_local(amount.0, field.to_owned())? else {
                return Ok(None);
            };
            let Some(sum) = customs.checked_add(value) else {
                return Ok(None);
            };
            customs = sum;
        }
    }
    Ok(Some((goods, customs)))
}

// --- Order ---------------------------------------------------------------------------------------------------

/// Shipment fields first, then lines in order, then the seller, then the buyer; a stable sort keeps each line's
/// problems in the order its fields are checked.
fn sort_by_field(problems: &mut [Problem]) {
    problems.sort_by_key(|p| field_rank(&p.field));
}

fn field_rank(field: &str) -> (u8, usize) {
    if let Some(rest) = field.strip_prefix("lines[") {
        let index = rest.split(']').next().and_then(|n| n.parse().ok()).unwrap_or(usize::MAX);
        (1, index)
    } else if field.starts_with("seller") {
        (2, 0)
    } else if field.starts_with("buyer") {
        (3, 0)
    } else {
        (0, 0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn rules() -> &'static Rules {
        Rules::builtin().expect("shipped rules")
    }

    /// A T-shirt sold DDP from China to Germany after the €3 flat duty started, with every identifier in
    /// order: the passing case each test below breaks in one place.
    fn clean() -> Value {
        json!({
            "to": "DE", "from": "CN", "date": "2026-07-10", "incoterm": "DDP",
            "lines": [{"description": "Men's knitted cotton T-shirt", "hs_code": "6109.10.00", "origin": "CN",
                       "unit_value": "20.00 EUR", "quantity": 2}],
            "shipping": "5.00 EUR",
            "seller": {"name": "Shop Ltd", "eori": "DE123456789012345", "ioss_number": "IM2760000001"}
        })
    }

    fn check(shipment: Value) -> Vec<Problem> {
        precheck(rules(), &serde_json::from_value(shipment).expect("valid shipment"))
    }

    /// `(code, field, severity)` of each problem, in order.
    fn found(shipment: Value) -> Vec<(&'static str, String, Severity)> {
        check(shipment).into_iter().map(|p| (p.code, p.field, p.severity)).collect()
    }

    fn one(code: &'static str, field: &str, severity: Severity) -> Vec<(&'static str, String, Severity)> {
        vec![(code, field.to_owned(), severity)]
    }

    /// `shipment` with the value at a JSON pointer replaced, or added to its object.
    fn with(mut shipment: Value, path: &str, value: Value) -> Value {
        let (parent, key) = path.rsplit_once('/').expect("a JSON pointer");
        let parent = shipment.pointer_mut(parent).expect("parent in the test shipment");
        match parent {
            Value::Array(items) => items[key.parse::<usize>().expect("an index")] = value,
            _ => {
                parent[key] = value;
            }
        }
        shipment
    }

    use Severity::{Blocking, Warning};

    #[test]
    fn a_complete_shipment_has_no_problems() {
        assert_eq!(found(clean()), vec![]);
    }

    #[test]
    fn an_unknown_destination_blocks() {
        let problems = check(with(clean(), "/to", json!("BR")));
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].code, problems[0].field.as_str()), ("unsupported_destination", "to"));
        assert!(problems[0].message.contains("EU"), "{}", problems[0].message);
    }

    #[test]
    fn a_shipment_without_lines_blocks() {
        assert_eq!(found(with(clean(), "/lines", json!([]))), one("no_lines", "lines", Blocking));
    }

    #[test]
    fn hs_codes_are_digits_with_at_least_six() {
        let hs = "/lines/0/hs_code";
        assert_eq!(found(with(clean(), hs, json!("6109 10 00"))), vec![]);
        assert_eq!(found(with(clean(), hs, json!("61O9.10"))), one("hs_code_not_digits", "lines[0].hs_code", Blocking));
        assert_eq!(found(with(clean(), hs, json!(""))), one("hs_code_not_digits", "lines[0].hs_code", Blocking));
        assert_eq!(found(with(clean(), hs, json!("6109"))), one("hs_code_too_short", "lines[0].hs_code", Blocking));
    }

    #[test]
    fn the_eu_wants_the_8_digit_cn_code() {
        // The H7 low-value declaration accepts 6 digits, so this only warns.
        let problems = check(with(clean(), "/lines/0/hs_code", json!("610910")));
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].code, problems[0].severity), ("hs_code_needs_more_digits", Warning));
        assert!(problems[0].message.contains("8-digit"), "{}", problems[0].message);
    }

    #[test]
    fn the_us_wants_the_10_digit_hts_number() {
        let us = json!({"to": "US", "from": "CN", "date": "2026-07-30", "incoterm": "DAP",
            "lines": [{"description": "Men's knitted cotton T-shirt", "hs_code": "6109.10.0012", "origin": "CN",
                       "unit_value": "20.00 USD", "quantity": 1}]});
        assert_eq!(found(us.clone()), vec![]);
        assert_eq!(
            found(with(us, "/lines/0/hs_code", json!("61091000"))),
            one("hs_code_needs_more_digits", "lines[0].hs_code", Warning)
        );
    }

    #[test]
    fn six_digits_are_enough_where_the_territory_asks_no_more() {
        let ca = json!({"to": "CA", "from": "CN", "date": "2026-07-10", "incoterm": "DAP",
            "lines": [{"description": "Men's knitted cotton T-shirt", "hs_code": "610910", "origin": "CN",
                       "unit_value": "20.00 CAD", "quantity": 1}]});
        assert_eq!(found(ca), vec![]);
    }

    #[test]
    fn gift_alone_is_not_a_description() {
        // Acceptance: "gift" blocks, and the message says how to describe the goods.
        let problems = check(with(clean(), "/lines/0/description", json!("Gift")));
        assert_eq!(problems.len(), 1);
        let gift = &problems[0];
        assert_eq!(
            (gift.code, gift.field.as_str(), gift.severity),
            ("vague_description", "lines[0].description", Blocking)
        );
        assert!(gift.message.contains("what each item is, what it is made of and what it is for"), "{}", gift.message);
        // Case, spaces and punctuation do not hide it; a real description that mentions a gift is fine.
        let description = "/lines/0/description";
        assert_eq!(found(with(clean(), description, json!("  GIFT! "))).len(), 1);
        assert_eq!(
            found(with(clean(), description, json!("General merchandise"))),
            one("vague_description", "lines[0].description", Blocking)
        );
        assert_eq!(found(with(clean(), description, json!("spare-parts"))).len(), 1);
        assert_eq!(found(with(clean(), description, json!("Gift box of two ceramic coffee mugs"))), vec![]);
    }

    #[test]
    fn empty_and_very_short_descriptions_block() {
        let description = "/lines/0/description";
        assert_eq!(
            found(with(clean(), description, json!(""))),
            one("description_too_short", "lines[0].description", Blocking)
        );
        assert_eq!(
            found(with(clean(), description, json!(" x. "))),
            one("description_too_short", "lines[0].description", Blocking)
        );
        assert_eq!(found(with(clean(), description, json!("Mug"))), vec![]);
    }

    #[test]
    fn values_must_be_positive_in_a_known_currency() {
        let unit = "/lines/0/unit_value";
        assert_eq!(
            found(with(clean(), unit, json!("0.00 EUR"))),
            one("invalid_unit_value", "lines[0].unit_value", Blocking)
        );
        assert_eq!(
            found(with(clean(), unit, json!("-1.00 EUR"))),
            one("invalid_unit_value", "lines[0].unit_value", Blocking)
        );
        // The reader refuses unknown currencies, so build one directly.
        let mut shipment: Shipment = serde_json::from_value(clean()).expect("valid");
        shipment.lines[0].unit_value.0 = Money::new(100, Currency::new("XAU").expect("three capitals"));
        shipment.shipping = None;
        let problems = precheck(rules(), &shipment);
        assert_eq!(problems.iter().map(|p| p.code).collect::<Vec<_>>(), vec!["unknown_currency"]);
        // Free shipping is fine; negative shipping is not.
        assert_eq!(found(with(clean(), "/shipping", json!("0.00 EUR"))), vec![]);
        assert_eq!(found(with(clean(), "/shipping", json!("-5.00 EUR"))), one("negative_amount", "shipping", Blocking));
    }

    #[test]
    fn quantity_is_at_least_one() {
        assert_eq!(
            found(with(clean(), "/lines/0/quantity", json!(0))),
            one("invalid_quantity", "lines[0].quantity", Blocking)
        );
    }

    #[test]
    fn origin_is_an_iso_country_code() {
        let origin = "/lines/0/origin";
        assert_eq!(found(with(clean(), origin, json!("VN"))), vec![]);
        assert_eq!(found(with(clean(), origin, json!("XX"))), one("invalid_origin", "lines[0].origin", Blocking));
        assert_eq!(found(with(clean(), origin, json!("EU"))), one("invalid_origin", "lines[0].origin", Blocking));
        let problems = check(with(clean(), origin, json!("China")));
        assert_eq!(problems[0].code, "invalid_origin");
        assert!(problems[0].message.ends_with("code: CN"), "{}", problems[0].message);
        assert_eq!(check(with(clean(), origin, json!("cn")))[0].code, "invalid_origin");
    }

    #[test]
    fn mixed_currencies_block_the_invoice() {
        let mut shipment = clean();
        let mut second = shipment["lines"][0].clone();
        second["unit_value"] = json!("10.00 USD");
        shipment["lines"].as_array_mut().expect("lines").push(second);
        assert_eq!(found(shipment), one("mixed_currencies", "lines", Blocking));
        assert_eq!(found(with(clean(), "/shipping", json!("5.00 USD"))), one("mixed_currencies", "shipping", Blocking));
    }

    #[test]
    fn a_ddp_importer_into_the_eu_needs_an_eori() {
        let eori = "/seller/eori";
        assert_eq!(found(with(clean(), eori, Value::Null)), one("missing_eori", "seller.eori", Warning));
        // Under DAP the buyer imports: the seller's EORI is not asked for.
        let dap = with(with(clean(), eori, Value::Null), "/incoterm", json!("DAP"));
        assert_eq!(found(dap), vec![]);
        // Inside the EU there is no import at all.
        assert_eq!(found(with(with(clean(), eori, Value::Null), "/from", json!("FR"))), vec![]);
    }

    #[test]
    fn an_eori_is_a_country_code_and_up_to_15_characters() {
        let eori = "/seller/eori";
        assert_eq!(found(with(clean(), eori, json!("nl 123456789"))), vec![]);
        assert_eq!(found(with(clean(), eori, json!("DE"))), one("invalid_eori", "seller.eori", Blocking));
        assert_eq!(found(with(clean(), eori, json!("123456789"))), one("invalid_eori", "seller.eori", Blocking));
        assert_eq!(
            found(with(clean(), eori, json!("DE1234567890123456"))),
            one("invalid_eori", "seller.eori", Blocking)
        );
        assert_eq!(found(with(clean(), eori, json!("QQ123456"))), one("invalid_eori", "seller.eori", Blocking));
        // A buyer's EORI is checked too, whenever it is given.
        assert_eq!(
            found(with(clean(), "/buyer", json!({"eori": "FR-12"}))),
            one("invalid_eori", "buyer.eori", Blocking)
        );
    }

    /// £100 of shoes into Great Britain, DDP, with a UK VAT number and a GB EORI.
    fn gb() -> Value {
        json!({
            "to": "GB", "from": "US", "date": "2026-07-10", "incoterm": "DDP",
            "lines": [{"description": "Women's leather ankle boots", "hs_code": "64035999", "origin": "PT",
                       "unit_value": "100.00 GBP", "quantity": 1}],
            "seller": {"eori": "GB123456789000", "uk_vat_number": "GB123456789"}
        })
    }

    #[test]
    fn a_ddp_importer_into_great_britain_needs_a_gb_or_xi_eori() {
        assert_eq!(found(gb()), vec![]);
        assert_eq!(found(with(gb(), "/seller/eori", json!("XI123456789000"))), vec![]);
        let problems = check(with(gb(), "/seller/eori", json!("DE123456789")));
        assert_eq!(problems.iter().map(|p| p.code).collect::<Vec<_>>(), vec!["eori_not_valid_for_destination"]);
        assert!(problems[0].message.contains("GB or XI"), "{}", problems[0].message);
        // Under DAP an exporter's own EORI from elsewhere is fine.
        assert_eq!(found(with(with(gb(), "/seller/eori", json!("DE123456789")), "/incoterm", json!("DAP"))), vec![]);
    }

    #[test]
    fn an_eu_ddp_consignment_of_at_most_150_euros_needs_an_ioss_number() {
        // Acceptance: 2 × 20.00 EUR = 40.00 EUR of goods ≤ 150.00 EUR (EU tax_at_sale max), DDP, no IOSS number.
        let problems = check(with(clean(), "/seller/ioss_number", Value::Null));
        assert_eq!(problems.len(), 1);
        let ioss = &problems[0];
        assert_eq!(
            (ioss.code, ioss.field.as_str(), ioss.severity),
            ("missing_ioss_number", "seller.ioss_number", Blocking)
        );
        assert!(ioss.message.contains("40.00 EUR is at most 150.00 EUR"), "{}", ioss.message);
        // Above the threshold there is no IOSS: 2 × 80.00 = 160.00 EUR.
        let above = with(with(clean(), "/seller/ioss_number", Value::Null), "/lines/0/unit_value", json!("80.00 EUR"));
        assert_eq!(found(above), vec![]);
        // Under DAP the buyer pays the VAT at the door.
        let dap = with(with(clean(), "/seller/ioss_number", Value::Null), "/incoterm", json!("DAP"));
        assert_eq!(found(dap), vec![]);
    }

    #[test]
    fn the_ioss_threshold_is_tested_in_euros_on_the_shipment_date() {
        let usd = |value: &str| {
            let shipment = with(clean(), "/seller/ioss_number", Value::Null);
            let shipment = with(shipment, "/shipping", Value::Null);
            with(shipment, "/lines/0/unit_value", json!(value))
        };
        // 2 × 87.00 USD = 174.00 USD × 0.86 (USD→EUR from 2026-06-01) = 149.64 EUR ≤ 150.00: IOSS needed.
        assert_eq!(found(usd("87.00 USD")), one("missing_ioss_number", "seller.ioss_number", Blocking));
        // 2 × 88.00 USD = 176.00 USD × 0.86 = 151.36 EUR > 150.00: no IOSS.
        assert_eq!(found(usd("88.00 USD")), vec![]);
        // No rate for the currency: the threshold cannot be tested, which is said rather than guessed.
        let brl = found(usd("10.00 BRL"));
        assert_eq!(brl, one("no_fx_rate", "lines[0].unit_value", Warning));
    }

    #[test]
    fn an_ioss_number_is_im_and_10_digits_wherever_given() {
        let ioss = "/seller/ioss_number";
        assert_eq!(found(with(clean(), ioss, json!("IM 276 000 0001"))), vec![]);
        assert_eq!(
            found(with(clean(), ioss, json!("IM123"))),
            one("invalid_ioss_number", "seller.ioss_number", Blocking)
        );
        assert_eq!(
            found(with(clean(), ioss, json!("EU2760000001"))),
            one("invalid_ioss_number", "seller.ioss_number", Blocking)
        );
        assert_eq!(
            found(with(gb(), "/seller/ioss_number", json!("IM12"))),
            one("invalid_ioss_number", "seller.ioss_number", Blocking)
        );
    }

    #[test]
    fn great_britain_at_most_135_pounds_needs_a_uk_vat_number() {
        // £100 ≤ £135 (GB tax_at_sale max), mandatory: required under DAP as well.
        let missing = with(gb(), "/seller/uk_vat_number", Value::Null);
        assert_eq!(found(missing.clone()), one("missing_uk_vat_number", "seller.uk_vat_number", Blocking));
        assert_eq!(
            found(with(missing.clone(), "/incoterm", json!("DAP"))),
            one("missing_uk_vat_number", "seller.uk_vat_number", Blocking)
        );
        // £200 > £135: import VAT at the border instead.
        assert_eq!(found(with(missing, "/lines/0/unit_value", json!("200.00 GBP"))), vec![]);
    }

    #[test]
    fn a_uk_vat_number_is_gb_and_9_or_12_digits() {
        let vat = "/seller/uk_vat_number";
        for good in ["GB 123 4567 89", "GB123456789012", "GBGD001", "GBHA599"] {
            assert_eq!(found(with(gb(), vat, json!(good))), vec![], "{good}");
        }
        for bad in ["123456789", "GB12345", "GBGD0001", "XI123456789"] {
            assert_eq!(
                found(with(gb(), vat, json!(bad))),
                one("invalid_uk_vat_number", "seller.uk_vat_number", Blocking),
                "{bad}"
            );
        }
    }

    #[test]
    fn batteries_must_be_declared() {
        let description = "/lines/0/description";
        let power_bank = with(clean(), description, json!("Li-ion power bank, 10000 mAh"));
        let problems = check(power_bank.clone());
        assert_eq!(problems.len(), 1);
        let undeclared = &problems[0];
        assert_eq!(
            (undeclared.code, undeclared.field.as_str(), undeclared.severity),
            ("undeclared_dangerous_goods", "lines[0].dangerous_goods", Blocking)
        );
        assert!(
            undeclared.message.contains("UN3480") && undeclared.message.contains("UN3481"),
            "{}",
            undeclared.message
        );
        let declared = with(power_bank.clone(), "/lines/0/dangerous_goods", json!("lithium_ion_batteries"));
        assert_eq!(found(declared), vec![]);
        let denied = with(power_bank, "/lines/0/dangerous_goods", json!("none"));
        assert_eq!(found(denied), one("dangerous_goods_declared_none", "lines[0].dangerous_goods", Warning));
        // Whole words only: a magnetic board or a lighter-weight jacket is not a hint.
        assert_eq!(found(with(clean(), description, json!("Perfume, eau de parfum 50 ml"))).len(), 1);
        assert_eq!(found(with(clean(), description, json!("Magnetic whiteboard, steel"))), vec![]);
    }

    #[test]
    fn problems_come_in_field_order() {
        let mut shipment = with(clean(), "/to", json!("BR"));
        let mut second = shipment["lines"][0].clone();
        second["hs_code"] = json!("12");
        shipment["lines"].as_array_mut().expect("lines").push(second);
        let shipment = with(shipment, "/lines/0/quantity", json!(0));
        let shipment = with(shipment, "/lines/0/description", json!("gift"));
        let shipment = with(shipment, "/seller/ioss_number", json!("IM1"));
        let fields: Vec<String> = check(shipment).into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            ["to", "lines[0].description", "lines[0].quantity", "lines[1].hs_code", "seller.ioss_number"]
        );
    }

    #[test]
    fn severities_serialize_in_snake_case() {
        let problem = Problem::warning("missing_eori", "seller.eori", "x");
        let json = serde_json::to_value(&problem).expect("serializes");
        assert_eq!(
            json,
            json!({"code": "missing_eori", "field": "seller.eori", "severity": "warning", "message": "x"})
        );
        assert_eq!(serde_json::to_value(Severity::Blocking).expect("serializes"), json!("blocking"));
    }

    #[test]
    fn extreme_input_is_reported_not_panicked_on() {
        let mut shipment: Shipment = serde_json::from_value(clean()).expect("valid");
        shipment.to = "ÄÖ".into();
        shipment.from = String::new();
        shipment.lines[0].unit_value.0 = Money::new(i64::MAX, Currency::new("USD").expect("USD"));
        shipment.lines[0].quantity = u32::MAX;
        shipment.lines[0].hs_code = "٣٤٥٦٧٨".into();
        shipment.lines[0].origin = "é".into();
        shipment.lines[0].description = "🔋🔋🔋".into();
        shipment.seller.eori = Some("é".into());
        shipment.seller.uk_vat_number = Some("GBé".into());
        assert!(!precheck(rules(), &shipment).is_empty());
        // An enormous consignment into the EU goes through the FX conversion.
        let mut huge: Shipment = serde_json::from_value(clean()).expect("valid");
        huge.lines[0].unit_value.0 = Money::new(i64::MAX, Currency::new("USD").expect("USD"));
        huge.lines[0].quantity = u32::MAX;
        huge.shipping = None;
        let _ = precheck(rules(), &huge);
    }
}
