//! The bearer token of a request (RFC 6750 section 2): exactly one
//! `Authorization: Bearer` header, or for `/userinfo` also a form body.

use axum::body::Body;
use axum::http::{HeaderMap, Method, header};

use crate::error::{ApiError, BearerError};
use crate::form::Form;

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

/// The access token of a request to a protected resource: the
/// `Authorization: Bearer` header (RFC 6750 2.1) or, in a form-encoded body
/// of a request other than GET, the `access_token` parameter (2.2). A token
/// in both places is `invalid_request`; a token in the query (2.3) is never
/// read, so a query-only request has no token.
pub(crate) async fn bearer_of_request(
    method: &Method,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<String, ApiError> {
    let in_header = match bearer(headers) {
        Ok(token) => Some(token.to_owned()),
        Err(ApiError::Bearer(None)) => None,
        Err(err) => return Err(err),
    };
    let in_body = if method != Method::GET && crate::form::is_form(headers) {
        let form = match Form::read(headers, body, limit, &[]).await {
            Ok(form) => form,
            Err(ApiError::PayloadTooLarge) => return Err(ApiError::PayloadTooLarge),
            Err(_) => return Err(ApiError::Bearer(Some(BearerError::InvalidRequest))),
        };
        form.get("access_token").map(str::to_owned)
    } else {
        None
    };
    match (in_header, in_body) {
        (Some(_), Some(_)) => Err(ApiError::Bearer(Some(BearerError::InvalidRequest))),
        (Some(token), None) | (None, Some(token)) => Ok(token),
        (None, None) => Err(ApiError::Bearer(None)),
    }
}
