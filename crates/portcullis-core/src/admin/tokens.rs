//! Revoking any token, as an administrator.

use portcullis_jose::{Jwk, JwkSet, Verifier};

use crate::revocation::{self, Revoked, Revoker};
use crate::{KeyRing, Store, StoreError, UnixTime};

/// Revokes `token` (an access token signed by one of the published keys,
/// or a refresh token), whichever client it was issued to.
pub async fn revoke(store: &dyn Store, token: &str, now: UnixTime) -> Result<Revoked, StoreError> {
    let verifier = published_verifier(store, now).await?;
    revocation::revoke(store, verifier.as_ref(), None, token, Revoker::Admin, now).await
}

/// A verifier for the keys published at `now`, as the server builds it.
async fn published_verifier(
    store: &dyn Store,
    now: UnixTime,
) -> Result<Option<Verifier>, StoreError> {
    let ring = KeyRing::new(store.keys().await?);
    let keys = ring
        .published(now)
        .map(|k| {
            serde_json::from_str::<Jwk>(&k.public_jwk)
                .map_err(|_| StoreError::Corrupt(format!("public key {}", k.kid)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Verifier::from_jwks(&JwkSet { keys }).ok())
}
