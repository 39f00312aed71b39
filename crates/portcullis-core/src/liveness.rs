//! Whether an access token is live: the one answer `/userinfo`,
//! `/introspect`, `/revoke` and the admin API's gate all ask for.
//!
//! Live means: signed by a published key of ours, `typ` `at+jwt`, this
//! issuer, unexpired (no leeway), for the expected audience when the caller
//! has one, its `jti` not denied, its grant (token family) not revoked, its
//! client still registered, and its user (when it has one) still enabled.

use portcullis_jose::{ClaimsPolicy, Verifier};
use serde_json::{Map, Value};

use crate::access_token::{TYP, family_of};
use crate::user::{User, UserId};
use crate::{ClientId, ScopeSet, Store, StoreError, UnixTime};

/// A live access token, with what its callers need from it.
#[derive(Debug, Clone)]
pub struct LiveAccessToken {
    /// Every claim, as signed.
    pub claims: Map<String, Value>,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user it speaks for; `None` for a client's own token.
    pub user: Option<User>,
    /// Its scopes.
    pub scope: ScopeSet,
    /// Its `jti`.
    pub jti: String,
    /// When it expires.
    pub expires_at: UnixTime,
}

/// Why a token is not live.
#[derive(Debug, thiserror::Error)]
pub enum NotLive {
    /// Not an unexpired access token of this issuer (for this audience).
    #[error("not a valid access token")]
    Invalid,
    /// Ours, but revoked: denied, its grant revoked, its client deleted or
    /// its user disabled or deleted.
    #[error("the access token was revoked")]
    Revoked,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks `token` against `verifier` (the published keys), `issuer` (any
/// issuer signing with our keys when `None`, for the CLI), the `audience`
/// when given (with an issuer), and the store.
pub async fn check_access_token(
    store: &dyn Store,
    verifier: &Verifier,
    issuer: Option<&str>,
    audience: Option<&str>,
    token: &str,
    now: UnixTime,
) -> Result<LiveAccessToken, NotLive> {
    let policy = match (issuer, audience) {
        (Some(issuer), Some(aud)) => ClaimsPolicy::new(issuer, [aud]),
        (Some(issuer), None) => ClaimsPolicy::issuer_only(issuer),
        (None, _) => ClaimsPolicy::times_only(),
    }
    .leeway(0)
    .require_type(TYP);
    let claims = verifier
        .verify(token, &policy, now.0)
        .map_err(|_| NotLive::Invalid)?
        .claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let (Some(jti), Some(client_id), Some(sub), Some(exp)) = (
        text("jti"),
        text("client_id").and_then(ClientId::parse),
        text("sub"),
        claims.get("exp").and_then(Value::as_i64),
    ) else {
        return Err(NotLive::Invalid);
    };
    if store.access_token_denied(jti).await? {
        return Err(NotLive::Revoked);
    }
    if let Some(grant) = text("grant_id") {
        let family = family_of(grant).ok_or(NotLive::Invalid)?;
        if !store.family_live(&family).await? {
            return Err(NotLive::Revoked);
        }
    }
    if store.client(&client_id).await?.is_none() {
        return Err(NotLive::Revoked);
    }
    let user = if sub == client_id.as_str() {
        None
    } else {
        let user = store
            .user(&UserId::from_stored(sub.to_owned()))
            .await?
            .filter(|u| !u.disabled)
            .ok_or(NotLive::Revoked)?;
        Some(user)
    };
    let scope = text("scope").and_then(ScopeSet::parse).unwrap_or_default();
    Ok(LiveAccessToken {
        jti: jti.to_owned(),
        client_id,
        user,
        scope,
        expires_at: UnixTime(exp),
        claims,
    })
}
