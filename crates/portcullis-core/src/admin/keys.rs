//! Creating the first signing keys and rotating them.

use portcullis_jose::{Algorithm, SigningKey};

use crate::keyring::{KeyRing, RotationTimings};
use crate::{KeyRecord, MasterKey, RotationPlan, Store, StoreError, UnixTime};

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Key generation failed.
    #[error(transparent)]
    Jose(#[from] portcullis_jose::Error),
}

/// Generates a key of `alg` and seals it into a record (not yet stored).
pub fn generate(master: &MasterKey, alg: Algorithm, now: UnixTime) -> Result<KeyRecord, KeyError> {
    let key = SigningKey::generate(alg)?;
    let public_jwk = serde_json::to_string(key.public_jwk())
        .map_err(|_| portcullis_jose::Error::InvalidKey("cannot serialize the JWK"))?;
    Ok(KeyRecord {
        kid: key.kid().to_owned(),
        alg,
        public_jwk,
        sealed_private: master.seal(key.kid(), &key.to_pkcs8()?),
        created_at: now,
        activates_at: None,
        expires_at: None,
    })
}

/// Makes sure a signing key exists. On an empty key ring it stores an active
/// key (nothing was published before, so it may sign at once) and a next key.
/// Safe when several processes start at the same time.
pub async fn bootstrap(
    store: &dyn Store,
    master: &MasterKey,
    alg: Algorithm,
    now: UnixTime,
) -> Result<KeyRing, KeyError> {
    let ring = KeyRing::new(store.keys().await?);
    if ring.keys().next().is_some() {
        return Ok(ring);
    }
    let mut active = generate(master, alg, now)?;
    active.activates_at = Some(now);
    let next = generate(master, alg, now)?;
    store.bootstrap_keys(&[active, next]).await?;
    Ok(KeyRing::new(store.keys().await?))
}

/// Rotates to keys of `alg`: see [`KeyRing::plan_rotation`]. Returns the plan applied.
pub async fn rotate(
    store: &dyn Store,
    master: &MasterKey,
    alg: Algorithm,
    timings: RotationTimings,
    now: UnixTime,
) -> Result<RotationPlan, KeyError> {
    let ring = KeyRing::new(store.keys().await?);
    let plan = ring.plan_rotation(now, alg, timings, || generate(master, alg, now))?;
    store.apply_rotation(&plan).await?;
    Ok(plan)
}
