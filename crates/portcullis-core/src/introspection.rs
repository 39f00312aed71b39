//! Token introspection (RFC 7662): is this token one of ours, and still good?

use portcullis_jose::Verifier;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::grant::authorization_code::TokenHash;
use crate::revocation::our_access_token;
use crate::user::UserId;
use crate::{ClientId, Store, StoreError, UnixTime};

/// The answer of the introspection endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Introspection {
    /// Whether the token is active.
    pub active: bool,
    /// The claims of an active token (`scope`, `client_id`, `sub`, `exp`,
    /// `iat`, `aud`, `iss`, `jti`) and `token_type`.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Introspection {
    /// The answer for a token that is not active, saying nothing more (RFC 7662 section 2.2).
    pub fn inactive() -> Self {
        Introspection {
            active: false,
            fields: Map::new(),
        }
    }
}

/// Introspects an access token issued by `issuer` and signed by a key of
/// `verifier`, from the token alone (signature, type, issuer, times).
pub fn introspect(verifier: &Verifier, issuer: &str, token: &str, now: UnixTime) -> Introspection {
    let Some(claims) = our_access_token(verifier, Some(issuer), token, now) else {
        return Introspection::inactive();
    };
    let mut fields: Map<String, Value> = [
        "scope",
        "client_id",
        "sub",
        "exp",
        "iat",
        "nbf",
        "aud",
        "iss",
        "jti",
    ]
    .into_iter()
    .filter_map(|name| claims.get(name).map(|v| (name.to_owned(), v.clone())))
    .collect();
    fields.insert("token_type".into(), Value::from("Bearer"));
    Introspection {
        active: true,
        fields,
    }
}

/// Introspects any token `caller` may ask about, against what is stored: an
/// access token (see [`introspect`]) is inactive once revoked, once its
/// client is deleted, or once its user is disabled or deleted; a refresh
/// token is active for the client it was issued to while it is unspent and
/// unexpired, and its client and user are still there.
pub async fn introspect_stored(
    store: &dyn Store,
    verifier: Option<&Verifier>,
    issuer: &str,
    token: &str,
    caller: &ClientId,
    now: UnixTime,
) -> Result<Introspection, StoreError> {
    if let Some(verifier) = verifier {
        let answer = introspect(verifier, issuer, token, now);
        if answer.active {
            let field = |name: &str| answer.fields.get(name).and_then(Value::as_str);
            let live = match (field("jti"), field("client_id"), field("sub")) {
                (Some(jti), Some(client), Some(sub)) => {
                    !store.access_token_denied(jti).await?
                        && client_exists(store, client).await?
                        && (sub == client || user_enabled(store, sub).await?)
                }
                _ => false,
            };
            return Ok(if live {
                answer
            } else {
                Introspection::inactive()
            });
        }
    }
    let Some(stored) = store.refresh_token(&TokenHash::of(token)).await? else {
        return Ok(Introspection::inactive());
    };
    let record = stored.record;
    let live = !stored.spent
        && record.expires_at > now
        && &record.client_id == caller
        && client_exists(store, record.client_id.as_str()).await?
        && user_enabled(store, record.user_id.as_str()).await?;
    if !live {
        return Ok(Introspection::inactive());
    }
    let mut fields = Map::new();
    fields.insert("scope".into(), Value::from(record.scope.to_string()));
    fields.insert("client_id".into(), Value::from(record.client_id.as_str()));
    fields.insert("sub".into(), Value::from(record.user_id.as_str()));
    fields.insert("exp".into(), Value::from(record.expires_at.0));
    fields.insert("iat".into(), Value::from(record.issued_at.0));
    fields.insert("iss".into(), Value::from(issuer));
    fields.insert("token_type".into(), Value::from("refresh_token"));
    Ok(Introspection {
        active: true,
        fields,
    })
}

async fn client_exists(store: &dyn Store, id: &str) -> Result<bool, StoreError> {
    match ClientId::parse(id) {
        Some(id) => Ok(store.client(&id).await?.is_some()),
        None => Ok(false),
    }
}

async fn user_enabled(store: &dyn Store, id: &str) -> Result<bool, StoreError> {
    let user = store.user(&UserId::from_stored(id.to_owned())).await?;
    Ok(user.is_some_and(|u| !u.disabled))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_token::TYP;
    use portcullis_jose::{Algorithm, SigningKey};
    use serde_json::json;

    fn token(key: &SigningKey, typ: &str, iss: &str, exp: i64) -> String {
        key.sign_jwt(typ, &json!({"iss": iss, "sub": "s", "aud": "a", "client_id": "c", "scope": "x", "exp": exp, "iat": 1}))
            .unwrap()
    }

    #[test]
    fn our_live_access_tokens_are_active_with_their_claims() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let verifier = Verifier::from_jwks(&key.public_jwks()).unwrap();
        let answer = introspect(
            &verifier,
            "https://id",
            &token(&key, TYP, "https://id", 100),
            UnixTime(50),
        );
        assert!(answer.active);
        assert_eq!(answer.fields["client_id"], "c");
        assert_eq!(answer.fields["token_type"], "Bearer");
        assert_eq!(serde_json::to_value(&answer).unwrap()["active"], true);
    }

    #[test]
    fn expired_foreign_or_other_tokens_are_inactive_and_say_nothing() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let verifier = Verifier::from_jwks(&key.public_jwks()).unwrap();
        let stranger = SigningKey::generate(Algorithm::ES256).unwrap();
        for (token, now) in [
            (token(&key, TYP, "https://id", 100), 100),
            (token(&key, TYP, "https://other", 100), 50),
            (token(&key, "JWT", "https://id", 100), 50),
            (token(&stranger, TYP, "https://id", 100), 50),
            ("garbage".to_owned(), 50),
        ] {
            let answer = introspect(&verifier, "https://id", &token, UnixTime(now));
            assert_eq!(
                serde_json::to_value(&answer).unwrap(),
                json!({"active": false})
            );
        }
    }
}
