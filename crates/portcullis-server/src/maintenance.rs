//! What every replica does in the background: re-read the key ring, rotate
//! keys when the schedule says so (one replica wins, the others see its
//! rotation on their next read), and delete expired rows.

use std::sync::Arc;
use std::time::Duration;

use portcullis_core::admin::keys;
use portcullis_core::keyring::RotationTimings;
use portcullis_core::{MasterKey, Seconds, Store};
use portcullis_jose::Algorithm;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::clock::system_now;
use crate::signing_keys::SigningKeys;

/// Automatic rotation: how often, of which chains, with which overlap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rotation {
    pub every: Duration,
    pub access_alg: Algorithm,
    pub timings: RotationTimings,
}

#[derive(Debug)]
pub(crate) struct Maintenance {
    pub store: Arc<dyn Store>,
    pub master: Arc<MasterKey>,
    pub keys: Arc<SigningKeys>,
    pub key_refresh: Duration,
    pub rotation: Option<Rotation>,
    pub cleanup_interval: Duration,
}

impl Maintenance {
    /// Starts the background tasks; abort the handles to stop them.
    pub fn spawn(self) -> [JoinHandle<()>; 2] {
        let cleanup_store = self.store.clone();
        let cleanup_every = self.cleanup_interval;
        let cleanup = tokio::spawn(async move {
            let mut tick = tokio::time::interval(cleanup_every);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match cleanup_store.delete_expired(system_now()).await {
                    Ok(done) => tracing::debug!(?done, "expired rows deleted"),
                    Err(err) => tracing::warn!(%err, "deleting expired rows failed"),
                }
            }
        });
        let keys = tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.key_refresh);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Some(rotation) = self.rotation {
                    self.rotate_if_due(rotation).await;
                }
                if let Err(err) = self
                    .keys
                    .refresh(&*self.store, &self.master, system_now())
                    .await
                {
                    tracing::warn!(%err, "key ring refresh failed; serving the last loaded keys");
                }
            }
        });
        [cleanup, keys]
    }

    async fn rotate_if_due(&self, rotation: Rotation) {
        let every = Seconds(i64::try_from(rotation.every.as_secs()).unwrap_or(i64::MAX));
        let outcome = keys::rotate_if_due(
            &*self.store,
            &self.master,
            rotation.access_alg,
            every,
            rotation.timings,
            system_now(),
        )
        .await;
        match outcome {
            Ok(Some(plans)) => {
                for plan in plans {
                    let promoted = plan.promote.as_ref().map(|(kid, at)| (kid.as_str(), at.0));
                    tracing::info!(?promoted, "scheduled key rotation");
                }
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(%err, "scheduled key rotation failed; will try again"),
        }
    }
}
