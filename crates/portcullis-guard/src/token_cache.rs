//! Verified tokens, remembered until they expire, and in-flight verifications
//! shared by concurrent requests carrying the same token.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher as _;
use std::sync::{Arc, Mutex};

use foldhash::fast::RandomState;
use tokio::sync::OnceCell;

use crate::{AccessClaims, Rejection};

/// A successful verification: the claims, the instant (Unix seconds) until
/// which they stay valid, and the key that verified them.
pub(crate) type Verified = (AccessClaims, i64, Option<String>);
type Outcome = Result<Verified, Rejection>;

enum State {
    Ready(Verified),
    Pending(Arc<OnceCell<Outcome>>),
}

/// A remembered token and what is known of it. The whole token is kept and
/// compared, so two tokens whose hashes collide can never share a verdict.
struct Slot {
    token: Box<str>,
    state: State,
}

/// A bounded map from a keyed hash of the token to its verification.
///
/// The hash is `foldhash` with a per-process random seed: a fast hash, not a
/// cryptographic one, which is sound because a hit also needs the stored token
/// to equal the presented one; a collision only costs a verification.
pub(crate) struct TokenCache {
    capacity: usize,
    hasher: RandomState,
    slots: Mutex<HashMap<u64, Slot, RandomState>>,
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
            hasher: RandomState::default(),
            slots: Mutex::new(HashMap::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Slot, RandomState>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The claims of a token verified before and still valid at `now`.
    pub fn get(&self, token: &[u8], now: i64) -> Option<AccessClaims> {
        if self.capacity == 0 {
            return None;
        }
        let key = self.hasher.hash_one(token);
        match self.lock().get(&key) {
            Some(Slot {
                token: held,
                state: State::Ready((claims, until, _)),
            }) if held.as_bytes() == token && now < *until => Some(claims.clone()),
            _ => None,
        }
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
        let key = self.hasher.hash_one(token.as_bytes());
        let cell = {
            let mut slots = self.lock();
            // Plain equality is safe here: reaching it needs a hash match under
            // a secret seed, so its timing tells an attacker nothing.
            match slots.get(&key) {
                Some(Slot {
                    token: held,
                    state: State::Ready((claims, until, _)),
                }) if **held == *token && now < *until => return Ok(claims.clone()),
                Some(Slot {
                    token: held,
                    state: State::Pending(cell),
                }) if **held == *token => cell.clone(),
                _ => {
                    let cell = Arc::new(OnceCell::new());
                    slots.insert(key, pending(token, &cell));
                    cell
                }
            }
        };
        let outcome = cell.get_or_init(verify).await.clone();
        let mut slots = self.lock();
        let still_ours = matches!(
            slots.get(&key),
            Some(Slot { state: State::Pending(c), .. }) if Arc::ptr_eq(c, &cell)
        );
        if still_ours {
            match &outcome {
                Ok(verified) => {
                    if slots.len() >= self.capacity {
                        slots.retain(|_, slot| match &slot.state {
                            State::Ready((_, until, _)) => now < *until,
                            State::Pending(_) => true,
                        });
                        if slots.len() >= self.capacity {
                            slots.retain(|_, slot| matches!(slot.state, State::Pending(_)));
                        }
                    }
                    slots.insert(
                        key,
                        Slot {
                            token: token.into(),
                            state: State::Ready(verified.clone()),
                        },
                    );
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
        self.lock().retain(|_, slot| match &slot.state {
            State::Ready((_, _, Some(kid))) => kids.contains(kid),
            _ => true,
        });
    }

    /// Number of remembered verifications.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

fn pending(token: &str, cell: &Arc<OnceCell<Outcome>>) -> Slot {
    Slot {
        token: token.into(),
        state: State::Pending(cell.clone()),
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
    async fn the_fast_path_needs_the_same_bytes_and_an_unexpired_entry() {
        let cache = TokenCache::new(10);
        assert!(cache.get(b"t", 0).is_none());
        cache
            .get_or_verify("t", 0, || async { Ok((claims(100), 100, None)) })
            .await
            .unwrap();
        assert!(cache.get(b"t", 99).is_some());
        assert!(cache.get(b"t", 100).is_none(), "expired");
        assert!(cache.get(b"T", 50).is_none());
        assert!(cache.get(b"t ", 50).is_none());
        assert!(TokenCache::new(0).get(b"t", 0).is_none());
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
