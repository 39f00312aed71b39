//! RFC 9068 JWT access tokens: the claims Portcullis signs.

use serde::Serialize;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::token_hash::TokenHash;
use crate::user::UserId;
use crate::{Client, ClientId, Resource, ScopeSet, Seconds, TokenError, UnixTime, random};

/// What the server decides for every token it issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// The issuer URL (`iss`), also the audience of last resort and of
    /// tokens for `/userinfo`.
    pub issuer: String,
    /// Access token lifetime.
    pub access_token_lifetime: Seconds,
    /// How long an unused refresh token lives.
    pub refresh_token_lifetime: Seconds,
    /// How long after a rotation the same client may present the rotated
    /// token again for a fresh successor (0: never; reuse revokes the family).
    pub refresh_reuse_interval: Seconds,
}

/// The `grant_id` claim naming a token family.
pub fn grant_id(family: &TokenHash) -> String {
    URL_SAFE_NO_PAD.encode(family.0)
}

/// The family a `grant_id` claim names.
pub fn family_of(grant_id: &str) -> Option<TokenHash> {
    URL_SAFE_NO_PAD
        .decode(grant_id)
        .ok()
        .and_then(|bytes| TokenHash::from_bytes(&bytes))
}

/// The JOSE `typ` of an RFC 9068 access token.
pub const TYP: &str = "at+jwt";

/// The claims of a JWT access token (RFC 9068 section 2.2).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AccessTokenClaims {
    /// The issuer URL.
    pub iss: String,
    /// The subject: the resource owner, or the client itself for client credentials.
    pub sub: String,
    /// The audience: one or more resource indicators.
    #[serde(serialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// The client the token was issued to.
    pub client_id: String,
    /// Granted scopes, space-delimited; omitted when none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// A unique identifier.
    pub jti: String,
    /// The sign-in grant (token family) it was issued from, for a user;
    /// revoking the family ends the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// Who acts for the subject (RFC 8693 4.1), for an exchanged token:
    /// `{"sub": ...}`, with the earlier actors of a chain nested in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<serde_json::Value>,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
}

fn one_or_many<S: serde::Serializer>(aud: &[String], s: S) -> Result<S::Ok, S::Error> {
    match aud {
        [one] => s.serialize_str(one),
        many => many.serialize(s),
    }
}

/// An access token to sign, with what the token response reports about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenGrant {
    /// The claims to sign.
    pub claims: AccessTokenClaims,
    /// Its lifetime, for `expires_in`.
    pub lifetime: Seconds,
    /// The granted scopes, for the response's `scope`.
    pub scope: ScopeSet,
}

impl AccessTokenGrant {
    /// Builds the claims of a token for `client` acting for `subject`.
    pub fn new(
        issuer: &str,
        subject: &str,
        client: &ClientId,
        audiences: &[Resource],
        scope: ScopeSet,
        now: UnixTime,
        lifetime: Seconds,
    ) -> Self {
        AccessTokenGrant {
            claims: AccessTokenClaims {
                iss: issuer.to_owned(),
                sub: subject.to_owned(),
                aud: audiences.iter().map(|a| a.as_str().to_owned()).collect(),
                client_id: client.as_str().to_owned(),
                scope: scope.to_string(),
                jti: random::token::<16>(),
                grant_id: None,
                act: None,
                iat: now.0,
                exp: (now + lifetime).0,
            },
            lifetime,
            scope,
        }
    }
}

impl AccessTokenGrant {
    /// The access token of a user grant: for the requested resources, else
    /// the client's audiences, and for this issuer (its `/userinfo`) when
    /// the scope has `openid` and no resource was requested.
    pub fn for_user(
        policy: &TokenPolicy,
        client: &Client,
        user: &UserId,
        scope: ScopeSet,
        resources: &[Resource],
        family: Option<&TokenHash>,
        now: UnixTime,
    ) -> Result<Self, TokenError> {
        let openid = scope.iter().any(|s| s.as_str() == "openid");
        let audiences = Resource::audiences(client, resources, &policy.issuer, openid)?;
        let mut grant = AccessTokenGrant::new(
            &policy.issuer,
            user.as_str(),
            &client.id,
            &audiences,
            scope,
            now,
            policy.access_token_lifetime,
        );
        grant.claims.grant_id = family.map(grant_id);
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_audience_is_a_string_and_several_are_an_array() {
        let id = ClientId::parse("c").unwrap();
        let one = [Resource::parse("https://a").unwrap()];
        let grant = AccessTokenGrant::new(
            "i",
            "c",
            &id,
            &one,
            ScopeSet::default(),
            UnixTime(10),
            Seconds(5),
        );
        let json = serde_json::to_value(&grant.claims).unwrap();
        assert_eq!(json["aud"], "https://a");
        assert_eq!(json["exp"], 15);
        assert!(json.get("scope").is_none());
        let two = [one[0].clone(), Resource::parse("https://b").unwrap()];
        let grant = AccessTokenGrant::new(
            "i",
            "c",
            &id,
            &two,
            ScopeSet::default(),
            UnixTime(10),
            Seconds(5),
        );
        assert_eq!(
            serde_json::to_value(&grant.claims).unwrap()["aud"],
            serde_json::json!(["https://a", "https://b"])
        );
    }

    #[test]
    fn every_token_has_its_own_jti() {
        let id = ClientId::parse("c").unwrap();
        let aud = [Resource::parse("https://a").unwrap()];
        let a = AccessTokenGrant::new(
            "i",
            "c",
            &id,
            &aud,
            ScopeSet::default(),
            UnixTime(0),
            Seconds(1),
        );
        let b = AccessTokenGrant::new(
            "i",
            "c",
            &id,
            &aud,
            ScopeSet::default(),
            UnixTime(0),
            Seconds(1),
        );
        assert_ne!(a.claims.jti, b.claims.jti);
    }
}
