//! `/device_authorization` (RFC 8628 3.1): a device client asks for a
//! device code and a user code. Confidential clients authenticate as at
//! `/token`; a public client names itself with `client_id`.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_core::grant::device_code;
use serde::Serialize;

use crate::client_auth;
use crate::clock::system_now;
use crate::error::ApiError;
use crate::form::Form;
use crate::state::AppState;

#[derive(Serialize)]
struct DeviceAuthorizationResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: i64,
    interval: i64,
}

pub(crate) async fn device_authorization(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let form = Form::read(&headers, body, state.max_body_bytes, &[]).await?;
    let client = client_auth::authenticate_or_public(&state, &headers, &form).await?;
    let now = system_now();
    let started = device_code::begin(
        &*state.store,
        &client,
        form.get("scope"),
        &state.device_policy,
        now,
    )
    .await?;
    tracing::info!(client_id = %client.id, "device authorization started");
    let verification_uri = format!("{}/device", state.token_policy.issuer);
    let shown = started.user_code.shown();
    super::no_store_json(&DeviceAuthorizationResponse {
        device_code: started.device_code,
        verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
        user_code: shown,
        verification_uri,
        expires_in: started.record.expires_at.0 - now.0,
        interval: started.record.interval.0,
    })
}
