//! Where a tracked parcel should arrive, as the POD checks and the stall clock need it, worked out from the
//! router's decision: the country and region the decision keeps, the postcode from the routing address's
//! personal item (while it is kept), the point as that postcode's centroid in the address reference data, the
//! area type from the address engine's flags, and the destination's time zone.
//!
//! Area type: the address engine has no urban/rural classification, only flags. A postcode on a remote-area list
//! is `remote`; an address the engine reads as a business (a company, an industrial estate) is `urban`; any other
//! is `suburban`, the middle setting of the suspect-delivery distances. `rural` is never inferred.

use lastmile_core::address;
use lastmile_core::tracking::pod::AreaType;
use lastmile_platform::repo::tracking::TrackedDestination;
use serde_json::Value;

/// The destination of an order from its decision's `address` (no personal fields) and the routing address's
/// personal item (`{"standardized": {...}}`), when still kept.
pub fn from_decision(address: &Value, personal: Option<&Value>) -> TrackedDestination {
    let country = address["country"].as_str().unwrap_or_default().to_uppercase();
    let region = address["region_code"].as_str();
    let postcode = personal
        .and_then(|p| p["standardized"]["postcode"].as_str())
        .map(str::to_owned)
        .filter(|p| !p.trim().is_empty());
    let point = postcode.as_deref().and_then(|p| address::postcode_centroid(&country, p));
    let flags = &address["flags"];
    let area = if !flags["remote_area"].is_null() {
        AreaType::Remote
    } else if flags["residential"]["value"] == "no" {
        AreaType::Urban
    } else {
        AreaType::Suburban
    };
    let time_zone = time_zone(&country, region).to_owned();
    TrackedDestination { country, postcode, point, area, time_zone }
}

/// The IANA zone of a destination: by state or province where a country spans several, else the country's.
/// Where the region is unknown, the zone of most of the country's population.
pub fn time_zone(country: &str, region: Option<&str>) -> &'static str {
    let region = region.unwrap_or_default();
    match country {
        "US" => match region {
            "AL" | "AR" | "IL" | "IA" | "KS" | "LA" | "MN" | "MS" | "MO" | "NE" | "ND" | "OK" | "SD" | "TN" | "TX"
            | "WI" => "America/Chicago",
            "CO" | "ID" | "MT" | "NM" | "UT" | "WY" => "America/Denver",
            "AZ" => "America/Phoenix",
            "CA" | "NV" | "OR" | "WA" => "America/Los_Angeles",
            "AK" => "America/Anchorage",
            "HI" => "Pacific/Honolulu",
            "PR" => "America/Puerto_Rico",
            _ => "America/New_York",
        },
        "CA" => match region {
            "BC" => "America/Vancouver",
            "AB" | "NT" => "America/Edmonton",
            "SK" => "America/Regina",
            "MB" => "America/Winnipeg",
            "NS" | "PE" => "America/Halifax",
            "NB" => "America/Moncton",
            "NL" => "America/St_Johns",
            "YT" => "America/Whitehorse",
            "NU" => "America/Iqaluit",
            _ => "America/Toronto",
        },
        "AU" => match region {
            "QLD" => "Australia/Brisbane",
            "SA" => "Australia/Adelaide",
            "NT" => "Australia/Darwin",
            "WA" => "Australia/Perth",
            "TAS" => "Australia/Hobart",
            "VIC" => "Australia/Melbourne",
            _ => "Australia/Sydney",
        },
        "GB" => "Europe/London",
        "IE" => "Europe/Dublin",
        "DE" => "Europe/Berlin",
        "AT" => "Europe/Vienna",
        "CH" => "Europe/Zurich",
        "FR" => "Europe/Paris",
        "BE" => "Europe/Brussels",
        "NL" => "Europe/Amsterdam",
        "LU" => "Europe/Luxembourg",
        "IT" => "Europe/Rome",
        "ES" => "Europe/Madrid",
        "PT" => "Europe/Lisbon",
        "DK" => "Europe/Copenhagen",
        "SE" => "Europe/Stockholm",
        "NO" => "Europe/Oslo",
        "FI" => "Europe/Helsinki",
        "PL" => "Europe/Warsaw",
        "CZ" => "Europe/Prague",
        "JP" => "Asia/Tokyo",
        "NZ" => "Pacific/Auckland",
        "SG" => "Asia/Singapore",
        "HK" => "Asia/Hong_Kong",
        "MX" => "America/Mexico_City",
        _ => "UTC",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_remote_postcode_is_remote_and_a_business_urban() {
        let remote = json!({"country": "GB", "flags": {"remote_area": {"list": "x"}, "residential": {"value": "yes"}}});
        assert_eq!(from_decision(&remote, None).area, AreaType::Remote);
        let business = json!({"country": "DE", "flags": {"remote_area": null, "residential": {"value": "no"}}});
        assert_eq!(from_decision(&business, None).area, AreaType::Urban);
        let home = json!({"country": "DE", "flags": {"remote_area": null, "residential": {"value": "unknown"}}});
        assert_eq!(from_decision(&home, None).area, AreaType::Suburban);
    }

    #[test]
    fn the_zone_follows_the_state() {
        assert_eq!(time_zone("US", Some("CA")), "America/Los_Angeles");
        assert_eq!(time_zone("US", None), "America/New_York");
        assert_eq!(time_zone("DE", Some("BY")), "Europe/Berlin");
        assert_eq!(time_zone("AU", Some("WA")), "Australia/Perth");
    }

    #[test]
    fn the_point_is_the_postcode_centroid_when_the_postcode_is_kept() {
        let address = json!({"country": "US", "region_code": "NY", "flags": {"residential": {"value": "yes"}}});
        let kept = json!({"standardized": {"postcode": "10001-1234"}});
        let destination = from_decision(&address, Some(&kept));
        assert_eq!(destination.postcode.as_deref(), Some("10001-1234"));
        // ZIP 10001 is Manhattan (Chelsea): about 40.75 N, 74.00 W.
        let (lat, lon) = destination.point.expect("centroid of 10001");
        assert!((lat - 40.75).abs() < 0.05 && (lon + 74.0).abs() < 0.05, "{lat},{lon}");
        assert_eq!(from_decision(&address, None).point, None);
    }
}
