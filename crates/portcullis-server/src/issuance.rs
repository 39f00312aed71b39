//! Signs what core decided ([`Issuance`]): the access token, the ID token
//! (with `at_hash` over that access token) and the refresh token already
//! stored. The one signing step of `/token` and of implicit responses.

use portcullis_core::UnixTime;
use portcullis_core::access_token::TYP;
use portcullis_core::grant::Issuance;
use portcullis_core::id_token::{IdTokenClaims, Subject};

use crate::error::ApiError;
use crate::state::AppState;

/// Signed tokens, ready for a response.
#[derive(Debug)]
pub(crate) struct Signed {
    /// The access token and its lifetime and scope, when one was issued.
    pub access: Option<SignedAccess>,
    /// The ID token.
    pub id_token: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// What a token exchange issued (RFC 8693 2.2.1).
    pub issued_token_type: Option<&'static str>,
}

/// A signed access token with what the response reports about it.
#[derive(Debug)]
pub(crate) struct SignedAccess {
    pub token: String,
    pub expires_in: i64,
    pub scope: String,
}

/// Signs `issuance` with the keys active at `now`.
pub(crate) fn sign(
    state: &AppState,
    issuance: Issuance,
    now: UnixTime,
) -> Result<Signed, ApiError> {
    let no_key = || ApiError::Internal("no active signing key".into());
    let failed = |e: portcullis_jose::Error| ApiError::Internal(format!("signing failed: {e}"));
    let access = match &issuance.access {
        Some(grant) => {
            let key = state.access_token_key(now).ok_or_else(no_key)?;
            Some(SignedAccess {
                token: key.sign_jwt(TYP, &grant.claims).map_err(failed)?,
                expires_in: grant.lifetime.0,
                scope: grant.scope.to_string(),
            })
        }
        None => None,
    };
    let id_token = match issuance.id_token {
        Some(plan) => {
            let key = state.id_token_key(now).ok_or_else(no_key)?;
            let subject = Subject {
                user: &plan.user,
                client: &plan.client,
                auth_time: plan.auth_time,
                nonce: plan.nonce.as_deref(),
                sid: plan.sid.as_deref(),
            };
            let mut claims = IdTokenClaims::new(
                &state.token_policy.issuer,
                subject,
                access.as_ref().map(|a| a.token.as_str()),
                key.alg(),
                now,
                state.token_policy.access_token_lifetime,
            );
            if let Some(user_claims) = plan.user_claims {
                claims = claims.with_user_claims(user_claims);
            }
            Some(key.sign_jwt("JWT", &claims).map_err(failed)?)
        }
        None => None,
    };
    Ok(Signed {
        access,
        id_token,
        refresh_token: issuance.refresh_token,
        issued_token_type: issuance.issued_token_type,
    })
}
