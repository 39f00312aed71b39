//! `/token` (RFC 6749 section 3.2): client authentication, then the grant.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::TokenError;
use portcullis_core::access_token::TYP;
use portcullis_core::grant::client_credentials::{self, ClientCredentialsRequest};
use serde::Serialize;

use crate::client_auth;
use crate::clock::system_now;
use crate::error::ApiError;
use crate::form::Form;
use crate::state::AppState;

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "str::is_empty")]
    scope: &'a str,
}

pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let form = Form::read(&headers, body, state.max_body_bytes, &["resource"]).await?;
    let grant_type = form.require("grant_type")?;
    let client = client_auth::authenticate(&state, &headers, &form).await?;
    let now = system_now();
    let grant = match grant_type {
        "client_credentials" => {
            let request =
                ClientCredentialsRequest::parse(form.get("scope"), &form.all("resource"))?;
            client_credentials::grant(&client, request, &state.token_policy, now)?
        }
        other => {
            return Err(TokenError::UnsupportedGrantType(format!(
                "grant type `{other}` is not supported"
            ))
            .into());
        }
    };
    let key = state
        .keys
        .signer(now)
        .ok_or_else(|| ApiError::Internal("no active signing key".into()))?;
    let access_token = key
        .sign_jwt(TYP, &grant.claims)
        .map_err(|e| ApiError::Internal(format!("signing failed: {e}")))?;
    tracing::debug!(client_id = %client.id, grant_type, kid = key.kid(), "access token issued");
    let scope = grant.scope.to_string();
    let body = serde_json::to_vec(&TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: grant.lifetime.0,
        scope: &scope,
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response())
}
