//! Shopify's OAuth for app installs, as pure computation: the shop domain a request names, the authorize URL
//! the merchant is sent to, and the check of the `hmac` Shopify adds to the callback's query (hex HMAC-SHA256,
//! keyed with the app's client secret, over the other parameters sorted by name and joined as `k=v&k=v`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A shop's own domain: `{name}.myshopify.com`, the name letters, digits and hyphens, starting with a letter or
/// digit. Anything else (another host, a path, a port, a custom domain) is refused, so the code is never sent
/// anywhere but a Shopify shop.
pub fn valid_shop_domain(shop: &str) -> bool {
    let Some(name) = shop.strip_suffix(".myshopify.com") else { return false };
    !name.is_empty()
        && name.len() <= 60
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

/// The message Shopify signs: every parameter but `hmac` (and the legacy `signature`), sorted by name.
fn message(params: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "hmac" && k != "signature").collect();
    kept.sort();
    kept.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Whether the decoded query parameters carry a valid `hmac` under one of `secrets` (two during a rotation),
/// compared in constant time.
pub fn verify_query(params: &[(String, String)], secrets: &[&[u8]]) -> bool {
    let Some((_, given)) = params.iter().find(|(k, _)| k == "hmac") else { return false };
    let Ok(given) = hex::decode(given.trim()) else { return false };
    let message = message(params);
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .any(|s| mac(s).chain_update(message.as_bytes()).verify_slice(&given).is_ok())
}

/// The `hmac` Shopify would add to these parameters (for stand-ins and tests).
pub fn sign_query(params: &[(String, String)], secret: &[u8]) -> String {
    hex::encode(mac(secret).chain_update(message(params).as_bytes()).finalize().into_bytes())
}

/// Where the merchant approves the install: the shop's authorize page with the app's key, scopes, callback and
/// the one-time `state`.
pub fn authorize_url(shop: &str, client_id: &str, scopes: &[&str], redirect_uri: &str, state: &str) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "https://{shop}/admin/oauth/authorize?client_id={}&scope={}&redirect_uri={}&state={}",
        encode(client_id),
        encode(&scopes.join(",")),
        encode(redirect_uri),
        encode(state)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn verifies_shopifys_documented_example() {
        // shopify.dev, "Implement authorization code grant manually", step "Verify the installation request":
        // secret "hush"; the message is code=…&shop=some-shop.myshopify.com&state=0.6784241404160823&
        // timestamp=1337178173 (hmac removed, keys sorted), and its HMAC-SHA256 in hex is 700e2dad…c4bf.
        let query = params(&[
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            ("hmac", "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"),
            ("shop", "some-shop.myshopify.com"),
            ("state", "0.6784241404160823"),
            ("timestamp", "1337178173"),
        ]);
        assert!(verify_query(&query, &[b"hush"]));
        assert!(verify_query(&query, &[b"new-secret", b"hush"]), "either secret during a rotation");
        assert!(!verify_query(&query, &[b"other"]));
        let mut forged = query.clone();
        forged[2].1 = "evil-shop.myshopify.com".into();
        assert!(!verify_query(&forged, &[b"hush"]));
        let mut reordered = query.clone();
        reordered.reverse();
        assert!(verify_query(&reordered, &[b"hush"]), "the order of the parameters does not matter");
        assert!(!verify_query(&params(&[("shop", "some-shop.myshopify.com")]), &[b"hush"]), "no hmac");
        assert_eq!(sign_query(&query, b"hush"), "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf");
    }

    #[test]
    fn only_myshopify_domains_are_shops() {
        for good in ["some-shop.myshopify.com", "a.myshopify.com", "shop-123.myshopify.com"] {
            assert!(valid_shop_domain(good), "{good}");
        }
        for bad in [
            "myshopify.com",
            ".myshopify.com",
            "evil.com",
            "some-shop.myshopify.com.evil.com",
            "some-shop.myshopify.com/admin",
            "some-shop.myshopify.com:443",
            "Some-Shop.myshopify.com",
            "-shop.myshopify.com",
            "shop_1.myshopify.com",
        ] {
            assert!(!valid_shop_domain(bad), "{bad}");
        }
    }

    #[test]
    fn the_authorize_url_carries_key_scopes_callback_and_state() {
        let url = authorize_url(
            "some-shop.myshopify.com",
            "abc123",
            &["read_orders", "write_shipping"],
            "https://app.example/shopify/callback",
            "n0nce",
        );
        assert_eq!(
            url,
            "https://some-shop.myshopify.com/admin/oauth/authorize?client_id=abc123&scope=read_orders%2Cwrite_shipping&redirect_uri=https%3A%2F%2Fapp.example%2Fshopify%2Fcallback&state=n0nce"
        );
    }
}
