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

/// The algorithm ID tokens are signed with unless a client asks otherwise
/// (OpenID Connect's default `id_token_signed_response_alg`, which every
/// relying party must accept).
pub const ID_TOKEN_ALG: Algorithm = Algorithm::RS256;

/// The key chains a server signing access tokens with `access_alg` keeps:
/// that algorithm's, and RS256's for ID tokens when it is another.
pub fn chains(access_alg: Algorithm) -> Vec<Algorithm> {
    if access_alg == ID_TOKEN_ALG {
        vec![access_alg]
    } else {
        vec![access_alg, ID_TOKEN_ALG]
    }
}

/// Makes sure signing keys exist. On an empty key ring it stores, for each
/// of the [`chains`] of `access_alg`, an active key (nothing was published
/// before, so it may sign at once) and a next key. Safe when several
/// processes start at the same time.
pub async fn bootstrap(
    store: &dyn Store,
    master: &MasterKey,
    access_alg: Algorithm,
    now: UnixTime,
) -> Result<KeyRing, KeyError> {
    let ring = KeyRing::new(store.keys().await?);
    if ring.keys().next().is_some() {
        return Ok(ring);
    }
    let mut keys = Vec::new();
    for alg in chains(access_alg) {
        let mut active = generate(master, alg, now)?;
        active.activates_at = Some(now);
        keys.push(active);
        keys.push(generate(master, alg, now)?);
    }
    store.bootstrap_keys(&keys).await?;
    Ok(KeyRing::new(store.keys().await?))
}

/// Rotates the [`chains`] of `access_alg` (see [`KeyRing::plan_rotation`]);
/// a chain missing so far (RS256 for ID tokens on a ring made before) starts
/// with a key published now that signs after the publish delay. Returns the
/// plans applied, one per chain.
pub async fn rotate(
    store: &dyn Store,
    master: &MasterKey,
    access_alg: Algorithm,
    timings: RotationTimings,
    now: UnixTime,
) -> Result<Vec<RotationPlan>, KeyError> {
    let ring = KeyRing::new(store.keys().await?);
    let plans = ring.plan_rotation(now, &chains(access_alg), timings, |alg| {
        generate(master, alg, now)
    })?;
    for plan in &plans {
        store.apply_rotation(plan).await?;
    }
    Ok(plans)
}

/// Rotates when a scheduled rotation every `every` is due (see
/// [`KeyRing::rotation_due`]). Of replicas deciding at once, one rotates and
/// the others find the rotation done: `None` when nothing was due or another
/// replica won.
pub async fn rotate_if_due(
    store: &dyn Store,
    master: &MasterKey,
    access_alg: Algorithm,
    every: crate::Seconds,
    timings: RotationTimings,
    now: UnixTime,
) -> Result<Option<Vec<RotationPlan>>, KeyError> {
    let ring = KeyRing::new(store.keys().await?);
    if !ring.rotation_due(&chains(access_alg), every, now) {
        return Ok(None);
    }
    match rotate(store, master, access_alg, timings, now).await {
        Ok(plans) => Ok(Some(plans)),
        Err(KeyError::Store(StoreError::Conflict(_))) => Ok(None),
        Err(err) => Err(err),
    }
}
