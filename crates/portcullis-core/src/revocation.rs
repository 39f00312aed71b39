//! Token revocation (RFC 7009), shared by `/revoke` and `portcullis token revoke`.
//!
//! An access token is a JWT: revoking it puts its `jti` on a deny list until
//! its `exp`, which introspection and `/userinfo` consult. A refresh token is
//! opaque: revoking it revokes its whole family (every token of that sign-in).
//! A client may revoke only what was issued to it; anything else is answered
//! as if it had worked, without effect (RFC 7009 section 2.2).

use portcullis_jose::Verifier;

use crate::liveness::{NotLive, check_access_token};
use crate::token_hash::TokenHash;
use crate::{ClientId, Store, StoreError, UnixTime};

/// Who asks for the revocation.
#[derive(Debug, Clone, Copy)]
pub enum Revoker<'a> {
    /// An authenticated client: only its own tokens.
    Client(&'a ClientId),
    /// An administrator: any token.
    Admin,
}

impl Revoker<'_> {
    fn may_revoke(&self, owner: &str) -> bool {
        match self {
            Revoker::Client(id) => id.as_str() == owner,
            Revoker::Admin => true,
        }
    }
}

/// What a revocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// An access token is denied until it expires.
    AccessToken,
    /// A refresh token's family is revoked.
    RefreshFamily,
    /// Nothing: the token is unknown, expired, or not the caller's.
    Nothing,
}

/// Revokes `token` for `by`. `verifier` holds the published keys (none
/// when there are no keys, and then no access token can be ours); `issuer`,
/// when known, must be the access token's.
pub async fn revoke(
    store: &dyn Store,
    verifier: Option<&Verifier>,
    issuer: Option<&str>,
    token: &str,
    by: Revoker<'_>,
    now: UnixTime,
) -> Result<Revoked, StoreError> {
    if let Some(verifier) = verifier {
        match check_access_token(store, verifier, issuer, None, token, now).await {
            Ok(live) => {
                if !by.may_revoke(live.client_id.as_str()) {
                    return Ok(Revoked::Nothing);
                }
                store
                    .deny_access_token(&live.jti, &live.client_id, live.expires_at, now)
                    .await?;
                return Ok(Revoked::AccessToken);
            }
            // Ours, and dead already: nothing left to revoke.
            Err(NotLive::Revoked) => return Ok(Revoked::Nothing),
            Err(NotLive::Store(err)) => return Err(err),
            Err(NotLive::Invalid) => {}
        }
    }
    let Some(stored) = store.refresh_token(&TokenHash::of(token)).await? else {
        return Ok(Revoked::Nothing);
    };
    if !by.may_revoke(stored.record.client_id.as_str()) {
        return Ok(Revoked::Nothing);
    }
    store.revoke_family(&stored.record.family, now).await?;
    Ok(Revoked::RefreshFamily)
}
