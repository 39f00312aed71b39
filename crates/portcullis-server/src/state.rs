//! What every handler can reach.

use std::sync::Arc;

use axum::body::Bytes;
use portcullis_core::admin::keys;
use portcullis_core::grant::{Grants, TokenPolicy};
use portcullis_core::sign_in::PasswordSignIn;
use portcullis_core::{Seconds, Store, UnixTime};
use portcullis_jose::{Algorithm, SigningKey};

use crate::client_cache::ClientCache;
use crate::cookies::Cookies;
use crate::signing_keys::SigningKeys;
use portcullis_core::throttle::{Throttle, ThrottlePolicy};

/// Shared state, cloned into each handler.
#[derive(Debug, Clone)]
pub(crate) struct AppState(pub Arc<Inner>);

#[derive(Debug)]
pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub clients: ClientCache,
    pub keys: Arc<SigningKeys>,
    /// The algorithm of access tokens (ID tokens are RS256).
    pub signing_alg: Algorithm,
    pub token_policy: TokenPolicy,
    pub max_body_bytes: usize,
    /// The discovery document, rendered once.
    pub discovery: Bytes,
    /// `Cache-Control` value for the JWKS.
    pub jwks_cache_control: String,
    /// Cookie names and attributes for the sign-in pages.
    pub cookies: Cookies,
    /// Failed sign-in counts, per account name and per address.
    pub throttle_policy: ThrottlePolicy,
    /// Whether the sign-up page is on.
    pub signup: bool,
    /// Proxies trusted to name the client in `X-Forwarded-For`.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Opens and seals signing keys (for rotations asked through the admin API).
    pub master: Arc<portcullis_core::MasterKey>,
    /// Key overlap around a rotation.
    pub rotation_timings: portcullis_core::keyring::RotationTimings,
    /// Prometheus metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Who may register clients at `/register`.
    pub registration: portcullis_core::registration::RegistrationMode,
    /// Scopes and audiences a self-registered client may have.
    pub self_service: portcullis_core::registration::SelfService,
    /// How long a browser session lasts.
    pub session_lifetime: Seconds,
    /// Where Argon2 runs.
    pub password_work: crate::password_work::BlockingPasswordWork,
    /// The rules a new password meets.
    pub password_policy: portcullis_core::password::PasswordPolicy,
    /// Device codes' lifetime and poll interval.
    pub device_policy: portcullis_core::grant::device_code::DevicePolicy,
    /// Origins whose browser code may call the token endpoints (CORS).
    pub cors_origins: Vec<String>,
    /// How long a request may take before it is answered 408.
    pub request_timeout: std::time::Duration,
}

impl Inner {
    /// The key that signs access tokens at `now`.
    pub fn access_token_key(&self, now: UnixTime) -> Option<Arc<SigningKey>> {
        self.keys.signer(self.signing_alg, now)
    }

    /// The key that signs ID tokens at `now`: RS256, OpenID Connect's default.
    pub fn id_token_key(&self, now: UnixTime) -> Option<Arc<SigningKey>> {
        self.keys.signer(keys::ID_TOKEN_ALG, now)
    }

    /// The address `peer`'s request comes from (see `client_address.rs`).
    pub fn client_address(
        &self,
        peer: std::net::SocketAddr,
        headers: &axum::http::HeaderMap,
    ) -> String {
        crate::client_address::client_address(peer, headers, &self.trusted_proxies).to_string()
    }

    /// Password sign-in, for every door a password comes through.
    pub fn password_sign_in(&self) -> PasswordSignIn<'_> {
        PasswordSignIn {
            store: &*self.store,
            throttle: &self.throttle_policy,
            work: &self.password_work,
        }
    }

    /// What the grants of `/token` work with; `verifier` holds the
    /// published keys (from [`SigningKeys::verifier`]).
    pub fn grants<'a>(&'a self, verifier: Option<&'a portcullis_jose::Verifier>) -> Grants<'a> {
        Grants {
            store: &*self.store,
            policy: &self.token_policy,
            sign_in: self.password_sign_in(),
            verifier,
        }
    }

    /// Sign-in and sign-up throttling, over counts in the database.
    pub fn throttle(&self) -> Throttle<'_> {
        Throttle::new(&*self.store, &self.throttle_policy)
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The outcome of a throttling step; a database failure is logged and
/// counts as nothing (the sign-in itself then fails on the same database).
pub(crate) fn counted<T: Default>(result: Result<T, portcullis_core::StoreError>) -> T {
    result.unwrap_or_else(|err| {
        tracing::warn!(%err, "sign-in throttling could not reach the database");
        T::default()
    })
}
