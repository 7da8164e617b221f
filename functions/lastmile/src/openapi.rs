//! The OpenAPI 3.1 document, generated from the routers' route tables so that every served route is
//! documented (a test checks the other direction: every documented route is served).

use lastmile_core::contract::{MAX_ADDRESS_LINES, MAX_BATCH_ADDRESSES};
use serde_json::{Map, Value, json};

pub fn document() -> Value {
    let mut paths = Map::new();
    for route in crate::app::route_docs() {
        let mut operation = route.operation.clone();
        if let (true, Some(op)) = (route.authenticated, operation.as_object_mut()) {
            op.insert("security".into(), json!([{"apiKey": []}]));
        }
        let entry = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        if let Some(entry) = entry.as_object_mut() {
            entry.insert(route.method.to_owned(), operation);
        }
    }
    // The tenant routes a dashboard session reaches: the same operations under the prefix, by cookie.
    for route in crate::app::dashboard_api_docs() {
        let mut operation = route.operation.clone();
        if let Some(op) = operation.as_object_mut() {
            op.insert("security".into(), json!([{"dashboardSession": []}]));
            if let Some(Value::String(id)) = op.get_mut("operationId") {
                let mut chars = id.chars();
                *id = format!(
                    "dashboard{}{}",
                    chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or_default(),
                    chars.as_str()
                );
            }
        }
        let entry = paths.entry(format!("{}{}", crate::dashboard::API_PREFIX, route.path)).or_insert_with(|| json!({}));
        if let Some(entry) = entry.as_object_mut() {
            entry.insert(route.method.to_owned(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "lastmile",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Last-mile logistics engine for cross-border sellers. Errors are `{\"error\":{\"code\",\"message\",\"field\"}}` with a 4xx status.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "Per-tenant API key (lmk_…)"},
                "dashboardSession": {"type": "apiKey", "in": "cookie", "name": crate::dashboard::session::SESSION_COOKIE, "description": "The dashboard's session (POST /dashboard/login); every request but a GET also needs the page's X-CSRF-Token and a same-origin Origin"}
            },
            "responses": {
                "BadRequest": error_response("The body is empty, not UTF-8 or not JSON"),
                "Unauthorized": error_response("No API key, or an unknown or revoked one"),
                "PayloadTooLarge": error_response("The body is over the route's limit"),
                "Unprocessable": error_response("The JSON has a wrong type, an unknown country or too many lines or addresses")
            },
            "schemas": schemas()
        }
    })
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

fn schemas() -> Value {
    let s = || json!({"type": "string"});
    let box_unit =
        json!({"type": ["object", "null"], "properties": {"kind": s(), "number": s(), "box": nullable_string()}});
    let mut schemas = json!({
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": s(), "message": s(), "field": nullable_string()}}}
        },
        "Health": {"type": "object", "properties": {"status": s(), "version": s(), "reference_rows": {"type": "integer"}}},
        "AddressRequest": {
            "type": "object",
            "description": "Country plus free text, or lines + locality/region/postcode, or Shopify's address object.",
            "properties": {
                "country": s(), "country_code": s(), "text": s(),
                "lines": {"type": "array", "items": s(), "maxItems": MAX_ADDRESS_LINES},
                "address1": s(), "address2": s(), "locality": s(), "city": s(), "dependent_locality": s(),
                "region": s(), "province_code": s(), "province": s(), "state": s(),
                "postcode": s(), "zip": s(), "organization": s(), "company": s(), "name": s(), "phone": s(),
                "carrier_kind": {"type": "string", "enum": ["courier", "postal"]}
            }
        },
        "AddressResult": {
            "type": "object",
            "required": ["verdict", "country", "standardized", "components", "issues", "changes", "flags", "delivery_instructions", "geocode"],
            "properties": {
                "verdict": {"type": "string", "enum": ["valid", "fixable", "invalid"]},
                "country": s(),
                "standardized": {"type": "object", "properties": {
                    "lines": {"type": "array", "items": s()}, "locality": nullable_string(), "dependent_locality": nullable_string(),
                    "region": nullable_string(), "region_code": nullable_string(), "postcode": nullable_string(),
                    "organization": nullable_string(), "formatted": {"type": "array", "items": s()}
                }},
                "components": {"type": "object", "properties": {
                    "house_number": nullable_string(), "pre_directional": nullable_string(), "street_name": nullable_string(),
                    "street_suffix": nullable_string(), "post_directional": nullable_string(), "unit_type": nullable_string(),
                    "unit_number": nullable_string(), "po_box": nullable_string(), "military": box_unit.clone(), "rural_route": box_unit,
                    "locality": nullable_string(), "region": nullable_string(), "postcode": nullable_string(), "zip4": nullable_string()
                }},
                "issues": {"type": "array", "items": {"type": "object", "properties": {
                    "code": s(), "field": s(), "severity": {"type": "string", "enum": ["info", "warning", "error"]}, "message": s()
                }}},
                "changes": {"type": "array", "items": {"type": "object", "properties": {
                    "kind": {"type": "string", "enum": ["standardize", "infer", "correct", "move"]}, "field": s(), "from": nullable_string(), "to": nullable_string()
                }}},
                "flags": {"type": "object", "properties": {
                    "po_box": {"type": "boolean"}, "military": {"type": "boolean"},
                    "residential": {"type": "object", "properties": {"value": {"type": "string", "enum": ["yes", "no", "unknown"]}, "reason": s()}},
                    "remote_area": {"type": ["object", "null"], "properties": {"list": s(), "name": s(), "source": s()}},
                    "vague_location": {"type": "boolean"}
                }},
                "delivery_instructions": nullable_string(),
                "geocode": {"type": ["object", "null"], "properties": {
                    "lat": {"type": "number"}, "lon": {"type": "number"}, "precision": {"type": "string", "enum": ["postcode", "outward_code", "fsa"]}
                }}
            }
        },
        "BatchRequest": {
            "type": "object", "required": ["addresses"],
            "properties": {"addresses": {"type": "array", "maxItems": MAX_BATCH_ADDRESSES, "items": {"$ref": "#/components/schemas/AddressRequest"}}}
        },
        "BatchResponse": {
            "type": "object",
            "properties": {"results": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/AddressResult"}, {"$ref": "#/components/schemas/Error"}]}}}
        }
    });
    for extra in [quote_schemas(), duty_schemas()] {
        if let (Some(all), serde_json::Value::Object(extra)) = (schemas.as_object_mut(), extra) {
            all.extend(extra);
        }
    }
    schemas
}

/// The schemas of the duty routes.
fn duty_schemas() -> serde_json::Value {
    let s = || json!({"type": "string"});
    let amount = || {
        json!({"description": "`\"120.00 EUR\"`, or minor units and a currency", "oneOf": [
            {"type": "string"},
            {"type": "object", "required": ["minor", "currency"], "properties": {"minor": {"type": "integer"}, "currency": {"type": "string"}}}
        ]})
    };
    let money = || json!({"$ref": "#/components/schemas/Money"});
    let party = json!({"type": "object", "additionalProperties": false, "properties": {
        "name": s(), "address": {"type": "array", "items": s()}, "country": s(), "eori": s(), "ioss_number": s(),
        "uk_vat_number": s(), "au_gst_id": s(), "voec_number": s(), "email": s(), "phone": s()
    }});
    let citation = json!({"type": "object", "properties": {"source": s(), "confidence": {"type": "string", "enum": ["certain", "uncertain"]}, "note": s()}});
    json!({
        "Money": {"type": "object", "required": ["minor", "currency"], "properties": {"minor": {"type": "integer"}, "currency": s()}},
        "Shipment": {
            "type": "object", "required": ["to", "from", "date", "incoterm", "lines"], "additionalProperties": false,
            "properties": {
                "to": {"type": "string", "description": "Destination country (ISO 3166-1 alpha-2)"},
                "subdivision": {"type": "string", "description": "Canadian province and the like, where taxes differ"},
                "from": {"type": "string", "description": "Country shipped from (the warehouse)"},
                "date": {"type": "string", "format": "date", "description": "Shipment date: the rules in force on it apply"},
                "incoterm": {"type": "string", "enum": ["DDP", "DAP"]},
                "channel": {"type": "string", "enum": ["courier", "postal"]},
                "carrier": s(),
                "lines": {"type": "array", "items": {"type": "object", "required": ["description", "hs_code", "origin", "unit_value", "quantity"], "additionalProperties": false, "properties": {
                    "description": s(), "hs_code": s(), "origin": s(), "unit_value": amount(), "quantity": {"type": "integer", "minimum": 1},
                    "unit_weight_g": {"type": "integer"}, "tax_class": s(),
                    "dangerous_goods": {"type": "string", "enum": ["none", "lithium_ion_in_equipment", "lithium_ion_batteries", "lithium_metal", "other"]}
                }}},
                "shipping": amount(), "insurance": amount(),
                "seller": party.clone(), "buyer": party,
                "reason_for_export": s(), "reference": s()
            }
        },
        "LandedCost": {
            "type": "object",
            "properties": {
                "destination": s(), "territory": s(), "date": s(), "incoterm": s(), "currency": s(),
                "valuation": {"type": "array", "items": s()},
                "duties": {"type": "array", "items": {"type": "object", "properties": {"lines": {"type": "array", "items": {"type": "integer"}}, "hs_code": s(), "basis": s(), "rate": s(), "base": money(), "amount": money(), "source": citation.clone()}}},
                "taxes": {"type": "array", "items": {"type": "object", "properties": {"tax": s(), "class": s(), "rate_percent": s(), "base": money(), "amount": money(), "collected": {"type": "string", "enum": ["border", "checkout"]}, "payer": s(), "source": citation.clone()}}},
                "fees": {"type": "array", "items": {"type": "object", "properties": {"id": s(), "name": s(), "amount": money(), "payer": s(), "source": citation.clone()}}},
                "totals": {"type": "object", "additionalProperties": money()},
                "regime": {"type": "object", "properties": {"id": s(), "summary": s(), "sources": {"type": "array", "items": citation}}},
                "explanation": {"type": "array", "items": s()},
                "fx": {"type": "array", "items": {"type": "object"}},
                "warnings": {"type": "array", "items": s()}
            }
        },
        "OrderAccepted": {
            "type": "object", "required": ["status", "event_id", "order_id", "needs_address"],
            "properties": {
                "status": {"type": "string", "enum": ["queued", "duplicate"]},
                "event_id": s(), "order_id": s(),
                "needs_address": {"type": "boolean", "description": "No shipping address: the order waits for one instead of being routed"}
            }
        },
        "PrecheckAnswer": {
            "type": "object", "required": ["ready", "problems"],
            "properties": {
                "ready": {"type": "boolean"},
                "problems": {"type": "array", "items": {"type": "object", "required": ["code", "field", "severity", "message"], "properties": {
                    "code": s(), "field": s(), "severity": {"type": "string", "enum": ["blocking", "warning"]}, "message": s()
                }}}
            }
        },
        "CommercialInvoice": {"type": "object", "description": "Seller, buyer, incoterm, lines with HS code, origin and values, totals, declaration and signature block"}
    })
}

/// The schemas of the quote routes (its own `json!`, which would otherwise exceed the macro recursion limit).
fn quote_schemas() -> serde_json::Value {
    let s = || json!({"type": "string"});
    json!({
        "QuoteRequest": {
            "type": "object", "required": ["to"], "additionalProperties": false,
            "properties": {
                "from": {"type": "string", "description": "Warehouse id; the tenant's first warehouse when absent"},
                "to": {"$ref": "#/components/schemas/AddressRequest"},
                "parcels": {"type": "array", "items": {"type": "object", "additionalProperties": false, "properties": {
                    "weight": {"type": "string", "examples": ["2.3kg", "5lb", "12oz"]},
                    "grams": {"type": "integer", "minimum": 0},
                    "dims": {"type": "string", "examples": ["40x30x20cm", "16x12x8in"]}}}},
                "items": {"type": "array", "items": {"type": "object", "required": ["grams"], "properties": {
                    "grams": {"type": "integer", "minimum": 0},
                    "dimensions": {"type": ["object", "null"], "properties": {"length_mm": {"type": "integer"}, "width_mm": {"type": "integer"}, "height_mm": {"type": "integer"}}},
                    "quantity": {"type": "integer", "minimum": 0, "default": 1}}}},
                "ship_at": {"type": "string", "format": "date-time"},
                "declared_value": {"type": "integer", "description": "Minor units of each line's currency"},
                "options": {"type": "array", "items": {"type": "string", "examples": ["signature", "ddp", "liftgate"]}},
                "lines": {"type": "array", "items": s()}
            }
        },
        "QuoteAnswer": {
            "type": "object", "required": ["warehouse", "destination", "parcels", "rates", "excluded"],
            "properties": {
                "warehouse": s(),
                "destination": {"$ref": "#/components/schemas/AddressResult"},
                "parcels": {"type": "array", "items": {"type": "object", "properties": {"grams": {"type": "integer"}, "dimensions_mm": {"type": ["array", "null"], "items": {"type": "integer"}}}}},
                "rates": {"type": "array", "items": {"type": "object", "required": ["line", "currency", "total_minor", "breakdown"], "properties": {
                    "line": s(), "name": s(), "carrier": s(), "card_version": s(), "illustrative": {"type": "boolean"},
                    "currency": s(), "total_minor": {"type": "integer"}, "zone": s(),
                    "billable": {"type": "array", "items": {"type": "object", "properties": {"unit": {"enum": ["kg", "lb"]}, "actual": {"type": "integer"}, "volumetric": {"type": ["integer", "null"]}, "billable": {"type": "integer"}, "basis": {"enum": ["actual", "volumetric"]}, "explanation": s()}}},
                    "breakdown": {"type": "array", "items": {"type": "object", "properties": {"code": s(), "minor": {"type": "integer"}, "explanation": s()}}},
                    "dates": {"type": ["object", "null"], "properties": {"handover": {"type": "string", "format": "date"}, "min": {"type": "string", "format": "date"}, "max": {"type": "string", "format": "date"}, "calendars": {"type": "array", "items": s()}, "skipped": {"type": "array", "items": s()}}},
                    "dates_error": s()}}},
                "excluded": {"type": "array", "items": {"type": "object", "properties": {"line": s(), "reason": s()}}}
            }
        },
        "CarrierServiceRequest": {
            "type": "object", "required": ["rate"],
            "properties": {"rate": {"type": "object", "required": ["origin", "destination"], "properties": {
                "origin": {"type": "object"}, "destination": {"type": "object"},
                "items": {"type": "array", "items": {"type": "object", "properties": {"grams": {"type": "integer"}, "quantity": {"type": "integer"}, "requires_shipping": {"type": "boolean"}}}},
                "currency": s(), "locale": s()}}}
        },
        "CarrierServiceResponse": {
            "type": "object", "required": ["rates"],
            "properties": {"rates": {"type": "array", "items": {"type": "object",
                "required": ["service_name", "service_code", "total_price", "currency"],
                "properties": {"service_name": s(), "service_code": s(), "total_price": {"type": "string", "description": "Minor units"},
                    "currency": s(), "min_delivery_date": nullable_string(), "max_delivery_date": nullable_string(), "description": s()}}}}
        }
    })
}
