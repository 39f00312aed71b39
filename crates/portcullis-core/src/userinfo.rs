//! The UserInfo endpoint's answer (OIDC Core 5.3 and 5.4): the claims the
//! access token's scopes allow.

use portcullis_jose::{ClaimsPolicy, Verifier};
use serde_json::{Map, Value, json};

use crate::access_token::TYP;
use crate::user::{User, UserId};
use crate::{ScopeSet, UnixTime};

/// Why a bearer token cannot read user info (RFC 6750 section 3.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserInfoError {
    /// Not a valid, unexpired access token of this issuer for a user.
    #[error("the access token is not valid")]
    InvalidToken,
    /// A valid token without the `openid` scope.
    #[error("the access token lacks the openid scope")]
    InsufficientScope,
}

/// The user, scopes and `jti` of a valid access token issued by `issuer`
/// (the caller checks the `jti` against the deny list).
pub fn token_subject(
    verifier: &Verifier,
    issuer: &str,
    token: &str,
    now: UnixTime,
) -> Result<(UserId, ScopeSet, String), UserInfoError> {
    let policy = ClaimsPolicy::issuer_only(issuer)
        .leeway(0)
        .require_type(TYP);
    let verified = verifier
        .verify(token, &policy, now.0)
        .map_err(|_| UserInfoError::InvalidToken)?;
    let sub = verified.claims.get("sub").and_then(Value::as_str);
    let scope = verified
        .claims
        .get("scope")
        .and_then(Value::as_str)
        .and_then(ScopeSet::parse)
        .unwrap_or_default();
    let sub = sub.ok_or(UserInfoError::InvalidToken)?;
    let jti = verified
        .claims
        .get("jti")
        .and_then(Value::as_str)
        .ok_or(UserInfoError::InvalidToken)?;
    if !scope.iter().any(|s| s.as_str() == "openid") {
        return Err(UserInfoError::InsufficientScope);
    }
    Ok((UserId::from_stored(sub.to_owned()), scope, jti.to_owned()))
}

/// The claims of `user` that `scope` releases: `sub` always, name fields
/// for `profile`, `email` and `email_verified` for `email`. Absent values are
/// left out rather than sent as null.
pub fn claims(user: &User, scope: &ScopeSet) -> Map<String, Value> {
    let has = |name: &str| scope.iter().any(|s| s.as_str() == name);
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.id.as_str()));
    let p = &user.profile;
    if has("profile") {
        out.insert("preferred_username".into(), json!(user.username.as_str()));
        for (name, value) in [
            ("name", &p.name),
            ("given_name", &p.given_name),
            ("family_name", &p.family_name),
        ] {
            if let Some(value) = value {
                out.insert(name.into(), json!(value));
            }
        }
    }
    if has("email")
        && let Some(email) = &p.email
    {
        out.insert("email".into(), json!(email));
        out.insert("email_verified".into(), json!(p.email_verified));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::{Password, PasswordHash};
    use crate::user::{NewUser, Profile, Username};

    #[test]
    fn claims_follow_the_scopes() {
        let user = NewUser {
            username: Username::parse("alice").unwrap_or_else(|e| panic!("{e}")),
            profile: Profile {
                email: Some("alice@example.com".into()),
                email_verified: false,
                name: Some("Alice Liddell".into()),
                given_name: None,
                family_name: None,
            },
            password_hash: PasswordHash::create(&Password::presented("irrelevant")),
        }
        .register(UnixTime(0));
        let only = |s: &str| claims(&user, &ScopeSet::parse(s).unwrap_or_default());
        assert_eq!(
            Value::Object(only("openid")),
            json!({"sub": user.id.as_str()})
        );
        assert_eq!(
            Value::Object(only("openid profile")),
            json!({"sub": user.id.as_str(), "preferred_username": "alice", "name": "Alice Liddell"})
        );
        assert_eq!(
            Value::Object(only("openid email")),
            json!({"sub": user.id.as_str(), "email": "alice@example.com", "email_verified": false})
        );
    }
}
