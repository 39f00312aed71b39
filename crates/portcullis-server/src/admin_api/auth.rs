//! The admin API's gate: a bearer token of this server with the
//! `portcullis:admin` scope and audience, not revoked, from a client that
//! still exists.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use portcullis_core::admin::access::{self, ADMIN_SCOPE, AdminAccessError, AdminCaller};

use crate::bearer::bearer;
use crate::clock::system_now;
use crate::error::{ApiError, BearerError};
use crate::state::AppState;

/// An authenticated admin caller.
#[derive(Debug)]
pub(crate) struct Admin(pub AdminCaller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let invalid = ApiError::Bearer(Some(BearerError::InvalidToken));
        let token = bearer(&parts.headers)?;
        let Some(verifier) = state.keys.verifier() else {
            return Err(invalid);
        };
        let caller = access::check(
            &*state.store,
            &verifier,
            &state.token_policy.issuer,
            token,
            system_now(),
        )
        .await
        .map_err(|e| match e {
            AdminAccessError::InvalidToken => invalid,
            AdminAccessError::InsufficientScope => {
                ApiError::Bearer(Some(BearerError::InsufficientScope(ADMIN_SCOPE)))
            }
            AdminAccessError::Store(err) => err.into(),
        })?;
        Ok(Admin(caller))
    }
}
