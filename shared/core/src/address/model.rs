//! The address contract: request and response types shared by the server, the CLI and the edge worker.
//! `docs/address.md` describes every field.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// One address to validate. Accepts the project's own shape, free text, and Shopify's address object as
/// it is (Shopify sends both `country` as a name and `country_code`, both `province` and `province_code`, so
/// these are separate fields rather than aliases; unknown Shopify fields such as `id` are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressRequest {
    /// ISO 3166-1 alpha-2 code, or a country name as Shopify sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependent_locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_kind: Option<CarrierKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarrierKind {
    /// Door-to-door couriers (UPS, FedEx, DHL Express, DPD …): no PO boxes, no military post.
    Courier,
    /// National postal services, which deliver to PO boxes and APO/FPO/DPO.
    Postal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressResult {
    pub verdict: Verdict,
    // Fields that usually hold a reference table's text (country and region codes, Pub 28 abbreviations) borrow
    // it: an answer is built without copying them.
    pub country: Cow<'static, str>,
    pub standardized: Standardized,
    pub components: Components,
    pub issues: Vec<Issue>,
    pub changes: Vec<Change>,
    pub flags: Flags,
    pub delivery_instructions: Option<String>,
    pub geocode: Option<Geocode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Valid,
    Fixable,
    Invalid,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standardized {
    pub lines: Vec<String>,
    pub locality: Option<String>,
    pub dependent_locality: Option<String>,
    pub region: Option<Cow<'static, str>>,
    pub region_code: Option<Cow<'static, str>>,
    pub postcode: Option<String>,
    pub organization: Option<String>,
    pub formatted: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Components {
    pub house_number: Option<String>,
    pub pre_directional: Option<Cow<'static, str>>,
    pub street_name: Option<String>,
    pub street_suffix: Option<Cow<'static, str>>,
    pub post_directional: Option<Cow<'static, str>>,
    pub unit_type: Option<Cow<'static, str>>,
    pub unit_number: Option<String>,
    pub po_box: Option<String>,
    pub military: Option<BoxUnit>,
    pub rural_route: Option<BoxUnit>,
    pub locality: Option<String>,
    pub region: Option<Cow<'static, str>>,
    pub postcode: Option<String>,
    pub zip4: Option<String>,
}

/// A numbered unit with a box: `PSC 1234 BOX 5678` (military) or `RR 2 BOX 152` (rural route).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxUnit {
    pub kind: String,
    pub number: String,
    #[serde(rename = "box")]
    pub box_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub code: IssueCode,
    // Borrowed where the text is fixed (most fields and messages): an answer is built without copying them.
    pub field: Cow<'static, str>,
    pub severity: Severity,
    pub message: Cow<'static, str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    EmptyAddress,
    MissingStreet,
    MissingHouseNumber,
    MissingLocality,
    MissingRegion,
    MissingPostcode,
    PostcodeFormat,
    UnknownRegion,
    PostcodeRegionMismatch,
    PostcodeLocalityMismatch,
    UnknownPostcode,
    MissingUnitNumber,
    PoBoxNotAllowedForCourier,
    MilitaryNotAllowedForCourier,
    MilitaryRegionMismatch,
    VagueLocation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub field: Cow<'static, str>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Case, abbreviations, spacing, punctuation: the address meant the same before.
    Standardize,
    /// Content added from other parts of the address (a region from the postcode).
    Infer,
    /// Content replaced (a misspelt locality, a postcode with a dropped leading zero).
    Correct,
    /// Text moved out of the address (a delivery hint).
    Move,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flags {
    pub po_box: bool,
    pub military: bool,
    pub residential: Residential,
    pub remote_area: Option<RemoteArea>,
    pub vague_location: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Residential {
    pub value: Tristate,
    pub reason: Cow<'static, str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tristate {
    Yes,
    No,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteArea {
    pub list: String,
    pub name: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Geocode {
    pub lat: f64,
    pub lon: f64,
    pub precision: GeoPrecision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeoPrecision {
    Postcode,
    OutwardCode,
    Fsa,
}

/// A batch of addresses: `{"addresses": [...]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchRequest {
    pub addresses: Vec<serde_json::Value>,
}

/// One answer per address of a batch, in order: a result, or the error that address alone caused.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchResponse {
    pub results: Vec<BatchItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BatchItem {
    Ok(Box<AddressResult>),
    Err(crate::contract::ErrorBody),
}
