//! One module per JSON endpoint (the HTML pages are in `pages`). Endpoints
//! never import one another.

pub(crate) mod device_authorization;
pub(crate) mod discovery;
pub(crate) mod health;
pub(crate) mod introspect;
pub(crate) mod jwks;
pub(crate) mod metrics;
pub(crate) mod register;
pub(crate) mod revoke;
pub(crate) mod token;
pub(crate) mod userinfo;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// `body` as a JSON answer that no cache may keep (token, device
/// authorization and introspection answers carry credentials).
pub(crate) fn no_store_json(body: &impl serde::Serialize) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(body).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}
