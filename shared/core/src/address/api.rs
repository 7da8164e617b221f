//! The address routes' request handling, from body bytes to the answer, shared by every front end (`lastmile
//! dev`, Lambda, the edge worker) so that the same body gets the same answer and the same errors everywhere.

use super::{AddressRequest, AddressResult, BatchItem, BatchRequest, BatchResponse, CarrierKind, validate};
use crate::contract::{self, ApiError, MAX_ADDRESS_BODY_BYTES, MAX_BATCH_ADDRESSES, MAX_BATCH_BODY_BYTES};

/// What the caller's configuration fills in where a request leaves it open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Defaults {
    pub carrier_kind: Option<CarrierKind>,
}

impl Defaults {
    fn apply(self, mut request: AddressRequest) -> AddressRequest {
        if request.carrier_kind.is_none() {
            request.carrier_kind = self.carrier_kind;
        }
        request
    }
}

/// `POST /v1/address/validate`: one address.
pub fn validate_body(body: &[u8], defaults: Defaults) -> Result<AddressResult, ApiError> {
    let request: AddressRequest = contract::parse_json_body(body, MAX_ADDRESS_BODY_BYTES)?;
    validate(&defaults.apply(request))
}

/// `POST /v1/address/validate/batch`: up to [`MAX_BATCH_ADDRESSES`] addresses. An address that cannot be read
/// gets its own error object, with its index in the field path, without failing the batch.
pub fn validate_batch_body(body: &[u8], defaults: Defaults) -> Result<BatchResponse, ApiError> {
    let batch: BatchRequest = contract::parse_json_body(body, MAX_BATCH_BODY_BYTES)?;
    if batch.addresses.len() > MAX_BATCH_ADDRESSES {
        return Err(ApiError::new(
            422,
            "too_many_addresses",
            format!("{} addresses given: at most {MAX_BATCH_ADDRESSES} per batch", batch.addresses.len()),
        )
        .with_field("addresses"));
    }
    let results = batch
        .addresses
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let item = serde_json::from_value::<AddressRequest>(value)
                .map_err(|e| ApiError::new(422, "invalid_type", format!("address {i} has a wrong type: {e}")))
                .and_then(|request| validate(&defaults.apply(request)));
            match item {
                Ok(result) => BatchItem::Ok(Box::new(result)),
                Err(mut e) => {
                    e.field = Some(format!("addresses[{i}]{}", e.field.map(|f| format!(".{f}")).unwrap_or_default()));
                    BatchItem::Err(e.body())
                }
            }
        })
        .collect();
    Ok(BatchResponse { results })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_only_what_the_request_leaves_open() {
        let courier = Defaults { carrier_kind: Some(CarrierKind::Courier) };
        let po_box = br#"{"country":"US","lines":["PO Box 12"],"city":"Springfield","state":"IL","zip":"62701"}"#;
        let result = validate_body(po_box, courier).unwrap();
        assert!(result.issues.iter().any(|i| i.code == super::super::IssueCode::PoBoxNotAllowedForCourier));
        let postal = br#"{"country":"US","lines":["PO Box 12"],"city":"Springfield","state":"IL","zip":"62701","carrier_kind":"postal"}"#;
        let result = validate_body(postal, courier).unwrap();
        assert!(!result.issues.iter().any(|i| i.code == super::super::IssueCode::PoBoxNotAllowedForCourier));
    }

    #[test]
    fn a_bad_address_in_a_batch_fails_alone_with_its_index() {
        let body = br#"{"addresses":[{"country":"US","text":"1 Main St, Springfield IL 62701"},{"country":7}]}"#;
        let response = validate_batch_body(body, Defaults::default()).unwrap();
        assert!(matches!(response.results[0], BatchItem::Ok(_)));
        let BatchItem::Err(error) = &response.results[1] else { panic!("second address is an error") };
        assert_eq!(error.error.code, "invalid_type");
        assert_eq!(error.error.field.as_deref(), Some("addresses[1]"));
    }

    #[test]
    fn batches_over_the_limit_are_refused() {
        let one = r#"{"country":"US","text":"1 Main St"}"#;
        let body = format!(r#"{{"addresses":[{}]}}"#, vec![one; MAX_BATCH_ADDRESSES + 1].join(","));
        let error = validate_batch_body(body.as_bytes(), Defaults::default()).unwrap_err();
        assert_eq!((error.status, error.code), (422, "too_many_addresses"));
    }
}
