//! The guard: keys, policy and caches shared by every protected route.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, header};
use portcullis_jose::{ClaimsPolicy, Error as JoseError, Verifier};

use crate::key_source::{self, FetchError, KeySource};
use crate::token_cache::TokenCache;
use crate::{AccessClaims, GuardBuilder, Rejection, RequireBearer, Scopes};

/// Longest token accepted before parsing anything.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Verifies bearer tokens. Cheap to clone; build one per issuer with
/// [`Guard::builder`] and hand out [`RequireBearer`] layers per route.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use portcullis_guard::Guard;
/// let guard = Guard::builder().issuer("https://id.example.com").audience("https://api.example.com").build().await?;
/// let claims = guard.verify("eyJ...").await;
/// assert!(claims.is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Guard(pub(crate) Arc<Inner>);

#[derive(Debug)]
pub(crate) struct Inner {
    pub source: KeySource,
    pub http: reqwest::Client,
    pub policy: ClaimsPolicy,
    pub realm: Option<String>,
    pub min_refetch: Duration,
    pub default_max_age: Duration,
    pub keys: RwLock<Option<Arc<Verifier>>>,
    /// Serializes fetches and remembers when the last one started.
    pub fetch_gate: tokio::sync::Mutex<Option<Instant>>,
    pub fetches: AtomicU64,
    pub signature_checks: AtomicU64,
    pub cache: TokenCache,
    /// The RFC 9728 document and its URL, when a resource is configured.
    pub metadata: Option<(crate::ResourceMetadata, String)>,
}

impl Guard {
    /// Starts configuring a guard.
    pub fn builder() -> GuardBuilder {
        GuardBuilder::default()
    }

    /// A layer that admits requests with a valid token holding every one of `scopes`.
    pub fn require_all<S: Into<String>>(
        &self,
        scopes: impl IntoIterator<Item = S>,
    ) -> RequireBearer {
        RequireBearer::new(self.clone(), Scopes::all(scopes))
    }

    /// A layer that admits requests with a valid token holding at least one of `scopes`.
    pub fn require_any<S: Into<String>>(
        &self,
        scopes: impl IntoIterator<Item = S>,
    ) -> RequireBearer {
        RequireBearer::new(self.clone(), Scopes::any(scopes))
    }

    /// A layer that admits requests with any valid token.
    pub fn require_token(&self) -> RequireBearer {
        RequireBearer::new(self.clone(), Scopes::none())
    }

    /// How many times keys were fetched from the issuer so far.
    pub fn jwks_fetches(&self) -> u64 {
        self.0.fetches.load(Ordering::Relaxed)
    }

    /// How many tokens had their signature checked so far (cache misses).
    pub fn signature_checks(&self) -> u64 {
        self.0.signature_checks.load(Ordering::Relaxed)
    }

    /// The realm named in challenges, if configured.
    pub fn realm(&self) -> Option<&str> {
        self.0.realm.as_deref()
    }

    /// The protected resource metadata (RFC 9728), when
    /// [`GuardBuilder::resource`] was given. Serve it at
    /// [`Guard::resource_metadata_path`]:
    ///
    /// ```no_run
    /// # async fn run(guard: portcullis_guard::Guard) {
    /// use axum::{Router, routing::get};
    /// let path = guard.resource_metadata_path().unwrap();
    /// let metadata = guard.resource_metadata().cloned().unwrap();
    /// let app: Router = Router::new().route(&path, get(move || async move { metadata }));
    /// # }
    /// ```
    pub fn resource_metadata(&self) -> Option<&crate::ResourceMetadata> {
        self.0.metadata.as_ref().map(|(document, _)| document)
    }

    /// Where the metadata document is served on this API's origin.
    pub fn resource_metadata_path(&self) -> Option<String> {
        let document = self.resource_metadata()?;
        crate::ResourceMetadata::path_for(&document.resource)
    }

    /// The metadata document's URL, which every challenge names.
    pub fn resource_metadata_url(&self) -> Option<&str> {
        self.0.metadata.as_ref().map(|(_, url)| url.as_str())
    }

    /// Checks a request's `Authorization` header and the route's `scopes`.
    pub async fn authorize(
        &self,
        headers: &HeaderMap,
        scopes: &Scopes,
    ) -> Result<AccessClaims, Rejection> {
        let claims = match self.already_verified(headers) {
            Some(claims) => claims,
            None => self.verify(bearer_token(headers)?).await?,
        };
        if !scopes.satisfied_by(claims.scopes()) {
            return Err(Rejection::insufficient_scope(scopes));
        }
        Ok(claims)
    }

    /// The fast path: the claims of a bearer token whose exact bytes were
    /// verified before and have not expired. Skips the syntax checks, which
    /// those bytes passed when they were first verified; anything else
    /// (including every malformed header) takes the full path.
    fn already_verified(&self, headers: &HeaderMap) -> Option<AccessClaims> {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        let bytes = value.as_bytes();
        let space = bytes.iter().position(|&b| b == b' ')?;
        let (scheme, rest) = bytes.split_at(space);
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            return None;
        }
        let start = rest.iter().position(|&b| b != b' ')?;
        self.0.cache.get(&rest[start..], unix_now())
    }

    /// Verifies a token (signature, then claims), using the cache.
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, Rejection> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejection::invalid_token(&JoseError::Malformed(
                "token too large",
            )));
        }
        let now = unix_now();
        self.0
            .cache
            .get_or_verify(token, now, || self.verify_uncached(token, now))
            .await
    }

    async fn verify_uncached(
        &self,
        token: &str,
        now: i64,
    ) -> Result<crate::token_cache::Verified, Rejection> {
        if let KeySource::Introspection(introspector) = &self.0.source {
            return self.introspect(introspector, token, now).await;
        }
        let mut keys = self.current_keys();
        if keys.is_none() {
            self.refetch().await;
            keys = self.current_keys();
        }
        let Some(mut verifier) = keys else {
            return Err(Rejection::keys_unavailable());
        };
        self.0.signature_checks.fetch_add(1, Ordering::Relaxed);
        let mut outcome = verifier.verify(token, &self.0.policy, now);
        if outcome.as_ref().err() == Some(&JoseError::NoMatchingKey) && self.refetch().await {
            if let Some(fresh) = self.current_keys() {
                verifier = fresh;
            }
            outcome = verifier.verify(token, &self.0.policy, now);
        }
        let verified = outcome.map_err(|e| Rejection::invalid_token(&e))?;
        let claims = AccessClaims::from_map(verified.claims);
        let until = claims.exp().saturating_add(self.0.policy.leeway_seconds());
        Ok((claims, until, verified.kid))
    }

    /// Asks the issuer; checks what the answer says as a JWT's claims would be
    /// checked, and remembers a positive answer for a short while only.
    async fn introspect(
        &self,
        introspector: &key_source::Introspector,
        token: &str,
        now: i64,
    ) -> Result<crate::token_cache::Verified, Rejection> {
        self.0.signature_checks.fetch_add(1, Ordering::Relaxed);
        let claims = match key_source::introspect(&self.0.http, introspector, token).await {
            Ok(Some(claims)) => claims,
            Ok(None) => return Err(Rejection::inactive()),
            Err(err) => {
                tracing::warn!(%err, "introspection failed");
                return Err(Rejection::keys_unavailable());
            }
        };
        // The endpoint vouches for the signature and revocation; `iss` and
        // `aud` are still checked as for a JWT (`exp` is optional in RFC 7662).
        let mut checked = claims.clone();
        checked
            .entry("exp")
            .or_insert_with(|| serde_json::Value::from(now.saturating_add(1)));
        self.0
            .policy
            .validate(&checked, now)
            .map_err(|e| Rejection::invalid_token(&e))?;
        let claims = AccessClaims::from_map(claims);
        let mut until = now.saturating_add(introspector.cache_for.as_secs() as i64);
        if claims.exp() > 0 {
            until = until.min(claims.exp());
        }
        Ok((claims, until, None))
    }

    fn current_keys(&self) -> Option<Arc<Verifier>> {
        match self.0.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Fetches keys unless a fetch started less than `min_refetch` ago;
    /// concurrent callers wait for the one fetch. Returns whether keys changed.
    async fn refetch(&self) -> bool {
        let mut last = self.0.fetch_gate.lock().await;
        if last.is_some_and(|t| t.elapsed() < self.0.min_refetch) {
            return false;
        }
        *last = Some(Instant::now());
        self.fetch_now().await.is_ok()
    }

    /// Fetches and installs keys; the previous keys stay on failure.
    pub(crate) async fn fetch_now(&self) -> Result<Duration, FetchError> {
        self.0.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = key_source::fetch(&self.0.http, &self.0.source).await?;
        let kids: HashSet<String> = fetched.verifier.kids().map(str::to_owned).collect();
        let verifier = Arc::new(fetched.verifier);
        match self.0.keys.write() {
            Ok(mut keys) => *keys = Some(verifier),
            Err(poisoned) => *poisoned.into_inner() = Some(verifier),
        }
        if !kids.is_empty() {
            self.0.cache.retain_kids(&kids);
        }
        Ok(fetched.max_age.unwrap_or(self.0.default_max_age))
    }

    /// Refreshes keys in the background before they expire, for as long as the guard lives.
    pub(crate) fn spawn_refresher(&self, mut delay: Duration) {
        if matches!(
            self.0.source,
            KeySource::Static(_) | KeySource::Introspection(_)
        ) {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                tokio::time::sleep(delay).await;
                let Some(inner) = weak.upgrade() else { break };
                let guard = Guard(inner);
                let outcome = {
                    let mut last = guard.0.fetch_gate.lock().await;
                    *last = Some(Instant::now());
                    guard.fetch_now().await
                };
                delay = match outcome {
                    Ok(max_age) => {
                        failures = 0;
                        refresh_delay(max_age)
                    }
                    Err(err) => {
                        failures = failures.saturating_add(1);
                        tracing::warn!(%err, "key refresh failed; the last good keys keep serving");
                        Duration::from_secs(5u64.saturating_mul(1 << failures.min(6)))
                    }
                };
            }
        });
    }
}

/// Refresh before expiry: at 80% of the announced lifetime, between 10 s and a day.
pub(crate) fn refresh_delay(max_age: Duration) -> Duration {
    (max_age * 4 / 5).clamp(Duration::from_secs(10), Duration::from_secs(86_400))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The characters of RFC 6750's `b64token` before its trailing `=`s:
/// `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`.
const B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

/// The token of an `Authorization: Bearer` header (RFC 6750 section 2.1).
fn bearer_token(headers: &HeaderMap) -> Result<&str, Rejection> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Rejection::missing());
    };
    if values.next().is_some() {
        return Err(Rejection::invalid_header(
            "more than one Authorization header",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| Rejection::invalid_header("the Authorization header is not visible ASCII"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Rejection::missing());
    }
    let token = token.trim_start_matches(' ');
    let body = token.trim_end_matches('=');
    if body.is_empty() || !body.bytes().all(|b| B64TOKEN[usize::from(b)]) {
        return Err(Rejection::invalid_header(
            "the Bearer credentials are not a token",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(header::AUTHORIZATION, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn bearer_headers_are_parsed_strictly() {
        assert_eq!(
            bearer_token(&headers(&["Bearer abc.def.ghi"])).unwrap(),
            "abc.def.ghi"
        );
        assert_eq!(bearer_token(&headers(&["bearer abc"])).unwrap(), "abc");
        assert_eq!(
            bearer_token(&headers(&[])).unwrap_err().code(),
            "authorization_header_missing"
        );
        assert_eq!(
            bearer_token(&headers(&["Basic abc"])).unwrap_err().code(),
            "authorization_header_missing"
        );
        for bad in ["Bearer", "Bearer ", "Bearer a b", "Bearer a,b", "Bearer ="] {
            assert_eq!(
                bearer_token(&headers(&[bad])).unwrap_err().code(),
                "invalid_header",
                "{bad}"
            );
        }
        assert_eq!(
            bearer_token(&headers(&["Bearer a", "Bearer b"]))
                .unwrap_err()
                .code(),
            "invalid_header"
        );
    }

    #[test]
    fn refresh_happens_before_expiry_within_bounds() {
        assert_eq!(
            refresh_delay(Duration::from_secs(300)),
            Duration::from_secs(240)
        );
        assert_eq!(
            refresh_delay(Duration::from_secs(0)),
            Duration::from_secs(10)
        );
    }
}
