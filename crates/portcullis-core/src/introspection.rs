//! Token introspection (RFC 7662): is this token one of ours, and still good?

use portcullis_jose::Verifier;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::liveness::{NotLive, check_access_token};
use crate::token_hash::TokenHash;
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

/// The answer for a live access token: its claims and `token_type`.
fn active(claims: &Map<String, Value>) -> Introspection {
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

/// Introspects any token `caller` may ask about: an access token is active
/// while it is live ([`check_access_token`]: revoked, of a revoked grant, of
/// a deleted client or of a disabled or deleted user, it is not); a refresh
/// token is active for the client it was issued to while it is unspent,
/// its family live, unexpired, and its client and user still there.
pub async fn introspect_stored(
    store: &dyn Store,
    verifier: Option<&Verifier>,
    issuer: &str,
    token: &str,
    caller: &ClientId,
    now: UnixTime,
) -> Result<Introspection, StoreError> {
    if let Some(verifier) = verifier {
        match check_access_token(store, verifier, Some(issuer), None, token, now).await {
            Ok(live) => return Ok(active(&live.claims)),
            Err(NotLive::Revoked) => return Ok(Introspection::inactive()),
            Err(NotLive::Store(err)) => return Err(err),
            Err(NotLive::Invalid) => {}
        }
    }
    let Some(stored) = store.refresh_token(&TokenHash::of(token)).await? else {
        return Ok(Introspection::inactive());
    };
    let record = stored.record;
    let live = !stored.spent
        && record.expires_at > now
        && &record.client_id == caller
        && store.client(&record.client_id).await?.is_some()
        && store
            .user(&record.user_id)
            .await?
            .is_some_and(|u| !u.disabled);
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
