#![allow(clippy::expect_used)]
//! Properties of the address engine over arbitrary input: it never panics, and standardizing a standardized
//! address changes nothing.

use lastmile_core::address::{AddressRequest, AddressResult, validate};
use proptest::prelude::*;

const COUNTRIES: &[&str] = &["US", "GB", "CA", "DE", "FR", "AU", "JP", "NL", "BR", "CN", "IN"];

/// Address-like text: words that the parsers react to, numbers, punctuation and arbitrary Unicode.
fn address_text() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("PO Box".to_owned()),
        Just("Apt".to_owned()),
        Just("#".to_owned()),
        Just("near the school".to_owned()),
        Just("N".to_owned()),
        Just("Street".to_owned()),
        Just("Ave".to_owned()),
        Just("APO AE".to_owned()),
        Just("PSC".to_owned()),
        Just("〒100-0001".to_owned()),
        Just("東京都".to_owned()),
        Just("学校旁边".to_owned()),
        Just(",".to_owned()),
        Just("\n".to_owned()),
        "[0-9]{1,6}",
        "[A-Za-z]{1,10}",
        "[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]",
        any::<String>(),
    ];
    proptest::collection::vec(word, 0..12).prop_map(|words| words.join(" "))
}

fn restandardize(country: &str, first: &AddressResult) -> AddressRequest {
    let s = &first.standardized;
    AddressRequest {
        country: Some(country.to_owned()),
        lines: s.lines.clone(),
        locality: s.locality.clone(),
        region: s.region.as_deref().map(str::to_owned),
        postcode: s.postcode.clone(),
        organization: s.organization.clone(),
        ..AddressRequest::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn validating_arbitrary_text_never_panics(country in proptest::sample::select(COUNTRIES), text in address_text()) {
        let request = AddressRequest { country: Some(country.to_owned()), text: Some(text), ..AddressRequest::default() };
        let _ = validate(&request);
    }

    #[test]
    fn validating_arbitrary_fields_never_panics(
        country in proptest::sample::select(COUNTRIES),
        lines in proptest::collection::vec(any::<String>(), 0..4),
        locality in proptest::option::of(any::<String>()),
        region in proptest::option::of(any::<String>()),
        postcode in proptest::option::of(any::<String>()),
    ) {
        let request = AddressRequest { country: Some(country.to_owned()), lines, locality, region, postcode, ..AddressRequest::default() };
        let _ = validate(&request);
    }

    #[test]
    fn standardizing_is_idempotent(country in proptest::sample::select(COUNTRIES), text in address_text()) {
        let request = AddressRequest { country: Some(country.to_owned()), text: Some(text), ..AddressRequest::default() };
        if let Ok(first) = validate(&request) {
            let second = validate(&restandardize(country, &first)).expect("a standardized address is readable");
            prop_assert_eq!(&second.standardized, &first.standardized);
            let third = validate(&restandardize(country, &second)).expect("readable");
            prop_assert_eq!(&third.standardized, &second.standardized);
        }
    }
}

/// Found by the idempotence property: a unit designator that is neither a digit nor Latin ("Apt Σ") after an
/// abbreviated suffix made the standardized line look like a hint on the second pass.
#[test]
fn a_landmark_named_street_with_a_unit_stays_a_street_when_standardized_again() {
    let request = AddressRequest {
        country: Some("US".into()),
        text: Some("near the school Street , Apt Σ:(A".into()),
        ..AddressRequest::default()
    };
    let first = validate(&request).expect("readable");
    let second = validate(&restandardize("US", &first)).expect("readable");
    assert_eq!(second.standardized, first.standardized);
}
