//! `/userinfo` (OIDC Core 5.3): the signed-in user's claims, for a live
//! bearer access token of a user, for this issuer, with the `openid` scope.
//! GET and POST; the token in the `Authorization` header (RFC 6750 section
//! 2.1) or a form-encoded POST body (2.2), never the query.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::liveness::{NotLive, check_access_token};
use portcullis_core::userinfo;

use crate::bearer::bearer_of_request;
use crate::clock::system_now;
use crate::error::{ApiError, BearerError};
use crate::state::AppState;

pub(crate) async fn userinfo(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let token = bearer_of_request(&method, &headers, body, state.max_body_bytes).await?;
    let token = token.as_str();
    let invalid = || ApiError::Bearer(Some(BearerError::InvalidToken));
    let verifier = state.keys.verifier().ok_or_else(invalid)?;
    let issuer = state.token_policy.issuer.as_str();
    // Only tokens meant for this issuer: a token for another API is that API's.
    let live = match check_access_token(
        &*state.store,
        &verifier,
        Some(issuer),
        Some(issuer),
        token,
        system_now(),
    )
    .await
    {
        Ok(live) => live,
        Err(NotLive::Store(err)) => return Err(err.into()),
        Err(NotLive::Invalid | NotLive::Revoked) => return Err(invalid()),
    };
    if !live.scope.iter().any(|s| s.as_str() == "openid") {
        return Err(ApiError::Bearer(Some(BearerError::InsufficientScope(
            "openid",
        ))));
    }
    let Some(user) = live.user else {
        return Err(invalid());
    };
    let mut response = Json(userinfo::claims(&user, &live.scope)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
