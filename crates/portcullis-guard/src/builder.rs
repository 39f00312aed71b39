//! Configuring a [`Guard`].

use std::sync::{Arc, RwLock};
use std::time::Duration;

use portcullis_jose::{ClaimsPolicy, JwkSet, Verifier};

use crate::Guard;
use crate::guard::{Inner, refresh_delay};
use crate::key_source::{FetchError, KeySource};
use crate::token_cache::TokenCache;

/// Why a guard could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No key source: call `issuer`, `jwks_url`, `jwks`, `public_key_pem` or `shared_secret`.
    #[error("no key source configured")]
    NoKeySource,
    /// No audience: a resource server must check `aud`.
    #[error("no audience configured: a resource server must check `aud`")]
    NoAudience,
    /// The keys given are unusable.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The first key fetch failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The resource identifier is not an absolute http(s) URL.
    #[error("the resource identifier `{0}` is not an absolute http(s) URL")]
    InvalidResource(String),
}

/// Builds a [`Guard`]: one key source, the expected issuer, the audiences.
///
/// ```no_run
/// # async fn run() -> Result<(), portcullis_guard::BuildError> {
/// use portcullis_guard::Guard;
/// // Microservices that share one HMAC key, as in the pyjwt tutorial:
/// let guard = Guard::builder()
///     .shared_secret(b"a long random secret shared by the services".to_vec())
///     .audience("billing")
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct GuardBuilder {
    source: Option<Result<KeySource, String>>,
    issuer: Option<String>,
    audiences: Vec<String>,
    leeway: Option<i64>,
    typ: Option<String>,
    realm: Option<String>,
    min_refetch: Option<Duration>,
    cache_capacity: Option<usize>,
    http: Option<reqwest::Client>,
    resource: Option<String>,
    resource_name: Option<String>,
    scopes_supported: Vec<String>,
}

impl GuardBuilder {
    /// Trusts this issuer: keys come from its discovery document's
    /// `jwks_uri`, and tokens must carry `iss` equal to it.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into().trim_end_matches('/').to_owned();
        if self.source.is_none() {
            self.source = Some(Ok(KeySource::Issuer(issuer.clone())));
        }
        self.issuer = Some(issuer);
        self
    }

    /// Fetches keys from this JWKS URL (pair it with [`GuardBuilder::issuer`]
    /// to check `iss`; set the URL first so it is not replaced by discovery).
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.source = Some(Ok(KeySource::JwksUrl(url.into())));
        self
    }

    /// Uses a fixed key set.
    pub fn jwks(mut self, jwks: &JwkSet) -> Self {
        self.source = Some(
            Verifier::from_jwks(jwks)
                .map(KeySource::Static)
                .map_err(|e| e.to_string()),
        );
        self
    }

    /// Uses one PEM public key (RSA, EC or Ed25519).
    pub fn public_key_pem(mut self, pem: &[u8]) -> Self {
        self.source = Some(
            Verifier::from_pem(pem)
                .map(KeySource::Static)
                .map_err(|e| e.to_string()),
        );
        self
    }

    /// Uses a secret shared with the token issuer (HS256, HS384, HS512).
    pub fn shared_secret(mut self, secret: Vec<u8>) -> Self {
        self.source = Some(Ok(KeySource::Static(Verifier::hmac(&secret))));
        self
    }

    /// Sends every token to an RFC 7662 introspection endpoint (for opaque
    /// tokens, or to see revocations at once), authenticating with
    /// `client_secret_basic`. Positive answers are remembered for
    /// `cache_for` at most (and never past the token's `exp`).
    pub fn introspection(
        mut self,
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        cache_for: Duration,
    ) -> Self {
        self.source = Some(Ok(KeySource::Introspection(
            crate::key_source::Introspector {
                endpoint: endpoint.into(),
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                cache_for,
            },
        )));
        self
    }

    /// Accepts tokens whose `aud` is (or contains) `audience`; repeatable.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// This API's resource identifier (its URL, e.g.
    /// `https://courses.example/api`): tokens for it are accepted (it is
    /// added to the audiences), the guard describes the API in an RFC 9728
    /// metadata document ([`Guard::resource_metadata`]) naming the
    /// [`GuardBuilder::issuer`] as its authorization server, and every
    /// challenge carries `resource_metadata` with the document's URL, so a
    /// client that got a 401 can find where to get a token (as MCP clients do).
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        let resource = resource.into();
        self.audiences.push(resource.clone());
        self.resource = Some(resource);
        self
    }

    /// A human-readable name for the metadata document.
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// The scopes the metadata document lists (`scopes_supported`).
    pub fn scopes_supported<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 30 s).
    pub fn leeway(mut self, seconds: u32) -> Self {
        self.leeway = Some(i64::from(seconds));
        self
    }

    /// Requires this JOSE `typ`, e.g. `at+jwt` for RFC 9068 access tokens.
    pub fn require_type(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// The realm named in `WWW-Authenticate` challenges.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Least time between two key fetches caused by unknown `kid`s (default 10 s).
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch = Some(interval);
        self
    }

    /// Most verified tokens remembered (default 10,000; 0 turns the cache off).
    pub fn cache_capacity(mut self, entries: usize) -> Self {
        self.cache_capacity = Some(entries);
        self
    }

    /// The HTTP client for key fetches (default: 5 s timeout).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Fetches the keys once and starts refreshing them in the background.
    pub async fn build(self) -> Result<Guard, BuildError> {
        let source = self
            .source
            .ok_or(BuildError::NoKeySource)?
            .map_err(BuildError::InvalidKey)?;
        if self.audiences.is_empty() {
            return Err(BuildError::NoAudience);
        }
        let metadata = match &self.resource {
            None => None,
            Some(resource) => {
                let http_url = resource.starts_with("https://") || resource.starts_with("http://");
                let url = crate::ResourceMetadata::url_for(resource)
                    .filter(|_| http_url)
                    .ok_or_else(|| BuildError::InvalidResource(resource.clone()))?;
                let document = crate::ResourceMetadata {
                    resource: resource.clone(),
                    authorization_servers: self.issuer.iter().cloned().collect(),
                    bearer_methods_supported: vec!["header"],
                    scopes_supported: self.scopes_supported.clone(),
                    resource_name: self.resource_name.clone(),
                };
                Some((document, url))
            }
        };
        let mut policy = match &self.issuer {
            Some(issuer) => ClaimsPolicy::new(issuer.clone(), self.audiences),
            None => ClaimsPolicy::audience_only(self.audiences),
        };
        if let Some(leeway) = self.leeway {
            policy = policy.leeway(leeway);
        }
        if let Some(typ) = self.typ {
            policy = policy.require_type(typ);
        }
        let http = match self.http {
            Some(client) => client,
            None => reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| BuildError::Fetch(FetchError::Http("client".into(), e.to_string())))?,
        };
        let guard = Guard(Arc::new(Inner {
            source,
            http,
            policy,
            realm: self.realm,
            min_refetch: self.min_refetch.unwrap_or(Duration::from_secs(10)),
            default_max_age: Duration::from_secs(300),
            keys: RwLock::new(None),
            fetch_gate: tokio::sync::Mutex::new(Some(std::time::Instant::now())),
            fetches: Default::default(),
            signature_checks: Default::default(),
            cache: TokenCache::new(self.cache_capacity.unwrap_or(10_000)),
            metadata,
        }));
        if !matches!(guard.0.source, KeySource::Introspection(_)) {
            let max_age = guard.fetch_now().await?;
            guard.spawn_refresher(refresh_delay(max_age));
        }
        Ok(guard)
    }
}
