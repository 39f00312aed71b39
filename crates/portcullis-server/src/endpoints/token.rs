//! `/token` (RFC 6749 section 3.2): client authentication, then the grant.

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::access_token::{AccessTokenGrant, TYP};
use portcullis_core::grant::authorization_code::{self, TokenHash};
use portcullis_core::grant::client_credentials::{self, ClientCredentialsRequest};
use portcullis_core::grant::password;
use portcullis_core::grant::refresh_token::{self, IssuedRefresh};
use portcullis_core::id_token::{IdTokenClaims, Subject};
use portcullis_core::password::{Password, PasswordHash};
use portcullis_core::store::{Redemption, RefreshUse};
use portcullis_core::user::UserId;
use portcullis_core::user::Username;
use portcullis_core::{Client, Resource, ScopeSet, TokenError, UnixTime};
use serde::Serialize;
use std::net::SocketAddr;

use crate::client_auth;
use crate::clock::system_now;
use crate::error::ApiError;
use crate::form::Form;
use crate::state::{AppState, counted};

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
}

/// What a grant for a signed-in user adds to the access token.
struct UserGrant {
    user: UserId,
    auth_time: UnixTime,
    nonce: Option<String>,
    refresh: Option<IssuedRefresh>,
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
    let client = if matches!(
        grant_type,
        "authorization_code" | "refresh_token" | "password"
    ) {
        client_auth::authenticate_or_public(state, headers, form).await?
    } else {
        client_auth::authenticate(state, headers, form).await?
    };
    let now = system_now();
    let (grant, for_user) = match grant_type {
        "client_credentials" => {
            let request =
                ClientCredentialsRequest::parse(form.get("scope"), &form.all("resource"))?;
            let grant = client_credentials::grant(&client, request, &state.token_policy, now)?;
            (grant, None)
        }
        "authorization_code" => {
            let code = form.require("code")?;
            let record = match state.store.redeem_code(&TokenHash::of(code), now).await? {
                Redemption::Fresh(record) => record,
                Redemption::Reused(record) => {
                    // RFC 6749 section 4.1.2: revoke what the first redemption issued.
                    state.store.revoke_family(&record.hash, now).await?;
                    tracing::warn!(client_id = %record.client_id, "an authorization code was presented twice; its refresh tokens are revoked");
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
            require_active_user(state, &record.user_id).await?;
            let refresh = refresh_token::offered(&client, &record.scope)
                .then(|| refresh_token::first(&record, now, state.refresh_lifetime));
            let grant =
                user_access_token(state, &client, &record.user_id, record.scope.clone(), now);
            let for_user = UserGrant {
                user: record.user_id,
                auth_time: record.auth_time,
                nonce: record.nonce,
                refresh,
            };
            (grant, Some(for_user))
        }
        "refresh_token" => {
            let presented = form.require("refresh_token")?;
            let requested = match form.get("scope") {
                None => None,
                Some(text) => Some(
                    ScopeSet::parse(text)
                        .ok_or_else(|| TokenError::InvalidScope("the scope is malformed".into()))?,
                ),
            };
            let record = match state
                .store
                .use_refresh(&TokenHash::of(presented), now)
                .await?
            {
                RefreshUse::Fresh(record) => record,
                RefreshUse::Reused(record) => {
                    tracing::warn!(client_id = %record.client_id, "a rotated refresh token was presented again; its family is revoked");
                    return Err(
                        TokenError::InvalidGrant("the refresh token is no longer valid").into(),
                    );
                }
                RefreshUse::Unknown => {
                    return Err(TokenError::InvalidGrant("the refresh token is not valid").into());
                }
            };
            let (scope, next) =
                refresh_token::rotate(&record, &client, requested, now, state.refresh_lifetime)?;
            require_active_user(state, &record.user_id).await?;
            let grant = user_access_token(state, &client, &record.user_id, scope, now);
            let for_user = UserGrant {
                user: record.user_id,
                auth_time: record.auth_time,
                nonce: None,
                refresh: Some(next),
            };
            (grant, Some(for_user))
        }
        "password" => {
            let scope = password::check_request(&client, form.get("scope"))?;
            let username = form.require("username")?.to_owned();
            let address = state.client_address(peer, headers);
            if counted(state.throttle().blocked(&username, &address, now).await).is_some() {
                return Err(
                    TokenError::InvalidGrant("too many failed sign-ins; try again later").into(),
                );
            }
            let presented = Password::presented(form.require("password")?);
            let user = match Username::parse(&username) {
                Ok(name) => state.store.user_by_username(&name.key()).await?,
                Err(_) => None,
            };
            // The same work, and the same answer, whether or not the account exists.
            let checked = user.clone();
            let verified = tokio::task::spawn_blocking(move || match &checked {
                Some(user) => user.password_hash.verify(&presented),
                None => {
                    PasswordHash::verify_nothing(&presented);
                    false
                }
            })
            .await
            .unwrap_or(false);
            let user = match user {
                Some(user) if verified && !user.disabled => user,
                _ => {
                    counted(state.throttle().failed(&username, &address, now).await);
                    state.metrics.login_failure();
                    tracing::info!(client_id = %client.id, "failed password grant");
                    return Err(
                        TokenError::InvalidGrant("the username or password is not right").into(),
                    );
                }
            };
            let refresh = refresh_token::offered(&client, &scope).then(|| {
                refresh_token::first_for_password(
                    &client.id,
                    &user.id,
                    scope.clone(),
                    now,
                    state.refresh_lifetime,
                )
            });
            let grant = user_access_token(state, &client, &user.id, scope, now);
            let for_user = UserGrant {
                user: user.id,
                auth_time: now,
                nonce: None,
                refresh,
            };
            (grant, Some(for_user))
        }
        other => {
            return Err(TokenError::UnsupportedGrantType(format!(
                "grant type `{other}` is not supported"
            ))
            .into());
        }
    };
    let no_key = || ApiError::Internal("no active signing key".into());
    let key = state.access_token_key(now).ok_or_else(no_key)?;
    let sign_error = |e: portcullis_jose::Error| ApiError::Internal(format!("signing failed: {e}"));
    let access_token = key.sign_jwt(TYP, &grant.claims).map_err(sign_error)?;
    let mut id_token = None;
    let mut refresh_token = None;
    if let Some(for_user) = for_user {
        if grant.scope.iter().any(|s| s.as_str() == "openid") {
            let subject = Subject {
                user: &for_user.user,
                client: &client.id,
                auth_time: for_user.auth_time,
                nonce: for_user.nonce.as_deref(),
            };
            let id_key = state.id_token_key(now).ok_or_else(no_key)?;
            let claims = IdTokenClaims::new(
                &state.token_policy.issuer,
                subject,
                Some(&access_token),
                id_key.alg(),
                now,
                state.token_policy.access_token_lifetime,
            );
            id_token = Some(id_key.sign_jwt("JWT", &claims).map_err(sign_error)?);
        }
        if let Some(issued) = for_user.refresh {
            state.store.insert_refresh(&issued.record).await?;
            refresh_token = Some(issued.token);
        }
    }
    tracing::debug!(client_id = %client.id, grant_type, kid = key.kid(), "access token issued");
    let scope = grant.scope.to_string();
    let body = serde_json::to_vec(&TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: grant.lifetime.0,
        scope: &scope,
        id_token,
        refresh_token,
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

/// A disabled or deleted user gets no more tokens.
async fn require_active_user(state: &AppState, user: &UserId) -> Result<(), ApiError> {
    match state.store.user(user).await? {
        Some(user) if !user.disabled => Ok(()),
        _ => Err(TokenError::InvalidGrant("the user can no longer sign in").into()),
    }
}

/// An access token for `user` via `client`: for the client's audiences, or
/// the issuer when it has none.
pub(crate) fn user_access_token(
    state: &AppState,
    client: &Client,
    user: &UserId,
    scope: ScopeSet,
    now: UnixTime,
) -> AccessTokenGrant {
    let audiences: Vec<Resource> = if client.audiences.is_empty() {
        Resource::parse(&state.token_policy.issuer)
            .into_iter()
            .collect()
    } else {
        client.audiences.clone()
    };
    AccessTokenGrant::new(
        &state.token_policy.issuer,
        user.as_str(),
        &client.id,
        &audiences,
        scope,
        now,
        state.token_policy.access_token_lifetime,
    )
}
