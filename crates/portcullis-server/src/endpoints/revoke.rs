//! `/revoke` (RFC 7009): a client revokes one of its access or refresh
//! tokens. Confidential clients authenticate; a public client names itself
//! with `client_id`. The answer is 200 with an empty body whenever the client
//! is authenticated, whether or not the token was its own or known.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::revocation::{self, Revoker};

use crate::client_auth;
use crate::clock::system_now;
use crate::error::ApiError;
use crate::form::Form;
use crate::state::AppState;

pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let form = Form::read(&headers, body, state.max_body_bytes, &[]).await?;
    let client = client_auth::authenticate_or_public(&state, &headers, &form).await?;
    let token = form.require("token")?;
    // `token_type_hint` only speeds up the search (RFC 7009 section 2.1);
    // both kinds are tried whatever it says.
    let verifier = state.keys.verifier();
    let outcome = revocation::revoke(
        &*state.store,
        verifier.as_deref(),
        Some(&state.token_policy.issuer),
        token,
        Revoker::Client(&client.id),
        system_now(),
    )
    .await?;
    tracing::info!(client_id = %client.id, outcome = ?outcome, "revocation");
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
    )
        .into_response())
}
