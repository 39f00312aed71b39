//! `/token` (RFC 6749 section 3.2): client authentication, then the grant.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::access_token::{AccessTokenGrant, TYP};
use portcullis_core::grant::authorization_code::{self, TokenHash};
use portcullis_core::grant::client_credentials::{self, ClientCredentialsRequest};
use portcullis_core::id_token::IdTokenClaims;
use portcullis_core::store::Redemption;
use portcullis_core::{Resource, TokenError};
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
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let form = Form::read(&headers, body, state.max_body_bytes, &["resource"]).await?;
    let grant_type = form.require("grant_type")?;
    let client = if grant_type == "authorization_code" {
        client_auth::authenticate_or_public(&state, &headers, &form).await?
    } else {
        client_auth::authenticate(&state, &headers, &form).await?
    };
    let now = system_now();
    let mut redeemed = None;
    let grant = match grant_type {
        "client_credentials" => {
            let request =
                ClientCredentialsRequest::parse(form.get("scope"), &form.all("resource"))?;
            client_credentials::grant(&client, request, &state.token_policy, now)?
        }
        "authorization_code" => {
            let code = form.require("code")?;
            let record = match state.store.redeem_code(&TokenHash::of(code), now).await? {
                Redemption::Fresh(record) => record,
                Redemption::Reused(record) => {
                    tracing::warn!(client_id = %record.client_id, "an authorization code was presented twice");
                    return Err(TokenError::InvalidGrant("the code has already been used").into());
                }
                Redemption::Unknown => {
                    return Err(TokenError::InvalidGrant("the code is not valid").into());
                }
            };
            authorization_code::check_redemption(
                &record,
                &client,
                form.get("redirect_uri"),
                form.get("code_verifier"),
                now,
            )?;
            let user = state.store.user(&record.user_id).await?;
            if user.is_none_or(|u| u.disabled) {
                return Err(TokenError::InvalidGrant("the user can no longer sign in").into());
            }
            let audiences = if client.audiences.is_empty() {
                Resource::parse(&state.token_policy.issuer)
                    .into_iter()
                    .collect()
            } else {
                client.audiences.clone()
            };
            let grant = AccessTokenGrant::new(
                &state.token_policy.issuer,
                record.user_id.as_str(),
                &client.id,
                &audiences,
                record.scope.clone(),
                now,
                state.token_policy.access_token_lifetime,
            );
            redeemed = Some(record);
            grant
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
    let id_token = match redeemed {
        Some(record) if record.scope.iter().any(|s| s.as_str() == "openid") => {
            let claims = IdTokenClaims::for_code(
                &state.token_policy.issuer,
                &record,
                &access_token,
                key.alg(),
                now,
                state.token_policy.access_token_lifetime,
            );
            Some(
                key.sign_jwt("JWT", &claims)
                    .map_err(|e| ApiError::Internal(format!("signing failed: {e}")))?,
            )
        }
        _ => None,
    };
    tracing::debug!(client_id = %client.id, grant_type, kid = key.kid(), "access token issued");
    let scope = grant.scope.to_string();
    let body = serde_json::to_vec(&TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: grant.lifetime.0,
        scope: &scope,
        id_token,
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
