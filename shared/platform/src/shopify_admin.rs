//! Shopify's Admin GraphQL API, for what lastmile registers in a shop: the CarrierService callback.

use serde_json::{Value, json};

/// The Admin API version lastmile speaks.
pub const API_VERSION: &str = "2026-07";

/// A shop's Admin API: `https://{shop}` with its access token. `base` may point elsewhere (a test stand-in).
pub struct AdminClient {
    pub base: String,
    pub access_token: String,
    pub api_version: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("Shopify Admin API request failed: {0}")]
    Transport(String),
    #[error("Shopify refused the request: {0}")]
    Refused(String),
    #[error("unexpected answer from the Shopify Admin API: {0}")]
    Unexpected(String),
}

const CARRIER_SERVICE_CREATE: &str = "mutation carrierServiceCreate($input: DeliveryCarrierServiceCreateInput!) {
  carrierServiceCreate(input: $input) {
    carrierService { id name callbackUrl active supportsServiceDiscovery }
    userErrors { field message }
  }
}";

impl AdminClient {
    /// The client of `shop` (`my-shop.myshopify.com`).
    pub fn for_shop(shop: &str, access_token: &str) -> AdminClient {
        AdminClient {
            base: format!("https://{shop}"),
            access_token: access_token.to_owned(),
            api_version: API_VERSION.to_owned(),
        }
    }

    fn graphql(&self, query: &str, variables: Value) -> Result<Value, AdminError> {
        let url = format!("{}/admin/api/{}/graphql.json", self.base.trim_end_matches('/'), self.api_version);
        let mut response = ureq::post(&url)
            .header("X-Shopify-Access-Token", &self.access_token)
            .send_json(json!({ "query": query, "variables": variables }))
            .map_err(|e| AdminError::Transport(e.to_string()))?;
        let body: Value = response.body_mut().read_json().map_err(|e| AdminError::Unexpected(e.to_string()))?;
        if let Some(errors) = body.get("errors") {
            return Err(AdminError::Refused(errors.to_string()));
        }
        Ok(body)
    }

    /// Registers `callback_url` as a carrier service named `name` and returns its id
    /// (`gid://shopify/DeliveryCarrierService/…`).
    pub fn create_carrier_service(&self, name: &str, callback_url: &str) -> Result<String, AdminError> {
        let input = json!({ "input": { "name": name, "callbackUrl": callback_url, "supportsServiceDiscovery": true, "active": true } });
        let body = self.graphql(CARRIER_SERVICE_CREATE, input)?;
        let created = &body["data"]["carrierServiceCreate"];
        if let Some(errors) = created["userErrors"].as_array().filter(|e| !e.is_empty()) {
            let messages: Vec<String> =
                errors.iter().map(|e| e["message"].as_str().unwrap_or("?").to_owned()).collect();
            return Err(AdminError::Refused(messages.join("; ")));
        }
        created["carrierService"]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| AdminError::Unexpected(body.to_string()))
    }
}
