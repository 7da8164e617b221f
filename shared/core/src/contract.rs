//! The HTTP contract every front end shares (`lastmile dev`, Lambda, the edge worker): request limits and
//! the JSON error body.

use serde::{Deserialize, Serialize};

/// Largest body accepted for one address.
pub const MAX_ADDRESS_BODY_BYTES: usize = 16 * 1024;
/// Largest body accepted for a batch of addresses.
pub const MAX_BATCH_BODY_BYTES: usize = 128 * 1024;
/// Most addresses in one batch request.
pub const MAX_BATCH_ADDRESSES: usize = 100;
/// Most street lines in one address: real addresses have two or three.
pub const MAX_ADDRESS_LINES: usize = 8;
/// Longest single field, in characters.
pub const MAX_FIELD_CHARS: usize = 512;

/// `{"error":{"code","message","field"}}`, the body of every 4xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub field: Option<String>,
}

/// An error the caller caused, with the HTTP status it maps to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(413, "payload_too_large", format!("request body exceeds the limit of {limit} bytes"))
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail { code: self.code.to_owned(), message: self.message.clone(), field: self.field.clone() },
        }
    }
}

/// Parses a JSON request body into `T`, mapping every failure to a 4xx [`ApiError`].
pub fn parse_json_body<T: serde::de::DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, ApiError> {
    if bytes.len() > limit {
        return Err(ApiError::payload_too_large(limit));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(400, "empty_body", "request body is empty: expected a JSON object"));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::new(400, "invalid_utf8", format!("request body is not valid UTF-8 (byte {})", e.valid_up_to()))
    })?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        use serde_json::error::Category;
        let path = e.path().to_string();
        let inner = e.into_inner();
        let error = match inner.classify() {
            Category::Data => ApiError::new(422, "invalid_type", format!("request body has a wrong type: {inner}")),
            Category::Syntax | Category::Eof | Category::Io => {
                return ApiError::new(400, "invalid_json", format!("request body is not valid JSON: {inner}"));
            }
        };
        if path == "." { error } else { error.with_field(path) }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::new(400, "invalid_json", format!("request body is not valid JSON: {e}")))?;
    Ok(value)
}
