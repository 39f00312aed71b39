//! `/introspect` (RFC 7662): any authenticated client may ask whether an
//! access token is active; a client may ask about its own refresh tokens.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_core::introspection;

use crate::client_auth;
use crate::clock::system_now;
use crate::error::ApiError;
use crate::form::Form;
use crate::state::AppState;

pub(crate) async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let form = Form::read(&headers, body, state.max_body_bytes, &[]).await?;
    let token = form.require("token")?;
    let client = client_auth::authenticate(&state, &headers, &form).await?;
    let verifier = state.keys.verifier();
    let answer = introspection::introspect_stored(
        &*state.store,
        verifier.as_deref(),
        &state.token_policy.issuer,
        token,
        &client.id,
        system_now(),
    )
    .await?;
    tracing::debug!(client_id = %client.id, active = answer.active, "introspection");
    super::no_store_json(&answer)
}
