//! Shopify's Admin API, for what the app does in a shop: exchange an install's code for an access token
//! (`POST /admin/oauth/access_token`), then register the CarrierService callback and the webhooks (Admin GraphQL).
//! Both calls go to `https://{shop}` unless a base URL points them elsewhere (a test stand-in). Registration is
//! idempotent: what Shopify answers as already there is looked up and reused (or pointed at the new URL).

use serde::Deserialize;
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

const CARRIER_SERVICE_UPDATE: &str = "mutation carrierServiceUpdate($input: DeliveryCarrierServiceUpdateInput!) {
  carrierServiceUpdate(input: $input) {
    carrierService { id name callbackUrl active }
    userErrors { field message }
  }
}";

const CARRIER_SERVICES: &str = "query carrierServices {
  carrierServices(first: 50) { nodes { id name callbackUrl active } }
}";

const WEBHOOK_SUBSCRIPTION_CREATE: &str = "mutation webhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}";

const WEBHOOK_SUBSCRIPTIONS: &str = "query webhookSubscriptions($topics: [WebhookSubscriptionTopic!]) {
  webhookSubscriptions(first: 50, topics: $topics) { nodes { id topic uri } }
}";

/// Whether Shopify's user errors say the thing exists already (a webhook address "has already been taken", a
/// carrier service name "already" configured): a reinstall or a retry, not a failure.
fn already_there(errors: &[String]) -> bool {
    !errors.is_empty()
        && errors.iter().all(|m| {
            let m = m.to_ascii_lowercase();
            m.contains("already") || m.contains("taken")
        })
}

fn user_errors(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["message"].as_str().unwrap_or("?").to_owned()).collect())
        .unwrap_or_default()
}

impl AdminClient {
    /// The client of `shop` (`my-shop.myshopify.com`).
    pub fn for_shop(shop: &str, access_token: &str) -> AdminClient {
        AdminClient {
            base: format!("https://{shop}"),
            access_token: access_token.to_owned(),
            api_version: API_VERSION.to_owned(),
        }
    }

    /// The client of a shop through `base` when set (a stand-in serving every shop), else the shop itself.
    pub fn at(base: Option<&str>, shop: &str, access_token: &str) -> AdminClient {
        match base {
            Some(base) => AdminClient { base: base.to_owned(), ..AdminClient::for_shop(shop, access_token) },
            None => AdminClient::for_shop(shop, access_token),
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
        let errors = user_errors(created);
        if !errors.is_empty() {
            return Err(AdminError::Refused(errors.join("; ")));
        }
        created["carrierService"]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| AdminError::Unexpected(body.to_string()))
    }

    /// Makes the carrier service `name` call `callback_url`: creates it, or, when the shop has it already (a
    /// reinstall), points it at the new URL. Answers its id.
    pub fn ensure_carrier_service(&self, name: &str, callback_url: &str) -> Result<String, AdminError> {
        let refused = match self.create_carrier_service(name, callback_url) {
            Ok(id) => return Ok(id),
            Err(AdminError::Refused(message)) => message,
            Err(e) => return Err(e),
        };
        if !already_there(std::slice::from_ref(&refused)) {
            return Err(AdminError::Refused(refused));
        }
        let listed = self.graphql(CARRIER_SERVICES, json!({}))?;
        let existing = listed["data"]["carrierServices"]["nodes"]
            .as_array()
            .and_then(|nodes| nodes.iter().find(|n| n["name"] == name))
            .and_then(|n| n["id"].as_str())
            .ok_or(AdminError::Refused(refused))?
            .to_owned();
        let input = json!({ "input": { "id": existing, "callbackUrl": callback_url, "active": true } });
        let body = self.graphql(CARRIER_SERVICE_UPDATE, input)?;
        let errors = user_errors(&body["data"]["carrierServiceUpdate"]);
        if !errors.is_empty() {
            return Err(AdminError::Refused(errors.join("; ")));
        }
        Ok(existing)
    }

    /// Subscribes `uri` to `topic` (GraphQL's name, `ORDERS_CREATE`); a subscription Shopify already has for that
    /// topic and address is reused. Answers its id.
    pub fn ensure_webhook(&self, topic: &str, uri: &str) -> Result<String, AdminError> {
        let variables = json!({ "topic": topic, "webhookSubscription": { "uri": uri, "format": "JSON" } });
        let body = self.graphql(WEBHOOK_SUBSCRIPTION_CREATE, variables)?;
        let created = &body["data"]["webhookSubscriptionCreate"];
        let errors = user_errors(created);
        if errors.is_empty() {
            return created["webhookSubscription"]["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| AdminError::Unexpected(body.to_string()));
        }
        if !already_there(&errors) {
            return Err(AdminError::Refused(errors.join("; ")));
        }
        let listed = self.graphql(WEBHOOK_SUBSCRIPTIONS, json!({ "topics": [topic] }))?;
        listed["data"]["webhookSubscriptions"]["nodes"]
            .as_array()
            .and_then(|nodes| nodes.iter().find(|n| n["uri"] == uri))
            .and_then(|n| n["id"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| AdminError::Refused(errors.join("; ")))
    }
}

const ORDER_FULFILLMENTS: &str = "query orderFulfillments($id: ID!) {
  order(id: $id) {
    fulfillmentOrders(first: 20) { nodes { id status } }
    fulfillments(first: 20) { id trackingInfo { company number url } }
  }
}";

const FULFILLMENT_CREATE: &str = "mutation fulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}";

const FULFILLMENT_TRACKING_INFO_UPDATE: &str = "mutation fulfillmentTrackingInfoUpdate($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: $notifyCustomer) {
    fulfillment { id }
    userErrors { field message }
  }
}";

const FULFILLMENT_EVENT_CREATE: &str = "mutation fulfillmentEventCreate($fulfillmentEvent: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $fulfillmentEvent) {
    fulfillmentEvent { id status }
    userErrors { field message }
  }
}";

/// A parcel's tracking as a fulfillment shows it to the buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingInfo {
    /// The carrier's name as the buyer reads it.
    pub company: String,
    pub number: String,
    pub url: Option<String>,
}

impl TrackingInfo {
    fn input(&self) -> Value {
        json!({ "company": self.company, "number": self.number, "url": self.url })
    }
}

/// The Admin API id of an order from its numeric id (or an id already in `gid://` form).
pub fn order_gid(order_id: &str) -> String {
    if order_id.starts_with("gid://") { order_id.to_owned() } else { format!("gid://shopify/Order/{order_id}") }
}

impl AdminClient {
    /// Fulfills what is still open of the order `order_id` with `tracking` and answers the fulfillment's id. A
    /// fulfillment of the order that carries this tracking number already (a retry) is answered instead, so the
    /// buyer is notified once.
    pub fn create_fulfillment(&self, order_id: &str, tracking: &TrackingInfo) -> Result<String, AdminError> {
        let body = self.graphql(ORDER_FULFILLMENTS, json!({ "id": order_gid(order_id) }))?;
        let order = &body["data"]["order"];
        if order.is_null() {
            return Err(AdminError::Refused(format!("no order {order_id} in the shop")));
        }
        let existing = order["fulfillments"].as_array().and_then(|all| {
            all.iter().find(|f| {
                f["trackingInfo"].as_array().is_some_and(|t| t.iter().any(|t| t["number"] == tracking.number.as_str()))
            })
        });
        if let Some(id) = existing.and_then(|f| f["id"].as_str()) {
            return Ok(id.to_owned());
        }
        let open: Vec<Value> = order["fulfillmentOrders"]["nodes"]
            .as_array()
            .map(|nodes| {
                nodes
                    .iter()
                    .filter(|n| matches!(n["status"].as_str(), Some("OPEN" | "IN_PROGRESS")))
                    .map(|n| json!({ "fulfillmentOrderId": n["id"] }))
                    .collect()
            })
            .unwrap_or_default();
        if open.is_empty() {
            return Err(AdminError::Refused(format!("order {order_id} has nothing left to fulfill")));
        }
        let fulfillment = json!({
            "fulfillment": { "lineItemsByFulfillmentOrder": open, "trackingInfo": tracking.input(), "notifyCustomer": true }
        });
        let body = self.graphql(FULFILLMENT_CREATE, fulfillment)?;
        let created = &body["data"]["fulfillmentCreate"];
        let errors = user_errors(created);
        if !errors.is_empty() {
            return Err(AdminError::Refused(errors.join("; ")));
        }
        created["fulfillment"]["id"].as_str().map(str::to_owned).ok_or_else(|| AdminError::Unexpected(body.to_string()))
    }

    /// Points the fulfillment at new tracking (the parcel passed to a last-mile partner).
    pub fn update_tracking(&self, fulfillment_id: &str, tracking: &TrackingInfo) -> Result<(), AdminError> {
        let variables =
            json!({ "fulfillmentId": fulfillment_id, "trackingInfoInput": tracking.input(), "notifyCustomer": false });
        let body = self.graphql(FULFILLMENT_TRACKING_INFO_UPDATE, variables)?;
        let errors = user_errors(&body["data"]["fulfillmentTrackingInfoUpdate"]);
        if errors.is_empty() { Ok(()) } else { Err(AdminError::Refused(errors.join("; "))) }
    }

    /// Records a delivery status on the fulfillment (`DELIVERED`, `ATTEMPTED_DELIVERY` …) at `happened_at`.
    pub fn fulfillment_event(&self, fulfillment_id: &str, status: &str, happened_at: &str) -> Result<(), AdminError> {
        let variables = json!({
            "fulfillmentEvent": { "fulfillmentId": fulfillment_id, "status": status, "happenedAt": happened_at }
        });
        let body = self.graphql(FULFILLMENT_EVENT_CREATE, variables)?;
        let errors = user_errors(&body["data"]["fulfillmentEventCreate"]);
        if errors.is_empty() { Ok(()) } else { Err(AdminError::Refused(errors.join("; "))) }
    }
}

/// What a shop grants the app at install: the offline access token and the scopes it carries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    pub scope: String,
}

impl std::fmt::Display for AccessToken {
    /// Never the token itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "access token for scopes {}", self.scope)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Shopify answered, and said no: a used or expired code, or wrong app credentials.
    #[error("Shopify refused the authorization code: {0}")]
    Refused(String),
    #[error("Shopify did not answer the token exchange: {0}")]
    Unavailable(String),
}

/// The install's last step as a port: trade the one-time authorization `code` of `shop` for an access token.
#[async_trait::async_trait]
pub trait TokenExchange: Send + Sync {
    async fn exchange(&self, shop: &str, code: &str) -> Result<AccessToken, ExchangeError>;
}

/// `POST https://{shop}/admin/oauth/access_token` with the app's credentials, or at `base` when set.
pub struct HttpTokenExchange {
    pub client_id: String,
    pub client_secret: String,
    pub base: Option<String>,
}

#[async_trait::async_trait]
impl TokenExchange for HttpTokenExchange {
    async fn exchange(&self, shop: &str, code: &str) -> Result<AccessToken, ExchangeError> {
        let base = self.base.clone().unwrap_or_else(|| format!("https://{shop}"));
        let url = format!("{}/admin/oauth/access_token", base.trim_end_matches('/'));
        let body = json!({ "client_id": self.client_id, "client_secret": self.client_secret, "code": code });
        // ureq blocks: off the async workers.
        tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
            let mut response = agent
                .post(&url)
                .header("Accept", "application/json")
                .send_json(body)
                .map_err(|e| ExchangeError::Unavailable(e.to_string()))?;
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().map_err(|e| ExchangeError::Unavailable(e.to_string()))?;
            match status {
                200..=299 => serde_json::from_str::<AccessToken>(&text)
                    .map_err(|e| ExchangeError::Unavailable(format!("unexpected answer: {e}"))),
                400..=499 => Err(ExchangeError::Refused(format!("status {status}"))),
                _ => Err(ExchangeError::Unavailable(format!("status {status}"))),
            }
        })
        .await
        .map_err(|e| ExchangeError::Unavailable(e.to_string()))?
    }
}
