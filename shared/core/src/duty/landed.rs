//! Landed cost: what a shipment costs delivered, duties and import taxes paid, under the rules in force on its
//! date. Every figure is in the destination territory's currency; amounts stay exact decimals until a rule of
//! the territory rounds them.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::order::{Incoterm, Shipment, hs_digits};
use super::rules::{
    Citation, Dated, FeePer, FeeWhen, FlatPer, Part, ProgramKind, RateKind, Relief, Rounding, RoundingStep, Rules,
    Scope, TariffRow, Territory, ValueOf, in_force,
};
use crate::contract::ApiError;
use crate::money::{Currency, Money};

/// Who pays a charge, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    /// The seller, through the carrier's duty-paid billing (DDP).
    Seller,
    /// The buyer, at the door or at the post office (DAP).
    Buyer,
    /// The buyer at checkout, collected and remitted by the seller (IOSS, UK and AU low-value regimes).
    BuyerAtCheckout,
}

/// One duty charge: a tariff rate over a group of lines (the territory's rounding unit), a flat low-value duty,
/// or an additional program.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutyLine {
    /// Indexes into the shipment's lines.
    pub lines: Vec<usize>,
    pub hs_code: String,
    /// `general`, a program id (`CUSMA`, `US-301-CN`), or `flat`.
    pub basis: String,
    /// `12%`, `0.80 CHF/kg`, `3.00 EUR × 2`.
    pub rate: String,
    pub base: Money,
    pub amount: Money,
    pub source: Citation,
}

/// One import tax component (VAT, GST, the provincial part of HST …) at one rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaxLine {
    pub tax: String,
    pub class: String,
    pub rate_percent: Decimal,
    pub base: Money,
    pub amount: Money,
    /// `border` (import tax) or `checkout` (collected at sale by the seller).
    pub collected: &'static str,
    pub payer: Payer,
    pub source: Citation,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeeLine {
    pub id: String,
    pub name: String,
    pub amount: Money,
    pub payer: Payer,
    pub source: Citation,
}

/// A conversion the answer used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FxUsed {
    pub from: Currency,
    pub to: Currency,
    pub rate: Decimal,
    pub date: jiff::civil::Date,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub goods: Money,
    pub shipping: Money,
    pub insurance: Money,
    pub customs_value: Money,
    pub duty: Money,
    pub tax: Money,
    pub fees: Money,
    /// What the seller pays on top of the goods and transport (DDP), or nothing (DAP).
    pub seller_pays: Money,
    /// What the buyer pays on delivery (DAP), or nothing (DDP).
    pub buyer_pays_on_delivery: Money,
    /// Tax the buyer pays at checkout under a point-of-sale regime.
    pub buyer_pays_at_checkout: Money,
    /// Goods + transport + insurance + duty + tax + fees.
    pub landed_cost: Money,
}

/// The low-value regime applied, in words and by rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Regime {
    /// `duty_relief`, `flat_duty`, `tariff`; with `+tax_at_sale` / `+tax_relief` where they apply.
    pub id: String,
    pub summary: String,
    pub sources: Vec<Citation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LandedCost {
    pub destination: String,
    pub territory: String,
    pub date: jiff::civil::Date,
    pub incoterm: Incoterm,
    pub currency: Currency,
    /// The parts of the shipment the customs value includes (`goods`, `shipping`, `insurance`).
    pub valuation: Vec<Part>,
    pub duties: Vec<DutyLine>,
    pub taxes: Vec<TaxLine>,
    pub fees: Vec<FeeLine>,
    pub totals: Totals,
    pub regime: Regime,
    /// The regime and every figure in plain language, in the order they were worked out.
    pub explanation: Vec<String>,
    pub fx: Vec<FxUsed>,
    /// Rules in force that the public record leaves uncertain, and notices of the territory.
    pub warnings: Vec<String>,
}

/// A shipment's lines, transport and insurance in the territory's currency, exact.
struct Converted {
    line_values: Vec<Decimal>,
    shipping: Decimal,
    insurance: Decimal,
    fx: Vec<FxUsed>,
}

fn unprocessable(code: &'static str, message: impl Into<String>, field: impl Into<String>) -> ApiError {
    ApiError::new(422, code, message).with_field(field)
}

/// An exact amount in `currency`, rounded half-even to its minor unit.
fn money(value: Decimal, currency: Currency) -> Money {
    Money::from_decimal(value, currency)
}

fn percent_text(rate: Decimal) -> String {
    format!("{}%", rate.normalize())
}

/// Computes the landed cost of `shipment` under `rules`.
pub fn landed_cost(rules: &Rules, shipment: &Shipment) -> Result<LandedCost, ApiError> {
    let territory = rules.territory(&shipment.to).ok_or_else(|| {
        unprocessable(
            "unsupported_destination",
            format!("no customs rules for {}: lastmile knows {}", shipment.to, known_countries(rules)),
            "to",
        )
    })?;
    if shipment.lines.is_empty() {
        return Err(unprocessable("no_lines", "a shipment needs at least one line", "lines"));
    }
    let date = shipment.date;
    let currency = territory.currency;
    let converted = convert(rules, shipment, currency)?;
    let mut notes = Notes::default();

    let valuation = in_force(&territory.valuation, date).next().ok_or_else(|| {
        unprocessable("no_rule", format!("no valuation rule for {} in force on {date}", territory.id), "date")
    })?;
    note_citation(&mut notes.warnings, valuation.citation(), "valuation");
    let includes = |part: Part| valuation.includes.contains(&part);
    let goods: Decimal = converted.line_values.iter().sum();
    let freight = if includes(Part::Shipping) { converted.shipping } else { Decimal::ZERO }
        + if includes(Part::Insurance) { converted.insurance } else { Decimal::ZERO };
    // Transport and insurance are shared out over the lines in proportion to their value.
    let share = |i: usize| if goods.is_zero() { Decimal::ZERO } else { converted.line_values[i] / goods };
    let line_customs: Vec<Decimal> =
        (0..shipment.lines.len()).map(|i| converted.line_values[i] + freight * share(i)).collect();
    let customs_value: Decimal = line_customs.iter().sum();
    notes.explanation.push(format!(
        "Customs value {} ({}; {}).",
        money(customs_value, currency),
        if includes(Part::Shipping) { "CIF: goods, transport and insurance" } else { "FOB: goods only" },
        valuation.source
    ));
    let value_of = |of: ValueOf| match of {
        ValueOf::Intrinsic => goods,
        ValueOf::Customs => customs_value,
    };
    let rounding = in_force(&territory.rounding, date).next();
    if let Some(r) = rounding {
        note_citation(&mut notes.warnings, r.citation(), "rounding");
    }

    // Duty: relief, else a flat low-value duty, else the tariff.
    let origins: Vec<&str> = shipment.lines.iter().map(|l| l.origin.as_str()).collect();
    let relief = matching_relief(&territory.duty_relief, shipment, &origins, &value_of);
    let flat = in_force(&territory.flat_duty, date).find(|f| value_of(f.value) <= f.max);
    let mut regime_id = Vec::new();
    let duties = if let Some(relief) = relief {
        regime_id.push("duty_relief");
        notes.relief("duty", relief, value_of(relief.value), currency);
        Vec::new()
    } else if let Some(flat) = flat {
        regime_id.push("flat_duty");
        note_citation(&mut notes.warnings, flat.citation(), "flat duty");
        notes.sources.push(flat.citation());
        let lines = flat_duty_lines(shipment, flat, &line_customs, currency);
        let count: usize = match flat.per {
            FlatPer::Subheading => lines.len(),
            FlatPer::Unit => shipment.lines.iter().map(|l| l.quantity as usize).sum(),
            FlatPer::Consignment => 1,
        };
        notes.explanation.push(format!(
            "Flat low-value duty {} × {count} {} = {} instead of the tariff: the {} value {} is at most {} ({}).",
            money(flat.amount, currency),
            match flat.per {
                FlatPer::Subheading => "tariff subheading(s)",
                FlatPer::Unit => "unit(s)",
                FlatPer::Consignment => "consignment",
            },
            money(flat.amount * Decimal::from(count), currency),
            value_name(flat.value),
            money(value_of(flat.value), currency),
            money(flat.max, currency),
            flat.source
        ));
        lines
    } else {
        regime_id.push("tariff");
        let duties = tariff_duties(rules, territory, shipment, &line_customs, rounding, &mut notes.warnings)?;
        for d in &duties {
            notes.explanation.push(format!(
                "Duty on line(s) {:?} (HS {}): {} of {} = {} [{}] ({}).",
                d.lines, d.hs_code, d.rate, d.base, d.amount, d.basis, d.source.source
            ));
        }
        duties
    };
    let duty_exact: Decimal = duties.iter().map(|d| d.amount.to_decimal()).sum();
    let duty_total = round_total(duty_exact, rounding.and_then(|r| r.duty), currency);
    if duty_total != duty_exact {
        notes
            .explanation
            .push(format!("Duty rounded to {} as the territory rounds the total.", money(duty_total, currency)));
    }

    // Import taxes.
    let mut taxes = Vec::new();
    if let Some(tax_base) = in_force(&territory.tax_base, date).next() {
        let tax_relief = matching_relief(&territory.tax_relief, shipment, &origins, &value_of);
        if let Some(relief) = tax_relief {
            regime_id.push("tax_relief");
            notes.relief("import tax", relief, value_of(relief.value), currency);
        } else {
            let at_sale = in_force(&territory.tax_at_sale, date).find(|s| value_of(s.value) <= s.max);
            let collected_at_sale =
                at_sale.filter(|s| s.mandatory || shipment.seller.registration(&s.registration).is_some());
            if let Some(s) = at_sale {
                notes.sources.push(s.citation());
                note_citation(&mut notes.warnings, s.citation(), "tax at sale");
                if collected_at_sale.is_some() {
                    regime_id.push("tax_at_sale");
                    notes.explanation.push(format!(
                        "{}: tax is charged at checkout and remitted by the seller; the {} value {} is at most {} ({}).",
                        s.scheme,
                        value_name(s.value),
                        money(value_of(s.value), currency),
                        money(s.max, currency),
                        s.source
                    ));
                } else {
                    notes.explanation.push(format!(
                        "{} would collect the tax at checkout, but the seller gave no {}: import tax is due at the border.",
                        s.scheme, s.registration
                    ));
                }
            }
            let (collected, payer) = if collected_at_sale.is_some() {
                ("checkout", Payer::BuyerAtCheckout)
            } else {
                ("border", border_payer(shipment.incoterm))
            };
            taxes = tax_lines(
                rules,
                shipment,
                TaxInputs {
                    parts: &tax_base.includes,
                    converted: &converted,
                    duty_total,
                    currency,
                    collected,
                    payer,
                    step: rounding.and_then(|r| r.tax),
                },
            )?;
            for t in &taxes {
                notes.explanation.push(format!(
                    "{} ({}) {} of {} = {}, collected at {} ({}).",
                    t.tax,
                    t.class,
                    percent_text(t.rate_percent),
                    t.base,
                    t.amount,
                    t.collected,
                    t.source.source
                ));
            }
        }
    } else {
        notes.explanation.push(format!("No import VAT or GST in {}.", territory.name));
    }
    let tax_total: Decimal = taxes.iter().map(|t| t.amount.to_decimal()).sum();
    let border_tax: Decimal = taxes.iter().filter(|t| t.collected == "border").map(|t| t.amount.to_decimal()).sum();
    let checkout_tax = tax_total - border_tax;

    let entry_filed = !regime_id.contains(&"duty_relief");
    let fees = fee_lines(
        territory,
        shipment,
        &value_of,
        (duty_total + border_tax, entry_filed),
        currency,
        &mut notes.warnings,
    );
    for f in &fees {
        notes.explanation.push(format!("Fee: {} {} ({}).", f.name, f.amount, f.source.source));
    }
    let fee_total: Decimal = fees.iter().map(|f| f.amount.to_decimal()).sum();
    for notice in in_force(&territory.notices, date) {
        notes.warnings.push(notice.text.clone());
    }

    let charges = duty_total + border_tax + fee_total;
    let (seller_pays, buyer_pays) = match shipment.incoterm {
        Incoterm::Ddp => (charges, Decimal::ZERO),
        Incoterm::Dap => (Decimal::ZERO, charges),
    };
    let goods_money = money(goods, currency);
    let totals = Totals {
        goods: goods_money,
        shipping: money(converted.shipping, currency),
        insurance: money(converted.insurance, currency),
        customs_value: money(customs_value, currency),
        duty: money(duty_total, currency),
        tax: money(tax_total, currency),
        fees: money(fee_total, currency),
        seller_pays: money(seller_pays, currency),
        buyer_pays_on_delivery: money(buyer_pays, currency),
        buyer_pays_at_checkout: money(checkout_tax, currency),
        landed_cost: money(
            goods + converted.shipping + converted.insurance + duty_total + tax_total + fee_total,
            currency,
        ),
    };
    notes.explanation.push(match shipment.incoterm {
        Incoterm::Ddp => format!("DDP: the seller pays {} of duty, import tax and fees.", totals.seller_pays),
        Incoterm::Dap => {
            format!("DAP: the buyer pays {} of duty, import tax and fees on delivery.", totals.buyer_pays_on_delivery)
        }
    });
    let Notes { explanation, warnings, sources } = notes;
    let regime = Regime { id: regime_id.join("+"), summary: regime_summary(territory, &regime_id), sources };
    Ok(LandedCost {
        destination: shipment.to.clone(),
        territory: territory.id.clone(),
        date,
        incoterm: shipment.incoterm,
        currency,
        valuation: valuation.includes.clone(),
        duties,
        taxes,
        fees,
        totals,
        regime,
        explanation,
        fx: converted.fx,
        warnings,
    })
}

/// What an answer says besides its figures: the explanation, the warnings and the sources of the regime.
#[derive(Default)]
struct Notes {
    explanation: Vec<String>,
    warnings: Vec<String>,
    sources: Vec<Citation>,
}

impl Notes {
    /// A relief that applied: its sentence, its source, and a warning when the record is uncertain.
    fn relief(&mut self, what: &str, relief: &Relief, value: Decimal, currency: Currency) {
        self.explanation.push(format!(
            "No {what}: the consignment's {} value {} is at most {} ({}).",
            value_name(relief.value),
            money(value, currency),
            money(relief.max, currency),
            relief.source
        ));
        note_citation(&mut self.warnings, relief.citation(), &format!("{what} relief"));
        self.sources.push(relief.citation());
    }
}

fn known_countries(rules: &Rules) -> String {
    rules.territories.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(", ")
}

fn value_name(of: ValueOf) -> &'static str {
    match of {
        ValueOf::Intrinsic => "intrinsic (goods)",
        ValueOf::Customs => "customs",
    }
}

fn border_payer(incoterm: Incoterm) -> Payer {
    match incoterm {
        Incoterm::Ddp => Payer::Seller,
        Incoterm::Dap => Payer::Buyer,
    }
}

fn note_citation(warnings: &mut Vec<String>, citation: Citation, what: &str) {
    if citation.confidence == super::rules::Confidence::Uncertain {
        let note = citation.note.map(|n| format!(": {n}")).unwrap_or_default();
        warnings.push(format!("The {what} rule is uncertain ({}){note}", citation.source));
    }
}

fn regime_summary(territory: &Territory, ids: &[&str]) -> String {
    let parts: Vec<&str> = ids
        .iter()
        .map(|id| match *id {
            "duty_relief" => "no duty under the low-value relief",
            "flat_duty" => "the flat low-value duty instead of the tariff",
            "tariff" => "duty by the tariff",
            "tax_relief" => "no import tax under the low-value relief",
            "tax_at_sale" => "tax collected at checkout",
            _ => "",
        })
        .collect();
    format!("{}: {}.", territory.name, parts.join("; "))
}

/// Converts every amount of the shipment into `currency` at the FX table's rates on the shipment date.
fn convert(rules: &Rules, shipment: &Shipment, currency: Currency) -> Result<Converted, ApiError> {
    let mut fx: Vec<FxUsed> = Vec::new();
    let mut to_local = |amount: Money, field: String| -> Result<Decimal, ApiError> {
        if amount.minor < 0 {
            return Err(unprocessable("negative_amount", format!("{amount} is negative"), field));
        }
        if amount.currency == currency {
            return Ok(amount.to_decimal());
        }
        let (converted, row) =
            rules.fx.convert(amount.to_decimal(), amount.currency, currency, shipment.date).ok_or_else(|| {
                unprocessable(
                    "no_fx_rate",
                    format!(
                        "no FX rate {} → {} on or before {}; load a dated FX table",
                        amount.currency, currency, shipment.date
                    ),
                    field.clone(),
                )
            })?;
        if !fx.iter().any(|f| f.from == amount.currency) {
            let rate = rules
                .fx
                .convert(Decimal::ONE, amount.currency, currency, shipment.date)
                .map_or(Decimal::ZERO, |(rate, _)| rate.round_dp(10).normalize());
            fx.push(FxUsed { from: amount.currency, to: currency, rate, date: row.date, source: row.source.clone() });
        }
        Ok(converted)
    };
    let mut line_values = Vec::with_capacity(shipment.lines.len());
    for (i, line) in shipment.lines.iter().enumerate() {
        line.check_quantity(i)?;
        let unit = to_local(line.unit_value.0, format!("lines[{i}].unit_value"))?;
        line_values.push(unit * Decimal::from(line.quantity));
    }
    let shipping = shipment.shipping.map(|a| to_local(a.0, "shipping".into())).transpose()?.unwrap_or_default();
    let insurance = shipment.insurance.map(|a| to_local(a.0, "insurance".into())).transpose()?.unwrap_or_default();
    Ok(Converted { line_values, shipping, insurance, fx })
}

/// The first relief row in force whose channel, ship-from and origin filters match and whose threshold the
/// consignment is within.
fn matching_relief<'r>(
    reliefs: &'r [Relief],
    shipment: &Shipment,
    origins: &[&str],
    value_of: &dyn Fn(ValueOf) -> Decimal,
) -> Option<&'r Relief> {
    in_force(reliefs, shipment.date)
        .filter(|r| r.channels.is_empty() || r.channels.contains(&shipment.channel))
        .filter(|r| r.ship_from.is_empty() || r.ship_from.contains(&shipment.from))
        .find(|r| {
            // A row that excludes some origins does not cover a consignment holding them.
            !origins.iter().any(|o| r.origins_excluded.iter().any(|x| x == o))
        })
        .filter(|r| value_of(r.value) <= r.max)
}

/// One flat-duty line per distinct 6-digit subheading, per unit or per consignment.
fn flat_duty_lines(
    shipment: &Shipment,
    flat: &super::rules::FlatDuty,
    line_customs: &[Decimal],
    currency: Currency,
) -> Vec<DutyLine> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, line) in shipment.lines.iter().enumerate() {
        let key = match flat.per {
            FlatPer::Subheading => hs_digits(&line.hs_code).chars().take(6).collect(),
            FlatPer::Unit => format!("{i}"),
            FlatPer::Consignment => String::new(),
        };
        groups.entry(key).or_default().push(i);
    }
    groups
        .into_iter()
        .map(|(key, lines)| {
            let count = match flat.per {
                FlatPer::Unit => Decimal::from(shipment.lines[lines[0]].quantity),
                _ => Decimal::ONE,
            };
            let base: Decimal = lines.iter().map(|&i| line_customs[i]).sum();
            DutyLine {
                hs_code: if key.is_empty() { hs_digits(&shipment.lines[lines[0]].hs_code) } else { key },
                lines,
                basis: "flat".into(),
                rate: format!("{} × {count}", money(flat.amount, currency)),
                base: money(base, currency),
                amount: money(flat.amount * count, currency),
                source: flat.citation(),
            }
        })
        .collect()
}

/// A line's rate under one tariff row: what it charges on a customs value, for `quantity` units of
/// `unit_weight_g`.
struct Charge<'r> {
    row: Option<&'r TariffRow>,
    kind: RateKind,
    rate: Decimal,
    rate_currency: Option<Currency>,
    basis: String,
    citation: Citation,
}

impl Charge<'_> {
    fn label(&self) -> String {
        match self.kind {
            RateKind::AdValorem => percent_text(self.rate),
            RateKind::PerKg => format!(
                "{} {}/kg",
                self.rate.normalize(),
                self.rate_currency.map(|c| c.to_string()).unwrap_or_default()
            ),
            RateKind::PerUnit => format!(
                "{} {}/unit",
                self.rate.normalize(),
                self.rate_currency.map(|c| c.to_string()).unwrap_or_default()
            ),
        }
    }

    /// The group key lines share when a territory rounds per rate: same program, kind and rate.
    fn key(&self) -> (String, String) {
        (self.basis.clone(), self.label())
    }
}

fn tariff_duties(
    rules: &Rules,
    territory: &Territory,
    shipment: &Shipment,
    line_customs: &[Decimal],
    rounding: Option<&Rounding>,
    warnings: &mut Vec<String>,
) -> Result<Vec<DutyLine>, ApiError> {
    let date = shipment.date;
    let currency = territory.currency;
    // (basis, rate label) → lines, charge, in first-seen order.
    let mut groups: Vec<(Vec<usize>, Charge<'_>)> = Vec::new();
    let scope = rounding.and_then(|r| r.duty).map_or(Scope::Line, |s| s.scope);
    for (i, line) in shipment.lines.iter().enumerate() {
        let hs = hs_digits(&line.hs_code);
        let general = rules.tariff_row(&territory.id, &hs, None, date).ok_or_else(|| {
            unprocessable(
                "unknown_tariff",
                format!(
                    "no {} tariff rate for HS {hs} on {date}; load the seller's tariff CSV with a row for it",
                    territory.id
                ),
                format!("lines[{i}].hs_code"),
            )
        })?;
        let mut charges = vec![Charge {
            row: Some(general),
            kind: general.kind,
            rate: general.rate,
            rate_currency: general.currency,
            basis: "general".into(),
            citation: general.citation(),
        }];
        for program in in_force(&rules.programs, date).filter(|p| p.covers(&territory.id, &line.origin)) {
            let row = rules.tariff_row(&territory.id, &hs, Some(&program.id), date);
            let charge = match (row, program.default_rate) {
                (Some(row), _) => Charge {
                    row: Some(row),
                    kind: row.kind,
                    rate: row.rate,
                    rate_currency: row.currency,
                    basis: program.id.clone(),
                    citation: row.citation(),
                },
                (None, Some(rate)) => Charge {
                    row: None,
                    kind: RateKind::AdValorem,
                    rate,
                    rate_currency: None,
                    basis: program.id.clone(),
                    citation: program.citation(),
                },
                (None, None) => continue,
            };
            note_citation(warnings, charge.citation.clone(), &format!("{} duty", program.id));
            match program.kind {
                ProgramKind::Additional => charges.push(charge),
                ProgramKind::Preference => {
                    // The preference replaces the general rate only where it is lower for this line.
                    let general_amount = charge_amount(rules, &charges[0], line, line_customs[i], currency, date, i)?;
                    let preferred_amount = charge_amount(rules, &charge, line, line_customs[i], currency, date, i)?;
                    if preferred_amount < general_amount {
                        charges[0] = charge;
                    }
                }
            }
        }
        for charge in charges {
            if charge.row.is_some_and(|r| r.confidence == super::rules::Confidence::Uncertain)
                && charge.basis == "general"
            {
                warnings.push(format!(
                    "The {} rate for HS {hs} is from a sample row marked uncertain ({}).",
                    territory.id, charge.citation.source
                ));
            }
            let grouped = matches!(scope, Scope::Rate | Scope::Total);
            match groups.iter_mut().find(|(lines, c)| grouped && c.key() == charge.key() && !lines.contains(&i)) {
                Some((lines, _)) => lines.push(i),
                None => groups.push((vec![i], charge)),
            }
        }
    }
    let value_step = rounding.and_then(|r| r.value);
    let duty_step = rounding.and_then(|r| r.duty).filter(|s| s.scope != Scope::Total);
    groups
        .into_iter()
        .map(|(lines, charge)| {
            let exact_base: Decimal = lines.iter().map(|&i| line_customs[i]).sum();
            let base = value_step.map_or(exact_base, |s| s.apply(exact_base));
            let amount = match charge.kind {
                RateKind::AdValorem => base * charge.rate / Decimal::ONE_HUNDRED,
                _ => lines
                    .iter()
                    .map(|&i| charge_amount(rules, &charge, &shipment.lines[i], line_customs[i], currency, date, i))
                    .sum::<Result<Decimal, ApiError>>()?,
            };
            let amount = duty_step.map_or(amount, |s| s.apply(amount));
            let hs_code = hs_digits(&shipment.lines[lines[0]].hs_code);
            Ok(DutyLine {
                hs_code,
                rate: charge.label(),
                basis: charge.basis,
                base: money(base, currency),
                amount: money(amount, currency),
                source: charge.citation,
                lines,
            })
        })
        .collect()
}

/// One line's duty under a charge, exact, in the territory's currency.
fn charge_amount(
    rules: &Rules,
    charge: &Charge<'_>,
    line: &super::order::Line,
    customs_value: Decimal,
    currency: Currency,
    date: jiff::civil::Date,
    index: usize,
) -> Result<Decimal, ApiError> {
    let specific = |units: Decimal| -> Result<Decimal, ApiError> {
        let rate_currency = charge.rate_currency.unwrap_or(currency);
        let amount = units * charge.rate;
        if rate_currency == currency {
            return Ok(amount);
        }
        rules.fx.convert(amount, rate_currency, currency, date).map(|(local, _)| local).ok_or_else(|| {
            unprocessable(
                "no_fx_rate",
                format!("no FX rate {rate_currency} → {currency} on or before {date}"),
                format!("lines[{index}]"),
            )
        })
    };
    match charge.kind {
        RateKind::AdValorem => Ok(customs_value * charge.rate / Decimal::ONE_HUNDRED),
        RateKind::PerUnit => specific(Decimal::from(line.quantity)),
        RateKind::PerKg => {
            let grams = line.unit_weight_g.ok_or_else(|| {
                unprocessable(
                    "missing_weight",
                    format!("HS {} has a duty per kilogram: give the unit weight", line.hs_code),
                    format!("lines[{index}].unit_weight_g"),
                )
            })?;
            specific(Decimal::from(grams) * Decimal::from(line.quantity) / Decimal::ONE_THOUSAND)
        }
    }
}

/// Rounds a sum the territory rounds as a whole (`scope = "total"`), else leaves it as the groups rounded it.
fn round_total(exact: Decimal, step: Option<RoundingStep>, currency: Currency) -> Decimal {
    match step {
        Some(step) if step.scope == Scope::Total => step.apply(exact),
        _ => money(exact, currency).to_decimal(),
    }
}

struct TaxInputs<'a> {
    parts: &'a [Part],
    converted: &'a Converted,
    duty_total: Decimal,
    currency: Currency,
    collected: &'static str,
    payer: Payer,
    step: Option<RoundingStep>,
}

/// Import tax per component and rate: the base of each class of goods is its lines' share of the tax base.
fn tax_lines(rules: &Rules, shipment: &Shipment, inputs: TaxInputs<'_>) -> Result<Vec<TaxLine>, ApiError> {
    let TaxInputs { parts, converted, duty_total, currency, collected, payer, step } = inputs;
    let goods: Decimal = converted.line_values.iter().sum();
    let has = |p: Part| parts.contains(&p);
    let extra = if has(Part::Shipping) { converted.shipping } else { Decimal::ZERO }
        + if has(Part::Insurance) { converted.insurance } else { Decimal::ZERO }
        + if has(Part::Duty) { duty_total } else { Decimal::ZERO };
    let mut by_class: BTreeMap<String, Decimal> = BTreeMap::new();
    for (i, line) in shipment.lines.iter().enumerate() {
        let class = line.tax_class.clone().unwrap_or_else(|| "standard".into());
        if !rules.has_vat_class(&shipment.to, &class) {
            return Err(unprocessable(
                "unknown_tax_class",
                format!("{} has no tax class {class:?}", shipment.to),
                format!("lines[{i}].tax_class"),
            ));
        }
        let share = if goods.is_zero() { Decimal::ZERO } else { converted.line_values[i] / goods };
        *by_class.entry(class).or_default() += converted.line_values[i] + extra * share;
    }
    let mut lines = Vec::new();
    for (class, base) in by_class {
        let components = rules.vat_components(&shipment.to, shipment.subdivision.as_deref(), &class, shipment.date);
        if components.is_empty() {
            return Err(unprocessable(
                "no_tax_rate",
                format!("no {class} tax rate for {} in force on {}", shipment.to, shipment.date),
                "date",
            ));
        }
        for component in components {
            let exact = base * component.rate / Decimal::ONE_HUNDRED;
            let amount = step.map_or(exact, |s| s.apply(exact));
            lines.push(TaxLine {
                tax: component.tax.clone(),
                class: class.clone(),
                rate_percent: component.rate.normalize(),
                base: money(base, currency),
                amount: money(amount, currency),
                collected,
                payer,
                source: component.citation(),
            });
        }
    }
    Ok(lines)
}

fn fee_lines(
    territory: &Territory,
    shipment: &Shipment,
    value_of: &dyn Fn(ValueOf) -> Decimal,
    (border_charges, entry_filed): (Decimal, bool),
    currency: Currency,
    warnings: &mut Vec<String>,
) -> Vec<FeeLine> {
    let carrier = shipment.carrier.as_deref().unwrap_or_default();
    in_force(&territory.fees, shipment.date)
        .filter(|f| f.countries.is_empty() || f.countries.contains(&shipment.to))
        .filter(|f| f.channels.is_empty() || f.channels.contains(&shipment.channel))
        .filter(|f| f.incoterms.is_empty() || f.incoterms.contains(&shipment.incoterm))
        .filter(|f| f.carriers.is_empty() || f.carriers.iter().any(|c| c.eq_ignore_ascii_case(carrier)))
        .filter(|f| match f.when {
            FeeWhen::Always => true,
            FeeWhen::ChargesDue => border_charges > Decimal::ZERO,
            FeeWhen::EntryFiled => entry_filed,
        })
        .filter(|f| f.max.is_none_or(|m| value_of(f.value) <= m) && f.min_value.is_none_or(|m| value_of(f.value) >= m))
        .map(|f| {
            let count = Decimal::from(match f.per {
                FeePer::Consignment => 1,
                FeePer::Unit => shipment.lines.iter().map(|l| u64::from(l.quantity)).sum(),
                FeePer::Line => shipment.lines.len() as u64,
            });
            let fixed = f.amount.unwrap_or_default() * count;
            let percent = f.percent.map_or(Decimal::ZERO, |p| border_charges * p / Decimal::ONE_HUNDRED);
            let amount = (fixed + percent).max(f.minimum.unwrap_or_default());
            note_citation(warnings, f.citation(), &format!("{} fee", f.id));
            FeeLine {
                id: f.id.clone(),
                name: f.name.clone(),
                amount: money(amount, currency),
                payer: border_payer(shipment.incoterm),
                source: f.citation(),
            }
        })
        .collect()
}
