//! `/token` (RFC 6749 section 3.2): client authentication, then the grant.

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use portcullis_core::grant::{self, GrantError, GrantRequest};
use serde::Serialize;
use std::net::SocketAddr;

use crate::client_auth;
use crate::clock::system_now;
use crate::error::ApiError;
use crate::form::Form;
use crate::issuance;
use crate::state::AppState;

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "str::is_empty")]
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_token_type: Option<&'static str>,
}

pub(crate) async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let outcome = match Form::read(&headers, body, state.max_body_bytes, &["resource"]).await {
        Ok(form) => {
            let result = issue(&state, peer, &headers, &form).await;
            (form.get("grant_type").unwrap_or("").to_owned(), result)
        }
        Err(err) => (String::new(), Err(err)),
    };
    let (grant_type, result) = outcome;
    let label = match &result {
        Ok(_) => "issued",
        Err(err) => err.code(),
    };
    state.metrics.token_request(&grant_type, label);
    result
}

async fn issue(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Response, ApiError> {
    let grant_type = form.require("grant_type")?;
    let client = if grant::open_to_public_clients(grant_type) {
        client_auth::authenticate_or_public(state, headers, form).await?
    } else {
        client_auth::authenticate(state, headers, form).await?
    };
    let address = state.client_address(peer, headers);
    let request = GrantRequest::parse(|name| form.get(name), &form.all("resource"), &address)?;
    let now = system_now();
    let verifier = state.keys.verifier();
    let grants = state.grants(verifier.as_deref());
    let issuance = match grant::issue(&grants, &client, request, now).await {
        Ok(issuance) => issuance,
        Err(GrantError::WrongPassword) => {
            state.metrics.login_failure();
            tracing::info!(client_id = %client.id, "failed password grant");
            return Err(GrantError::WrongPassword.into());
        }
        Err(err) => return Err(err.into()),
    };
    let signed = issuance::sign(state, issuance, now)?;
    let access = signed
        .access
        .ok_or_else(|| ApiError::Internal("a grant issued no access token".into()))?;
    tracing::debug!(client_id = %client.id, grant_type, "access token issued");
    let mut response = super::no_store_json(&TokenResponse {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        scope: &access.scope,
        id_token: signed.id_token,
        refresh_token: signed.refresh_token,
        issued_token_type: signed.issued_token_type,
    })?;
    // RFC 6749 section 5.1 asks for it too.
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
