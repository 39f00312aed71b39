//! The only place errors become HTTP responses.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::TokenError;
use serde_json::json;

/// An error on its way to the client.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// An RFC 6749 section 5.2 error from the token endpoint.
    Token(TokenError),
    /// The body is larger than `max_body_bytes`.
    PayloadTooLarge,
    /// Something failed inside; details go to the log only.
    Internal(String),
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        ApiError::Token(err)
    }
}

impl From<portcullis_core::StoreError> for ApiError {
    fn from(err: portcullis_core::StoreError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, description) = match &self {
            ApiError::Token(err) => {
                let status = match err {
                    TokenError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::BAD_REQUEST,
                };
                (status, err.code(), err.description())
            }
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "the request body is too large".to_owned(),
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the server cannot handle the request now; retry later".to_owned(),
                )
            }
        };
        let mut response = (
            status,
            Json(json!({"error": code, "error_description": description})),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"portcullis\", charset=\"UTF-8\""),
            );
        }
        response
    }
}
