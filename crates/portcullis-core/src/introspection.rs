//! Token introspection (RFC 7662): is this token one of ours, and still good?

use portcullis_jose::{ClaimsPolicy, Verifier};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::UnixTime;
use crate::access_token::TYP;

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

/// Introspects an access token issued by `issuer` and signed by a key of `verifier`.
pub fn introspect(verifier: &Verifier, issuer: &str, token: &str, now: UnixTime) -> Introspection {
    let policy = ClaimsPolicy::times_only().leeway(0).require_type(TYP);
    let Ok(verified) = verifier.verify(token, &policy, now.0) else {
        return Introspection::inactive();
    };
    if verified.claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Introspection::inactive();
    }
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
    .filter_map(|name| {
        verified
            .claims
            .get(name)
            .map(|v| (name.to_owned(), v.clone()))
    })
    .collect();
    fields.insert("token_type".into(), Value::from("Bearer"));
    Introspection {
        active: true,
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
