//! The address engine: validates and standardizes a delivery address for any country in Google's
//! libaddressinput metadata, with deeper rules for the US (USPS Publication 28) and postcode data for US, GB,
//! CA, DE, AT, FR and AU. `docs/address.md` is the contract.

pub mod api;
mod format;
pub mod hints;
mod index;
pub mod intl;
pub mod model;
pub mod postcode;
pub mod refdata;
pub mod remote;
mod residential;
pub mod us;
mod validate;
pub mod wordmap;

pub use model::*;
pub use validate::validate;

/// The centroid of a postcode's area in the reference data (the US ZIP5, the GB outward code, the CA FSA), when
/// the country has postcode data: the point a check compares a delivery's GPS with when no geocode is kept.
pub fn postcode_centroid(country: &str, postcode: &str) -> Option<(f64, f64)> {
    let standardized = postcode.trim().to_uppercase();
    index::postcode_info(country, &validate::lookup_key(country, &standardized))?.centroid()
}

/// The first-level subdivision of a postcode's area in the reference data (US state, DE Land, AU state, CA
/// province, GB nation), as the holiday calendars name subdivisions: a delivery's regional holidays. `None` where
/// the country has no postcode data or the postcode is unknown.
pub fn postcode_subdivision(country: &str, postcode: &str) -> Option<&'static str> {
    let standardized = postcode.trim().to_uppercase();
    let info = index::postcode_info(country, &validate::lookup_key(country, &standardized))?;
    Some(info.admin).filter(|admin| !admin.is_empty())
}

/// Parses every reference table now rather than on the first request, so a server's first answer is as fast
/// as the others and its memory use is known at start-up.
pub fn preload() -> usize {
    let formats = refdata::formats().len();
    let _ = refdata::country_of("US");
    let usps = refdata::usps().suffixes.len();
    let postcodes: usize =
        ["US", "DE", "AT", "AU", "CA", "GB", "FR"].iter().filter_map(|c| refdata::postcodes(c)).map(|t| t.len()).sum();
    let _ = hints::extract("");
    formats + usps + postcodes + remote::rule_count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postcode_names_the_subdivision_its_holidays_are_kept_under() {
        assert_eq!(postcode_subdivision("DE", "80331"), Some("BY"));
        assert_eq!(postcode_subdivision("DE", "10115"), Some("BE"));
        assert_eq!(postcode_subdivision("US", "99501"), Some("AK"));
        assert_eq!(postcode_subdivision("US", "99501-1234"), Some("AK"));
        assert_eq!(postcode_subdivision("AU", "2000"), Some("NSW"));
        assert_eq!(postcode_subdivision("GB", "sw1a 1aa"), Some("ENG"));
        assert_eq!(postcode_subdivision("DE", "00000"), None);
        assert_eq!(postcode_subdivision("NL", "1012 AB"), None, "no postcode data");
    }
}
