//! `/admin/v1/keys` and `/admin/v1/revocations`.

use axum::Json;
use axum::extract::State;
use portcullis_core::admin::{keys, tokens};
use portcullis_core::keyring::KeyRing;
use portcullis_core::revocation::Revoked;

use super::Body;
use super::auth::Admin;
use super::views::{KeyView, RevocationRequest, RevocationResult};
use crate::clock::system_now;
use crate::error::ApiError;
use crate::state::AppState;

/// Every signing key and its state.
#[utoipa::path(get, path = "/admin/v1/keys", tag = "keys",
    responses((status = 200, body = [KeyView])), security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<Vec<KeyView>>, ApiError> {
    let ring = KeyRing::new(state.store.keys().await?);
    let now = system_now();
    Ok(Json(
        ring.keys().map(|k| KeyView::of(&ring, k, now)).collect(),
    ))
}

/// Rotates every key chain, as `portcullis keys rotate` does; answers the
/// keys after the rotation.
#[utoipa::path(post, path = "/admin/v1/keys/rotate", tag = "keys",
    responses((status = 200, body = [KeyView])), security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Vec<KeyView>>, ApiError> {
    let now = system_now();
    keys::rotate(
        &*state.store,
        &state.master,
        state.signing_alg,
        state.rotation_timings,
        now,
    )
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(admin = %caller.client_id, "admin API: keys rotated");
    let ring = KeyRing::new(state.store.keys().await?);
    Ok(Json(
        ring.keys().map(|k| KeyView::of(&ring, k, now)).collect(),
    ))
}

/// Revokes any access or refresh token of this server, as `portcullis token revoke` does.
#[utoipa::path(post, path = "/admin/v1/revocations", tag = "tokens", request_body = RevocationRequest,
    responses((status = 200, body = RevocationResult)), security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(request): Body<RevocationRequest>,
) -> Result<Json<RevocationResult>, ApiError> {
    let outcome = tokens::revoke(&*state.store, &request.token, system_now()).await?;
    tracing::info!(admin = %caller.client_id, outcome = ?outcome, "admin API: revocation");
    let revoked = match outcome {
        Revoked::AccessToken => "access_token",
        Revoked::RefreshFamily => "refresh_family",
        Revoked::Nothing => "nothing",
    };
    Ok(Json(RevocationResult {
        revoked: revoked.to_owned(),
    }))
}
