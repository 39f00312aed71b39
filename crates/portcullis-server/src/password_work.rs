//! The one place Argon2 runs: on tokio's blocking pool, never on an async
//! worker, behind core's [`PasswordWork`] port.

use async_trait::async_trait;
use portcullis_core::password::{Password, PasswordHash};
use portcullis_core::sign_in::PasswordWork;

/// Argon2 on the blocking pool.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockingPasswordWork;

#[async_trait]
impl PasswordWork for BlockingPasswordWork {
    async fn verify(&self, hash: Option<PasswordHash>, presented: Password) -> bool {
        tokio::task::spawn_blocking(move || match hash {
            Some(hash) => hash.verify(&presented),
            None => {
                PasswordHash::verify_nothing(&presented);
                false
            }
        })
        .await
        .unwrap_or(false)
    }

    async fn hash(&self, password: Password) -> PasswordHash {
        match tokio::task::spawn_blocking({
            let password = password.clone();
            move || PasswordHash::create(&password)
        })
        .await
        {
            Ok(hash) => hash,
            // The blocking pool is shutting down: hash here rather than fail.
            Err(_) => PasswordHash::create(&password),
        }
    }
}
