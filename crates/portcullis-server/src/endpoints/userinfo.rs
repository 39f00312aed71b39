//! `/userinfo` (OIDC Core 5.3): the signed-in user's claims, for a bearer
//! access token with the `openid` scope. GET and POST; the token in the
//! `Authorization` header (RFC 6750 section 2.1).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::userinfo::{self, UserInfoError};

use crate::clock::system_now;
use crate::error::{ApiError, BearerError};
use crate::state::AppState;

pub(crate) async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = bearer(&headers)?;
    let verifier = state
        .keys
        .verifier()
        .ok_or_else(|| ApiError::Internal("no published key".into()))?;
    let (user_id, scope, jti) =
        userinfo::token_subject(&verifier, &state.token_policy.issuer, token, system_now())
            .map_err(|e| {
                ApiError::Bearer(Some(match e {
                    UserInfoError::InvalidToken => BearerError::InvalidToken,
                    UserInfoError::InsufficientScope => BearerError::InsufficientScope("openid"),
                }))
            })?;
    if state.store.access_token_denied(&jti).await? {
        return Err(ApiError::Bearer(Some(BearerError::InvalidToken)));
    }
    let user = state
        .store
        .user(&user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(ApiError::Bearer(Some(BearerError::InvalidToken)))?;
    let mut response = Json(userinfo::claims(&user, &scope)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

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
