//! The signing keys in memory: private keys parsed once, the JWKS rendered
//! once, both refreshed from the store every `key_refresh`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use portcullis_core::keyring::KeyRing;
use portcullis_core::{MasterKey, Store, StoreError, UnixTime};
use portcullis_jose::{Algorithm, Jwk, JwkSet, SigningKey, Verifier};

/// Why the key ring could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A sealed key does not open: the master key is not the one it was sealed with.
    #[error(
        "signing key {0} cannot be opened with this master key (setting `master_key` / `master_key_file`)"
    )]
    Sealed(String),
    /// A stored key does not parse.
    #[error("signing key {0} is corrupt")]
    Corrupt(String),
}

#[derive(Debug, Default)]
struct Snapshot {
    /// Keys that sign or may sign, with the time they start and stop.
    signers: Vec<(UnixTime, Option<UnixTime>, Arc<SigningKey>)>,
    jwks: Bytes,
    /// Verifies tokens signed by any published key.
    verifier: Option<Arc<Verifier>>,
}

/// The current key ring, swapped whole on refresh.
#[derive(Debug, Default)]
pub(crate) struct SigningKeys {
    snapshot: RwLock<Arc<Snapshot>>,
}

impl SigningKeys {
    /// The key of `alg` that signs at `now`, or, while the ring has none of
    /// `alg` yet (the setting changed, the rotation is pending), the newest
    /// signer of any algorithm.
    pub fn signer(&self, alg: Algorithm, now: UnixTime) -> Option<Arc<SigningKey>> {
        let snapshot = self.current();
        let newest = |of_alg: bool| {
            snapshot
                .signers
                .iter()
                .filter(|(from, until, key)| {
                    *from <= now && until.is_none_or(|u| now < u) && (!of_alg || key.alg() == alg)
                })
                .max_by(|(a, _, ka), (b, _, kb)| a.cmp(b).then_with(|| ka.kid().cmp(kb.kid())))
                .map(|(_, _, key)| key.clone())
        };
        newest(true).or_else(|| newest(false))
    }

    /// A verifier for tokens signed by any published key.
    pub fn verifier(&self) -> Option<Arc<Verifier>> {
        self.current().verifier.clone()
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Bytes {
        self.current().jwks.clone()
    }

    fn current(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the key ring from the store, reusing keys already parsed.
    pub async fn refresh(
        &self,
        store: &dyn Store,
        master: &MasterKey,
        now: UnixTime,
    ) -> Result<(), KeyLoadError> {
        let ring = KeyRing::new(store.keys().await?);
        let parsed: HashMap<String, Arc<SigningKey>> = self
            .current()
            .signers
            .iter()
            .map(|(_, _, key)| (key.kid().to_owned(), key.clone()))
            .collect();
        let mut signers = Vec::new();
        for record in ring.keys() {
            let Some(from) = record.activates_at else {
                continue;
            };
            if record.expires_at.is_some_and(|t| t <= now) {
                continue;
            }
            let key = match parsed.get(&record.kid) {
                Some(key) => key.clone(),
                None => {
                    let der = master
                        .open(&record.kid, &record.sealed_private)
                        .map_err(|_| KeyLoadError::Sealed(record.kid.clone()))?;
                    Arc::new(
                        SigningKey::from_pkcs8(record.alg, &der)
                            .map_err(|_| KeyLoadError::Corrupt(record.kid.clone()))?,
                    )
                }
            };
            signers.push((from, record.expires_at, key));
        }
        let published: Vec<Jwk> = ring
            .published(now)
            .map(|k| {
                serde_json::from_str(&k.public_jwk)
                    .map_err(|_| KeyLoadError::Corrupt(k.kid.clone()))
            })
            .collect::<Result<_, _>>()?;
        let jwks = JwkSet { keys: published };
        let verifier = Verifier::from_jwks(&jwks).ok().map(Arc::new);
        let jwks = serde_json::to_vec(&jwks).map_err(|_| KeyLoadError::Corrupt("jwks".into()))?;
        let snapshot = Arc::new(Snapshot {
            signers,
            jwks: Bytes::from(jwks),
            verifier,
        });
        match self.snapshot.write() {
            Ok(mut guard) => *guard = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        Ok(())
    }
}
