//! Verified tokens, remembered until they expire, and in-flight verifications
//! shared by concurrent requests carrying the same token.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest::{SHA256, digest};
use tokio::sync::OnceCell;

use crate::{AccessClaims, Rejection};

/// A successful verification: the claims, the instant (Unix seconds) until
/// which they stay valid, and the key that verified them.
pub(crate) type Verified = (AccessClaims, i64, Option<String>);
type Outcome = Result<Verified, Rejection>;

enum Slot {
    Ready(Verified),
    Pending(Arc<OnceCell<Outcome>>),
}

/// A bounded map from SHA-256(token) to its verification.
pub(crate) struct TokenCache {
    capacity: usize,
    slots: Mutex<HashMap<[u8; 32], Slot>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        TokenCache {
            capacity,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The claims of `token`, verified by `verify` at most once for all
    /// concurrent callers, and not again until it expires.
    pub async fn get_or_verify<F, Fut>(
        &self,
        token: &str,
        now: i64,
        verify: F,
    ) -> Result<AccessClaims, Rejection>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome>,
    {
        if self.capacity == 0 {
            return verify().await.map(|(claims, _, _)| claims);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        let cell = {
            let mut slots = self.lock();
            match slots.get(&key) {
                Some(Slot::Ready((claims, until, _))) if now < *until => return Ok(claims.clone()),
                Some(Slot::Pending(cell)) => cell.clone(),
                _ => {
                    let cell = Arc::new(OnceCell::new());
                    slots.insert(key, Slot::Pending(cell.clone()));
                    cell
                }
            }
        };
        let outcome = cell.get_or_init(verify).await.clone();
        let mut slots = self.lock();
        let still_ours = matches!(slots.get(&key), Some(Slot::Pending(c)) if Arc::ptr_eq(c, &cell));
        if still_ours {
            match &outcome {
                Ok(verified) => {
                    if slots.len() >= self.capacity {
                        slots.retain(|_, slot| match slot {
                            Slot::Ready((_, until, _)) => now < *until,
                            Slot::Pending(_) => true,
                        });
                        if slots.len() >= self.capacity {
                            slots.retain(|_, slot| matches!(slot, Slot::Pending(_)));
                        }
                    }
                    slots.insert(key, Slot::Ready(verified.clone()));
                }
                Err(_) => {
                    slots.remove(&key);
                }
            }
        }
        outcome.map(|(claims, _, _)| claims)
    }

    /// Forgets tokens verified by keys no longer in `kids`.
    pub fn retain_kids(&self, kids: &HashSet<String>) {
        self.lock().retain(|_, slot| match slot {
            Slot::Ready((_, _, Some(kid))) => kids.contains(kid),
            _ => true,
        });
    }

    /// Number of remembered verifications.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn claims(exp: i64) -> AccessClaims {
        let map = serde_json::json!({"sub": "s", "exp": exp});
        AccessClaims::from_map(map.as_object().cloned().unwrap_or_default())
    }

    #[tokio::test]
    async fn a_token_is_verified_once_until_it_expires() {
        let cache = TokenCache::new(10);
        let calls = AtomicUsize::new(0);
        for now in [0, 50, 99] {
            cache
                .get_or_verify("t", now, || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok((claims(100), 100, Some("k".to_owned())))
                })
                .await
                .unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let _ = cache
            .get_or_verify("t", 100, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok((claims(100), 100, None))
            })
            .await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "verified again once expired"
        );
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_verification() {
        let cache = Arc::new(TokenCache::new(10));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_verify("same", 0, || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        Ok((claims(100), 100, None))
                    })
                    .await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failures_are_not_remembered_and_key_removal_forgets_tokens() {
        let cache = TokenCache::new(10);
        let err = Rejection::missing();
        assert!(
            cache
                .get_or_verify("bad", 0, || async { Err(err.clone()) })
                .await
                .is_err()
        );
        assert_eq!(cache.len(), 0);
        cache
            .get_or_verify("good", 0, || async {
                Ok((claims(100), 100, Some("old".into())))
            })
            .await
            .unwrap();
        assert_eq!(cache.len(), 1);
        cache.retain_kids(&HashSet::from(["new".to_owned()]));
        assert_eq!(cache.len(), 0);
    }

    #[tokio::test]
    async fn the_cache_stays_within_its_capacity() {
        let cache = TokenCache::new(3);
        for i in 0..10 {
            let token = format!("t{i}");
            cache
                .get_or_verify(&token, 0, || async { Ok((claims(100), 100, None)) })
                .await
                .unwrap();
            assert!(cache.len() <= 3);
        }
    }
}
