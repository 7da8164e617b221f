//! What customs sees of an order: who sends what to whom, on which date, under which incoterm. The same value
//! feeds the landed-cost engine, the pre-check and the commercial invoice.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::amount::Amount;

/// Who pays duties and import taxes: the seller (delivered duty paid) or the buyer at the door (delivered at
/// place).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Incoterm {
    Ddp,
    Dap,
}

/// How the parcel crosses the border: thresholds differ (Canada's courier and postal remission orders) and so do
/// the handling fees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Courier,
    Postal,
}

/// A party on the commercial invoice, with the identifiers customs asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    #[serde(default)]
    pub name: String,
    /// Street lines, city, postcode, as printed.
    #[serde(default)]
    pub address: Vec<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country: String,
    /// EU/GB Economic Operators Registration and Identification number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eori: Option<String>,
    /// EU Import One-Stop Shop number (`IM` + 10 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ioss_number: Option<String>,
    /// UK VAT registration number (`GB` + 9 digits), for VAT collected at sale on consignments ≤ £135.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uk_vat_number: Option<String>,
    /// Australian GST registration (ABN or ARN) for GST collected at sale on goods ≤ A$1,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub au_gst_id: Option<String>,
    /// Norwegian VOEC number, for VAT collected at sale on goods below NOK 3,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voec_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Party {
    /// The registration a tax-at-sale rule names (`ioss_number`, `uk_vat_number`, `au_gst_id`, `voec_number`),
    /// when given and not blank.
    pub fn registration(&self, which: &str) -> Option<&str> {
        match which {
            "ioss_number" => self.ioss_number.as_deref(),
            "uk_vat_number" => self.uk_vat_number.as_deref(),
            "au_gst_id" => self.au_gst_id.as_deref(),
            "voec_number" => self.voec_number.as_deref(),
            _ => None,
        }
        .filter(|v| !v.trim().is_empty())
    }
}

/// Dangerous-goods content a line declares; customs and carriers want it stated, not guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DangerousGoods {
    /// No dangerous goods: declared as such.
    None,
    /// Lithium-ion cells or batteries packed with or contained in equipment (UN3481).
    LithiumIonInEquipment,
    /// Lithium-ion batteries on their own (UN3480).
    LithiumIonBatteries,
    /// Lithium-metal cells or batteries (UN3090/UN3091).
    LithiumMetal,
    /// Other dangerous goods, declared with the carrier's own paperwork.
    Other,
}

/// One invoice line: a kind of goods, its classification, origin and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub description: String,
    /// Harmonized System code, digits only (`94016100`); dots and spaces are removed when read.
    pub hs_code: String,
    /// Country of origin (where the goods were made), ISO 3166-1 alpha-2.
    pub origin: String,
    pub unit_value: Amount,
    pub quantity: u32,
    /// Net weight of one unit, for specific duties per kilogram and the invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_weight_g: Option<u64>,
    /// VAT/GST class at the destination (`standard`, `reduced`, `reduced_2`, `super_reduced`, `zero`); standard
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dangerous_goods: Option<DangerousGoods>,
}

impl Line {
    /// A line ships at least one unit; `index` names it in the error.
    pub fn check_quantity(&self, index: usize) -> Result<(), crate::contract::ApiError> {
        if self.quantity == 0 {
            return Err(crate::contract::ApiError::new(422, "invalid_quantity", "quantity must be at least 1")
                .with_field(format!("lines[{index}].quantity")));
        }
        Ok(())
    }
}

/// A shipment as customs sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shipment {
    /// Destination country, ISO 3166-1 alpha-2.
    pub to: String,
    /// Destination subdivision where taxes differ by it (Canadian province: `ON`, `QC` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdivision: Option<String>,
    /// Country the parcel is shipped from (the warehouse), which is not always the goods' origin.
    pub from: String,
    /// The shipment date: every rule is applied as of this day.
    pub date: Date,
    pub incoterm: Incoterm,
    #[serde(default)]
    pub channel: Channel,
    /// Carrier name, for carrier-specific fees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub lines: Vec<Line>,
    /// International transport charged for this shipment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance: Option<Amount>,
    #[serde(default)]
    pub seller: Party,
    #[serde(default)]
    pub buyer: Party,
    /// Reason for export on the invoice; `sale` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_for_export: Option<String>,
    /// The seller's order reference, printed on the invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// `9401.61.00` → `94016100`: the digits of an HS code.
pub fn hs_digits(code: &str) -> String {
    code.chars().filter(|c| !matches!(c, '.' | ' ' | '-')).collect()
}
