//! A Shopify webhook delivery's headers, checked once for every route that takes one (orders, the privacy
//! topics, `app/uninstalled`): the signature of the raw body (`X-Shopify-Hmac-Sha256`, under the current or the
//! previous app secret), the topic among those the route takes, the shop, and the delivery's ids.

use axum::http::HeaderMap;
use lastmile_core::contract::ApiError;
use lastmile_core::shopify::oauth::valid_shop_domain;
use lastmile_core::shopify::webhook::verify_webhook;

use crate::http::header;

/// Longest delivery id kept (Shopify's are UUIDs).
const MAX_ID: usize = 128;

/// What a checked delivery says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery<'h> {
    pub topic: &'h str,
    /// The shop's `*.myshopify.com` domain.
    pub shop: &'h str,
    /// `X-Shopify-Event-Id`: the same for every subscription that delivers one event.
    pub event_id: Option<&'h str>,
    /// `X-Shopify-Webhook-Id`: one delivery.
    pub webhook_id: Option<&'h str>,
    /// `X-Shopify-Triggered-At`, as sent.
    pub triggered_at: Option<&'h str>,
}

impl<'h> Delivery<'h> {
    /// The event's id, else the delivery's: what identifies an event however many subscriptions deliver it.
    pub fn event(&self) -> Result<&'h str, ApiError> {
        self.event_id.or(self.webhook_id).ok_or_else(|| {
            ApiError::new(400, "missing_event_id", "X-Shopify-Event-Id or X-Shopify-Webhook-Id is required")
        })
    }

    /// The delivery's id, else the event's: what Shopify's compliance requests are known by.
    pub fn webhook(&self) -> Result<&'h str, ApiError> {
        self.webhook_id.or(self.event_id).ok_or_else(|| {
            ApiError::new(400, "missing_webhook_id", "X-Shopify-Webhook-Id or X-Shopify-Event-Id is required")
        })
    }
}

/// Checks a delivery: 401 without a signature that verifies under one of `secrets`, 400 without a topic or a
/// valid shop domain, 422 for a topic not among `topics`.
pub fn check<'h>(
    headers: &'h HeaderMap,
    body: &[u8],
    secrets: &[&[u8]],
    topics: &[&str],
) -> Result<Delivery<'h>, ApiError> {
    let signature = header(headers, "x-shopify-hmac-sha256")
        .ok_or_else(|| ApiError::new(401, "missing_signature", "X-Shopify-Hmac-Sha256 is required"))?;
    if !verify_webhook(body, signature, secrets) {
        return Err(ApiError::new(401, "bad_signature", "the webhook signature does not match"));
    }
    let topic = header(headers, "x-shopify-topic")
        .ok_or_else(|| ApiError::new(400, "missing_topic", "X-Shopify-Topic is required"))?;
    if !topics.contains(&topic) {
        let message = format!("topic {topic:?}: this route takes {}", topics.join(", "));
        return Err(ApiError::new(422, "unsupported_topic", message).with_field("X-Shopify-Topic"));
    }
    let shop = header(headers, "x-shopify-shop-domain")
        .filter(|s| valid_shop_domain(s))
        .ok_or_else(|| ApiError::new(400, "missing_shop", "X-Shopify-Shop-Domain must name the shop"))?;
    let id = |name| header(headers, name).filter(|id| id.len() <= MAX_ID);
    Ok(Delivery {
        topic,
        shop,
        event_id: id("x-shopify-event-id"),
        webhook_id: id("x-shopify-webhook-id"),
        triggered_at: header(headers, "x-shopify-triggered-at"),
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use lastmile_core::shopify::webhook::sign_webhook;

    use super::*;

    fn signed(body: &[u8], secret: &[u8], pairs: &[(&'static str, &str)]) -> HeaderMap {
        let signature = sign_webhook(body, secret);
        let mut headers = HeaderMap::new();
        headers.insert("x-shopify-hmac-sha256", HeaderValue::from_str(&signature).unwrap());
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_delivery_is_checked_in_order_signature_topic_shop() {
        let body = br#"{"id":1}"#;
        let ok = [
            ("x-shopify-topic", "orders/create"),
            ("x-shopify-shop-domain", "acme.myshopify.com"),
            ("x-shopify-webhook-id", "w-1"),
        ];
        let headers = signed(body, b"hush", &ok);
        let delivery = check(&headers, body, &[b"old", b"hush"], &["orders/create"]).unwrap();
        assert_eq!((delivery.topic, delivery.shop), ("orders/create", "acme.myshopify.com"));
        assert_eq!((delivery.event().unwrap(), delivery.webhook().unwrap()), ("w-1", "w-1"));

        let code = |r: Result<Delivery<'_>, ApiError>| r.map(|_| ()).unwrap_err().code;
        assert_eq!(code(check(&headers, b"{}", &[b"hush"], &["orders/create"])), "bad_signature");
        assert_eq!(code(check(&headers, body, &[b"other"], &["orders/create"])), "bad_signature");
        assert_eq!(code(check(&headers, body, &[b"hush"], &["app/uninstalled"])), "unsupported_topic");
        let bad_shop =
            signed(body, b"hush", &[("x-shopify-topic", "orders/create"), ("x-shopify-shop-domain", "evil.com")]);
        assert_eq!(code(check(&bad_shop, body, &[b"hush"], &["orders/create"])), "missing_shop");
        let no_id = signed(body, b"hush", &ok[..2]);
        let delivery = check(&no_id, body, &[b"hush"], &["orders/create"]).unwrap();
        assert_eq!(delivery.event().unwrap_err().code, "missing_event_id");
        assert_eq!(delivery.webhook().unwrap_err().code, "missing_webhook_id");
        assert_eq!(code(check(&HeaderMap::new(), body, &[b"hush"], &["orders/create"])), "missing_signature");
    }
}
