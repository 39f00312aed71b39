//! The bearer token of a request (RFC 6750 section 2.1): exactly one
//! `Authorization: Bearer` header.

use axum::http::{HeaderMap, header};

use crate::error::{ApiError, BearerError};

/// The token of the request's one `Authorization: Bearer` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ApiError::Bearer(None));
    };
    if values.next().is_some() {
        return Err(ApiError::Bearer(Some(BearerError::InvalidRequest)));
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::Bearer(Some(BearerError::InvalidRequest)))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::Bearer(None)),
    }
}
