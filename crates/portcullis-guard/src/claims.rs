//! The verified claims handed to handlers.

use std::sync::Arc;

use http::request::Parts;
use serde_json::{Map, Value};

use crate::Rejection;

/// The claims of a verified access token. Handlers take it as an extractor
/// on routes behind [`RequireBearer`](crate::RequireBearer). Cloning it is
/// cheap (the claims are shared).
///
/// ```
/// use portcullis_guard::AccessClaims;
/// async fn handler(claims: AccessClaims) -> String {
///     format!("{} may {}", claims.sub().unwrap_or("?"), claims.scopes().collect::<Vec<_>>().join(","))
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AccessClaims(Arc<Inner>);

#[derive(Debug, PartialEq)]
struct Inner {
    aud: Vec<String>,
    scope: Vec<String>,
    exp: i64,
    all: Map<String, Value>,
}

impl AccessClaims {
    /// Reads the registered claims out of a verified claim set.
    pub(crate) fn from_map(all: Map<String, Value>) -> Self {
        let aud = match all.get("aud") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        // `scope` (RFC 9068, space-delimited) or `scp` (an array, as some providers send).
        let scope = match (all.get("scope"), all.get("scp")) {
            (Some(Value::String(s)), _) => s
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            (_, Some(Value::Array(list))) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let exp = all.get("exp").and_then(Value::as_i64).unwrap_or_default();
        AccessClaims(Arc::new(Inner {
            aud,
            scope,
            exp,
            all,
        }))
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.0.all.get(name).and_then(Value::as_str)
    }

    /// `sub`: the user, or the client itself for client credentials.
    pub fn sub(&self) -> Option<&str> {
        self.text("sub")
    }

    /// `iss`.
    pub fn iss(&self) -> Option<&str> {
        self.text("iss")
    }

    /// `aud`, as a list.
    pub fn aud(&self) -> &[String] {
        &self.0.aud
    }

    /// `client_id` (RFC 9068), or else `azp`.
    pub fn client_id(&self) -> Option<&str> {
        self.text("client_id").or_else(|| self.text("azp"))
    }

    /// `exp` (0 when absent, as an introspection answer may omit it).
    pub fn exp(&self) -> i64 {
        self.0.exp
    }

    /// `iat`.
    pub fn iat(&self) -> Option<i64> {
        self.0.all.get("iat").and_then(Value::as_i64)
    }

    /// `jti`.
    pub fn jti(&self) -> Option<&str> {
        self.text("jti")
    }

    /// Every claim, as sent.
    pub fn all(&self) -> &Map<String, Value> {
        &self.0.all
    }

    /// The granted scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> + Clone {
        self.0.scope.iter().map(String::as_str)
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scope.iter().any(|s| s == scope)
    }
}

impl<S: Send + Sync> axum_core::extract::FromRequestParts<S> for AccessClaims {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        match parts.extensions.get::<AccessClaims>() {
            Some(claims) => Ok(claims.clone()),
            None => {
                tracing::error!(
                    "AccessClaims extracted on a route without the RequireBearer layer"
                );
                Err(Rejection::not_protected())
            }
        }
    }
}
