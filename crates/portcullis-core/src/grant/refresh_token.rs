//! Refresh tokens (RFC 6749 section 6, RFC 9700 section 4.14): opaque, stored
//! as hashes, rotated on every use; presenting a rotated token again revokes
//! its whole family, since either the client or an attacker holds a copy.

use crate::access_token::AccessTokenGrant;
use crate::grant::{Decided, GrantError, Grants, Issuance, id_token_for, settle};
use crate::store::CodeRecord;
pub use crate::store::RefreshRecord;
use crate::token_hash::TokenHash;
use crate::user::UserId;
use crate::{
    Client, ClientId, GrantType, Resource, ScopeSet, Seconds, TokenError, UnixTime, random,
};

/// A token request presenting a refresh token.
#[derive(Debug, Clone)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
    /// A narrower scope, if asked for.
    pub scope: Option<ScopeSet>,
    /// The requested resources (RFC 8707).
    pub resources: Vec<Resource>,
}

/// The refresh token grant: rotates the token in one transaction (spend,
/// successor, family extended). A refused request (wider scope, another
/// client, expired) leaves it unspent; a failure anywhere leaves it
/// unspent; a token spent before revokes its family (RFC 9700 4.14.2),
/// except a same-client retry within `refresh_reuse_interval`.
pub async fn issue(
    grants: &Grants<'_>,
    client: &Client,
    request: RefreshRequest,
    now: UnixTime,
) -> Result<Issuance, GrantError> {
    if !client.allows(GrantType::RefreshToken) {
        return Err(
            TokenError::UnauthorizedClient("this client may not use refresh tokens").into(),
        );
    }
    let policy = grants.policy;
    let decided = Decided::new();
    // What this rotation issues lives until the later of the successor's
    // and the access token's expiry; the family is extended to cover it.
    let live_until = (now + policy.refresh_token_lifetime).max(now + policy.access_token_lifetime);
    let check = |record: &RefreshRecord| {
        let (scope, next) = rotate(
            record,
            client,
            request.scope.clone(),
            now,
            policy.refresh_token_lifetime,
        )?;
        let mut access = AccessTokenGrant::for_user(
            policy,
            client,
            &record.user_id,
            scope,
            &request.resources,
            Some(&record.family),
            now,
        )?;
        access.claims.act = record
            .act
            .as_deref()
            .and_then(|act| serde_json::from_str(act).ok());
        let successor = next.record.clone();
        decided.keep((access, next.token));
        Ok(successor)
    };
    let rotated = grants
        .store
        .rotate_refresh(
            &TokenHash::of(&request.refresh_token),
            now,
            policy.refresh_reuse_interval,
            live_until,
            &check,
        )
        .await?;
    let record = settle(
        rotated,
        "the refresh token is not valid",
        "the refresh token is no longer valid",
    )?;
    let (access, token) = decided.take("the refresh token is not valid")?;
    Ok(Issuance {
        issued_token_type: None,
        // A delegated (exchanged) grant never signed the user in to this
        // client: no ID token.
        id_token: id_token_for(
            client,
            &record.user_id,
            &access.scope,
            record.auth_time,
            None,
        )
        .filter(|_| record.act.is_none())
        .map(|id_token| crate::grant::IdTokenFor {
            sid: record.sid.clone(),
            ..id_token
        }),
        access: Some(access),
        refresh_token: Some(token),
    })
}

/// A refresh token to return (once) and its record to store.
#[derive(Debug, Clone)]
pub struct IssuedRefresh {
    /// The token: 256 random bits.
    pub token: String,
    /// What to store.
    pub record: RefreshRecord,
}

/// Whether a token response for `client` with `scope` carries a refresh
/// token: the client must be registered for it, and an OpenID Connect
/// request must ask for `offline_access` (OIDC Core 11).
pub fn offered(client: &Client, scope: &ScopeSet) -> bool {
    let has = |name: &str| scope.iter().any(|s| s.as_str() == name);
    client.allows(GrantType::RefreshToken) && (has("offline_access") || !has("openid"))
}

fn issue_token(
    family: TokenHash,
    client_id: &ClientId,
    user_id: &UserId,
    scope: ScopeSet,
    auth_time: UnixTime,
    now: UnixTime,
    lifetime: Seconds,
) -> IssuedRefresh {
    let token = random::token::<32>();
    IssuedRefresh {
        record: RefreshRecord {
            hash: TokenHash::of(&token),
            family,
            client_id: client_id.clone(),
            user_id: user_id.clone(),
            scope,
            auth_time,
            sid: None,
            act: None,
            issued_at: now,
            expires_at: now + lifetime,
        },
        token,
    }
}

/// The first refresh token of a sign-in, issued with a redeemed code, to
/// live `lifetime` unused.
pub fn first(code: &CodeRecord, now: UnixTime, lifetime: Seconds) -> IssuedRefresh {
    let mut first = issue_token(
        code.hash,
        &code.client_id,
        &code.user_id,
        code.scope.clone(),
        code.auth_time,
        now,
        lifetime,
    );
    first.record.sid = code.sid.clone();
    first
}

/// The first refresh token of a sign-in without a code (the password and
/// device grants), in a family of its own.
pub fn first_of_family(
    family: TokenHash,
    client: &ClientId,
    user: &UserId,
    scope: ScopeSet,
    auth_time: UnixTime,
    now: UnixTime,
    lifetime: Seconds,
) -> IssuedRefresh {
    issue_token(family, client, user, scope, auth_time, now, lifetime)
}

/// Checks a refresh request against the presented (now used) token, and
/// returns the scope to grant and its successor, which lives `lifetime` unused.
pub fn rotate(
    record: &RefreshRecord,
    client: &Client,
    requested: Option<ScopeSet>,
    now: UnixTime,
    lifetime: Seconds,
) -> Result<(ScopeSet, IssuedRefresh), TokenError> {
    if !client.allows(GrantType::RefreshToken) {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use refresh tokens",
        ));
    }
    if record.client_id != client.id {
        return Err(TokenError::InvalidGrant(
            "the refresh token was not issued to this client",
        ));
    }
    if now >= record.expires_at {
        return Err(TokenError::InvalidGrant("the refresh token has expired"));
    }
    let scope = match requested {
        None => record.scope.clone(),
        Some(requested) if requested.is_subset_of(&record.scope) => requested,
        Some(_) => {
            return Err(TokenError::InvalidScope(
                "a refresh may narrow the scope, never widen it".into(),
            ));
        }
    };
    // The successor keeps the original scope, so a narrowed refresh can widen back.
    let mut next = issue_token(
        record.family,
        &record.client_id,
        &record.user_id,
        record.scope.clone(),
        record.auth_time,
        now,
        lifetime,
    );
    // Its ID tokens name the session the sign-in began in; its access
    // tokens name the same actor.
    next.record.sid = record.sid.clone();
    next.record.act = record.act.clone();
    Ok((scope, next))
}
