//! Where the verification keys come from, and fetching them.

use std::time::Duration;

use portcullis_jose::{JwkSet, Verifier};

/// A source of verification keys.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    /// OIDC / RFC 8414 discovery at this issuer, then its `jwks_uri`.
    Issuer(String),
    /// A JWKS URL.
    JwksUrl(String),
    /// Fixed keys (a JWKS, a PEM public key, or a shared HMAC secret).
    Static(Verifier),
    /// No keys: every token is sent to an RFC 7662 introspection endpoint.
    Introspection(Introspector),
}

/// An RFC 7662 introspection endpoint and the credentials to call it.
#[derive(Clone)]
pub(crate) struct Introspector {
    pub endpoint: String,
    pub client_id: String,
    pub client_secret: String,
    /// How long a positive answer is remembered.
    pub cache_for: Duration,
}

impl std::fmt::Debug for Introspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspector")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// Asks the introspection endpoint about `token`: the claims when it is
/// active, `None` when it is not.
pub(crate) async fn introspect(
    http: &reqwest::Client,
    introspector: &Introspector,
    token: &str,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, FetchError> {
    let url = &introspector.endpoint;
    let response = http
        .post(url)
        .basic_auth(
            form_encode(&introspector.client_id),
            Some(form_encode(&introspector.client_secret)),
        )
        .form(&[("token", token), ("token_type_hint", "access_token")])
        .send()
        .await
        .map_err(|e| FetchError::Http(url.clone(), e.to_string()))?;
    if !response.status().is_success() {
        return Err(FetchError::Http(
            url.clone(),
            format!("status {}", response.status()),
        ));
    }
    let mut answer: serde_json::Map<String, serde_json::Value> = response
        .json()
        .await
        .map_err(|e| FetchError::Document(format!("{url} answered no JSON object: {e}")))?;
    match answer.remove("active") {
        Some(serde_json::Value::Bool(true)) => Ok(Some(answer)),
        _ => Ok(None),
    }
}

/// RFC 6749 section 2.3.1: credentials are form-encoded before Basic encoding.
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'*') {
            out.push(byte as char);
        } else if byte == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What a fetch brought back.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub verifier: Verifier,
    /// From `Cache-Control: max-age`, if the issuer said.
    pub max_age: Option<Duration>,
}

/// Why keys could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The HTTP request failed or answered an error status.
    #[error("cannot fetch {0}: {1}")]
    Http(String, String),
    /// The document is not what it should be.
    #[error("{0}")]
    Document(String),
}

pub(crate) async fn fetch(
    http: &reqwest::Client,
    source: &KeySource,
) -> Result<Fetched, FetchError> {
    let jwks_url = match source {
        KeySource::Static(verifier) => {
            return Ok(Fetched {
                verifier: verifier.clone(),
                max_age: None,
            });
        }
        KeySource::Introspection(_) => {
            return Err(FetchError::Document("introspection uses no keys".into()));
        }
        KeySource::JwksUrl(url) => url.clone(),
        KeySource::Issuer(issuer) => discover_jwks_uri(http, issuer).await?,
    };
    let response = get(http, &jwks_url).await?;
    let max_age = response
        .headers()
        .get(http::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
    let jwks: JwkSet = response
        .json()
        .await
        .map_err(|e| FetchError::Document(format!("{jwks_url} is not a JWKS: {e}")))?;
    let verifier =
        Verifier::from_jwks(&jwks).map_err(|e| FetchError::Document(format!("{jwks_url}: {e}")))?;
    Ok(Fetched { verifier, max_age })
}

async fn get(http: &reqwest::Client, url: &str) -> Result<reqwest::Response, FetchError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| FetchError::Http(url.to_owned(), e.to_string()))?;
    if !response.status().is_success() {
        return Err(FetchError::Http(
            url.to_owned(),
            format!("status {}", response.status()),
        ));
    }
    Ok(response)
}

async fn discover_jwks_uri(http: &reqwest::Client, issuer: &str) -> Result<String, FetchError> {
    let base = issuer.trim_end_matches('/');
    let mut last = None;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let url = format!("{base}{path}");
        let document: serde_json::Value = match get(http, &url).await {
            Ok(response) => response
                .json()
                .await
                .map_err(|e| FetchError::Document(format!("{url} is not JSON: {e}")))?,
            Err(err) => {
                last = Some(err);
                continue;
            }
        };
        if document["issuer"].as_str().map(|i| i.trim_end_matches('/')) != Some(base) {
            return Err(FetchError::Document(format!("{url} names another issuer")));
        }
        return document["jwks_uri"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| FetchError::Document(format!("{url} has no jwks_uri")));
    }
    Err(last.unwrap_or_else(|| FetchError::Document("no discovery document".into())))
}

/// `max-age` from a `Cache-Control` value.
fn max_age(value: &str) -> Option<Duration> {
    value.split(',').find_map(|directive| {
        let (name, seconds) = directive.trim().split_once('=')?;
        name.eq_ignore_ascii_case("max-age")
            .then(|| seconds.trim().parse().ok().map(Duration::from_secs))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(max_age("Max-Age=5"), Some(Duration::from_secs(5)));
        assert_eq!(max_age("no-cache"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
