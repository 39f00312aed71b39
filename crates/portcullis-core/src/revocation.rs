//! Token revocation (RFC 7009), shared by `/revoke` and `portcullis token revoke`.
//!
//! An access token is a JWT: revoking it puts its `jti` on a deny list until
//! its `exp`, which introspection and `/userinfo` consult. A refresh token is
//! opaque: revoking it revokes its whole family (every token of that sign-in).
//! A client may revoke only what was issued to it; anything else is answered
//! as if it had worked, without effect (RFC 7009 section 2.2).

use portcullis_jose::{ClaimsPolicy, Verifier};
use serde_json::Value;

use crate::access_token::TYP;
use crate::grant::authorization_code::TokenHash;
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

/// The claims of one of our unexpired access tokens, if `token` is one:
/// signed by a key of `verifier` and, if given, issued by `issuer`.
pub(crate) fn our_access_token(
    verifier: &Verifier,
    issuer: Option<&str>,
    token: &str,
    now: UnixTime,
) -> Option<serde_json::Map<String, Value>> {
    let policy = ClaimsPolicy::times_only().leeway(0).require_type(TYP);
    let verified = verifier.verify(token, &policy, now.0).ok()?;
    let iss = verified.claims.get("iss").and_then(Value::as_str);
    (issuer.is_none() || iss == issuer).then_some(verified.claims)
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
    if let Some(claims) = verifier.and_then(|v| our_access_token(v, issuer, token, now)) {
        let field = |name: &str| claims.get(name).and_then(Value::as_str);
        let (Some(jti), Some(owner), Some(exp)) = (
            field("jti"),
            field("client_id"),
            claims.get("exp").and_then(Value::as_i64),
        ) else {
            return Ok(Revoked::Nothing);
        };
        let Some(owner) = ClientId::parse(owner) else {
            return Ok(Revoked::Nothing);
        };
        if !by.may_revoke(owner.as_str()) {
            return Ok(Revoked::Nothing);
        }
        store
            .deny_access_token(jti, &owner, UnixTime(exp), now)
            .await?;
        return Ok(Revoked::AccessToken);
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
