//! Shopify's signatures, checked as pure computation so that the edge worker and the Lambda functions share
//! them: session tokens (JWT HS256 signed with the app's secret) and webhook signatures (HMAC-SHA256).

pub mod session_token;
pub mod webhook;
