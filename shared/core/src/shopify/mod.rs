//! Shopify's signatures, checked as pure computation so that the edge worker and the Lambda functions share
//! them: session tokens (JWT HS256 signed with the app's secret), webhook signatures (HMAC-SHA256) and the OAuth
//! install callback's query signature.

pub mod oauth;
pub mod session_token;
pub mod webhook;
