//! Token exchange (RFC 8693): a confidential client registered for it (an
//! API calling another API) presents a token it received, this issuer's
//! access token or an ID token issued to it, and gets an access token for
//! the same subject, for another audience.
//!
//! - Delegation: with an `actor_token` (the caller's own token), the issued
//!   token carries `act: {"sub": actor}`, and the subject token's own `act`
//!   nested inside it, so a chain of services stays visible.
//! - Impersonation: without an actor token, only for clients created with
//!   `allow_impersonation`.
//! - The scope is at most the subject token's (for an ID token, what the
//!   user consented to this client) and the client's; the audience is one
//!   the client may request ([`Resource::audiences`]).
//! - The issued token stays in the subject token's family (`grant_id`):
//!   revoking the user's grant ends it too. A refresh token comes with it
//!   only for a client registered for `refresh_token` (and, with `openid`,
//!   asking `offline_access`), in the same family, and its access tokens
//!   carry the same `act`; it never gives ID tokens.

use portcullis_jose::{ClaimsPolicy, Verifier};
use serde_json::{Value, json};

use crate::access_token::{AccessTokenGrant, family_of};
use crate::grant::{GrantError, Grants, Issuance, refresh_token};
use crate::liveness::{NotLive, check_access_token};
use crate::user::UserId;
use crate::{Client, GrantType, Resource, ScopeSet, StoreError, TokenError, UnixTime};

/// The token type of an access token (RFC 8693 3).
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// The token type of an ID token (RFC 8693 3).
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";

/// What kind of token a client presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// An access token of this issuer.
    AccessToken,
    /// An ID token this issuer issued to the presenting client.
    IdToken,
}

impl TokenKind {
    fn parse(name: &str, text: &str) -> Result<Self, TokenError> {
        match text {
            ACCESS_TOKEN_TYPE => Ok(TokenKind::AccessToken),
            ID_TOKEN_TYPE => Ok(TokenKind::IdToken),
            other => Err(TokenError::InvalidRequest(format!(
                "{name} `{other}` is not supported: use {ACCESS_TOKEN_TYPE} or {ID_TOKEN_TYPE}"
            ))),
        }
    }
}

/// A presented token and its declared type.
#[derive(Debug, Clone)]
pub struct PresentedToken {
    /// The token.
    pub token: String,
    /// What it is declared to be.
    pub kind: TokenKind,
}

/// A token exchange request (RFC 8693 2.1).
#[derive(Debug, Clone)]
pub struct ExchangeRequest {
    /// The token whose subject the new token speaks for.
    pub subject: PresentedToken,
    /// The token of who acts (delegation); `None` asks for impersonation.
    pub actor: Option<PresentedToken>,
    /// A narrower scope, if asked for.
    pub scope: Option<ScopeSet>,
    /// The requested resources (`resource`, and `audience` as a URI).
    pub resources: Vec<Resource>,
}

impl ExchangeRequest {
    /// Parses the exchange's own parameters; `scope` and `resources` are
    /// parsed as for every grant.
    pub fn parse<'p>(
        param: &impl Fn(&str) -> Option<&'p str>,
        scope: Option<ScopeSet>,
        mut resources: Vec<Resource>,
    ) -> Result<Self, TokenError> {
        let require = |name: &str| {
            param(name).ok_or_else(|| TokenError::InvalidRequest(format!("{name} is missing")))
        };
        let subject = PresentedToken {
            token: require("subject_token")?.to_owned(),
            kind: TokenKind::parse("subject_token_type", require("subject_token_type")?)?,
        };
        let actor = match (param("actor_token"), param("actor_token_type")) {
            (Some(token), Some(kind)) => Some(PresentedToken {
                token: token.to_owned(),
                kind: TokenKind::parse("actor_token_type", kind)?,
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(TokenError::InvalidRequest(
                    "actor_token_type is missing".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(TokenError::InvalidRequest(
                    "actor_token_type without actor_token".into(),
                ));
            }
        };
        match param("requested_token_type") {
            None | Some(ACCESS_TOKEN_TYPE) => {}
            Some(other) => {
                return Err(TokenError::InvalidRequest(format!(
                    "requested_token_type `{other}` is not supported: only {ACCESS_TOKEN_TYPE} is issued"
                )));
            }
        }
        if let Some(audience) = param("audience") {
            // Audiences here are the URIs of resources (RFC 8707).
            let resource = Resource::parse(audience).ok_or_else(|| {
                TokenError::InvalidTarget(format!("audience `{audience}` is not a resource URI"))
            })?;
            resources.push(resource);
        }
        Ok(ExchangeRequest {
            subject,
            actor,
            scope,
            resources,
        })
    }
}

/// Who a presented token speaks for.
#[derive(Debug, Clone)]
struct Party {
    sub: String,
    /// The scope it may pass on.
    scope: ScopeSet,
    /// Its family, for access tokens of a user grant.
    grant_id: Option<String>,
    /// Its own `act`, when it was exchanged before.
    act: Option<Value>,
}

/// Which presented token a refusal is about.
#[derive(Debug, Clone, Copy)]
enum Role {
    Subject,
    Actor,
}

impl Role {
    fn invalid(self) -> GrantError {
        TokenError::InvalidGrant(match self {
            Role::Subject => "the subject_token is not a live token of this issuer for this client",
            Role::Actor => "the actor_token is not a live token of this issuer for this client",
        })
        .into()
    }
}

/// The token exchange grant.
pub async fn issue(
    grants: &Grants<'_>,
    client: &Client,
    request: ExchangeRequest,
    now: UnixTime,
) -> Result<Issuance, GrantError> {
    if !client.allows(GrantType::TokenExchange) {
        return Err(TokenError::UnauthorizedClient("this client may not exchange tokens").into());
    }
    let verifier = grants
        .verifier
        .ok_or_else(|| StoreError::Unavailable("the signing keys are not loaded".into()))?;
    let subject = party(
        grants,
        verifier,
        client,
        &request.subject,
        Role::Subject,
        now,
    )
    .await?;
    let act = match &request.actor {
        Some(actor) => {
            let actor = party(grants, verifier, client, actor, Role::Actor, now).await?;
            Some(delegation(&actor.sub, subject.act.clone()))
        }
        None if client.allow_impersonation => subject.act.clone(),
        None => {
            return Err(TokenError::UnauthorizedClient(
                "this client may not impersonate: send its own token as actor_token",
            )
            .into());
        }
    };
    let allowed = subject.scope.intersection(&client.scopes);
    let scope = match request.scope {
        None => allowed,
        Some(asked) if asked.is_subset_of(&allowed) => asked,
        Some(_) => {
            return Err(TokenError::InvalidScope(
                "the scope exceeds what the subject_token carries or this client may have".into(),
            )
            .into());
        }
    };
    let policy = grants.policy;
    let audiences = Resource::audiences(client, &request.resources, &policy.issuer, false)?;
    let mut access = AccessTokenGrant::new(
        &policy.issuer,
        &subject.sub,
        &client.id,
        &audiences,
        scope,
        now,
        policy.access_token_lifetime,
    );
    access.claims.grant_id = subject.grant_id.clone();
    access.claims.act = act;
    let refresh_token = match subject.grant_id.as_deref().and_then(family_of) {
        Some(family) if refresh_token::offered(client, &access.scope) => {
            let mut refresh = refresh_token::first_of_family(
                family,
                &client.id,
                &UserId::from_stored(subject.sub.clone()),
                access.scope.clone(),
                now,
                now,
                policy.refresh_token_lifetime,
            );
            refresh.record.act = access.claims.act.as_ref().map(Value::to_string);
            if !grants.store.add_to_family(&refresh.record).await? {
                return Err(
                    TokenError::InvalidGrant("the subject_token's grant was revoked").into(),
                );
            }
            Some(refresh.token)
        }
        _ => None,
    };
    Ok(Issuance {
        issued_token_type: Some(ACCESS_TOKEN_TYPE),
        access: Some(access),
        id_token: None,
        refresh_token,
    })
}

/// The `act` claim for `actor` acting on a subject that `prior` already
/// acted for (RFC 8693 4.1: the current actor outermost).
pub fn delegation(actor: &str, prior: Option<Value>) -> Value {
    let mut act = json!({ "sub": actor });
    if let Some(prior) = prior {
        act["act"] = prior;
    }
    act
}

async fn party(
    grants: &Grants<'_>,
    verifier: &Verifier,
    client: &Client,
    presented: &PresentedToken,
    role: Role,
    now: UnixTime,
) -> Result<Party, GrantError> {
    let issuer = grants.policy.issuer.as_str();
    match presented.kind {
        TokenKind::AccessToken => {
            let live = match check_access_token(
                grants.store,
                verifier,
                Some(issuer),
                None,
                &presented.token,
                now,
            )
            .await
            {
                Ok(live) => live,
                Err(NotLive::Store(err)) => return Err(err.into()),
                Err(NotLive::Invalid | NotLive::Revoked) => return Err(role.invalid()),
            };
            let text = |name: &str| live.claims.get(name).and_then(Value::as_str);
            Ok(Party {
                sub: text("sub")
                    .map(str::to_owned)
                    .ok_or_else(|| role.invalid())?,
                scope: live.scope.clone(),
                grant_id: text("grant_id").map(str::to_owned),
                act: live.claims.get("act").cloned(),
            })
        }
        TokenKind::IdToken => {
            // Issued to this client, by us, unexpired: the client holds it
            // because the user signed in to it.
            let policy = ClaimsPolicy::new(issuer, [client.id.as_str()])
                .leeway(0)
                .require_type("JWT");
            let claims = verifier
                .verify(&presented.token, &policy, now.0)
                .map_err(|_| role.invalid())?
                .claims;
            let sub = claims
                .get("sub")
                .and_then(Value::as_str)
                .ok_or_else(|| role.invalid())?;
            let user = UserId::from_stored(sub.to_owned());
            let enabled = grants.store.user(&user).await?.is_some_and(|u| !u.disabled);
            if !enabled {
                return Err(role.invalid());
            }
            let consented = grants.store.consent(&user, &client.id).await?;
            Ok(Party {
                sub: sub.to_owned(),
                scope: consented.unwrap_or_default(),
                grant_id: None,
                act: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delegation_nests_the_earlier_actors() {
        let first = delegation("service-a", None);
        assert_eq!(first, json!({"sub": "service-a"}));
        let second = delegation("service-b", Some(first));
        assert_eq!(
            second,
            json!({"sub": "service-b", "act": {"sub": "service-a"}})
        );
    }

    #[test]
    fn requests_need_both_parts_of_each_token_and_known_types() {
        let parse = |pairs: &[(&str, &str)]| {
            let owned: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let param = |name: &str| {
                owned
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            ExchangeRequest::parse(&param, None, vec![])
                .map(|r| (r.actor.is_some(), r.resources.len()))
                .map_err(|e| e.code())
        };
        let subject = [
            ("subject_token", "t"),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
        ];
        assert_eq!(parse(&subject), Ok((false, 0)));
        assert_eq!(parse(&subject[..1]), Err("invalid_request"));
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all = subject.to_vec();
            all.extend_from_slice(extra);
            parse(&all)
        };
        assert_eq!(
            with(&[("actor_token", "a"), ("actor_token_type", ID_TOKEN_TYPE)]),
            Ok((true, 0))
        );
        assert_eq!(with(&[("actor_token", "a")]), Err("invalid_request"));
        assert_eq!(
            with(&[("actor_token_type", ACCESS_TOKEN_TYPE)]),
            Err("invalid_request")
        );
        assert_eq!(
            with(&[(
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:refresh_token"
            )]),
            Err("invalid_request")
        );
        assert_eq!(
            with(&[("audience", "https://b.example/api")]),
            Ok((false, 1))
        );
        assert_eq!(with(&[("audience", "billing")]), Err("invalid_target"));
        assert_eq!(
            parse(&[("subject_token", "t"), ("subject_token_type", "saml2")]),
            Err("invalid_request")
        );
    }
}
