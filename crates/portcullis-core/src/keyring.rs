//! Signing keys over time: which key signs, which keys are published, and how
//! a rotation moves them so that a verifier caching the JWKS never fails.
//!
//! Every key has a `created_at` (published from then on), an `activates_at`
//! (`None` while it is the pre-published *next* key) and an `expires_at` (set
//! when a newer key takes over: the moment the last token it signed expires).
//! The signer at time `t` is the key with the latest `activates_at <= t`.

use portcullis_jose::Algorithm;

use crate::{Seconds, UnixTime};

/// A signing key as stored: public JWK in clear, private key sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// RFC 7638 thumbprint.
    pub kid: String,
    /// The algorithm it signs with.
    pub alg: Algorithm,
    /// The public JWK as JSON.
    pub public_jwk: String,
    /// The PKCS#8 private key sealed by the master key.
    pub sealed_private: Vec<u8>,
    /// Published from this time.
    pub created_at: UnixTime,
    /// Signs from this time; `None` while it is the next key.
    pub activates_at: Option<UnixTime>,
    /// Unpublished from this time; `None` while it may still sign.
    pub expires_at: Option<UnixTime>,
}

/// Where a key stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, waiting for the next rotation.
    Next,
    /// Published, will start signing at `activates_at`.
    Scheduled,
    /// Signs new tokens.
    Active,
    /// No longer signs; published until tokens it signed have expired.
    Retired,
    /// No longer published.
    Expired,
}

impl KeyState {
    /// A lowercase name for listings.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Scheduled => "scheduled",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
            KeyState::Expired => "expired",
        }
    }
}

/// How long keys overlap around a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationTimings {
    /// How long a key must have been published before it may sign: at least
    /// the JWKS cache lifetime of verifiers plus the server's own key refresh.
    pub publish_delay: Seconds,
    /// How long a retired key stays published: the longest token lifetime plus
    /// verifiers' clock leeway.
    pub retire_after: Seconds,
}

/// The changes a rotation makes, applied atomically by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationPlan {
    /// The next key that takes over, with the time it starts signing; `None`
    /// when a brand new key (in `insert`) takes over instead.
    pub promote: Option<(String, UnixTime)>,
    /// Keys that stop being published at the given time.
    pub expire: Vec<(String, UnixTime)>,
    /// New keys to store (the successor when none could be promoted, and the
    /// new next key).
    pub insert: Vec<KeyRecord>,
}

/// The keys known at one moment, with the rules that read them.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: Vec<KeyRecord>,
}

impl KeyRing {
    /// Wraps the stored keys.
    pub fn new(keys: Vec<KeyRecord>) -> Self {
        KeyRing { keys }
    }

    /// Every key, newest first.
    pub fn keys(&self) -> impl Iterator<Item = &KeyRecord> {
        let mut keys: Vec<_> = self.keys.iter().collect();
        keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.kid.cmp(&b.kid)));
        keys.into_iter()
    }

    /// The key that signs at `now`.
    pub fn signer(&self, now: UnixTime) -> Option<&KeyRecord> {
        self.keys
            .iter()
            .filter(|k| k.activates_at.is_some_and(|t| t <= now) && !is_expired(k, now))
            .max_by(|a, b| a.activates_at.cmp(&b.activates_at).then(a.kid.cmp(&b.kid)))
    }

    /// The keys to publish in the JWKS at `now`.
    pub fn published(&self, now: UnixTime) -> impl Iterator<Item = &KeyRecord> {
        self.keys.iter().filter(move |k| !is_expired(k, now))
    }

    /// The state of `key` at `now`.
    pub fn state(&self, key: &KeyRecord, now: UnixTime) -> KeyState {
        if is_expired(key, now) {
            return KeyState::Expired;
        }
        match key.activates_at {
            None => KeyState::Next,
            Some(t) if t > now => KeyState::Scheduled,
            Some(_) if self.signer(now).is_some_and(|s| s.kid == key.kid) => KeyState::Active,
            Some(_) => KeyState::Retired,
        }
    }

    /// The pre-published next key, if any.
    pub fn next(&self) -> Option<&KeyRecord> {
        self.keys
            .iter()
            .filter(|k| k.activates_at.is_none() && k.expires_at.is_none())
            .max_by_key(|k| k.created_at)
    }

    /// Plans a rotation at `now` to keys of `alg`.
    ///
    /// The next key takes over if it has the right algorithm, as soon as it
    /// has been published for `publish_delay`; otherwise `successor` (a fresh
    /// key) is scheduled `publish_delay` from now. Every key that signed or
    /// was due to sign stays published until `retire_after` past the takeover.
    /// `new_key` makes the keys the rotation needs (a successor, when none can
    /// be promoted, and the new next key).
    pub fn plan_rotation<E>(
        &self,
        now: UnixTime,
        alg: portcullis_jose::Algorithm,
        timings: RotationTimings,
        mut new_key: impl FnMut() -> Result<KeyRecord, E>,
    ) -> Result<RotationPlan, E> {
        let mut plan = RotationPlan {
            promote: None,
            expire: Vec::new(),
            insert: Vec::new(),
        };
        let next = self.next();
        let takeover = match next {
            Some(next) if next.alg == alg => {
                let at = (next.created_at + timings.publish_delay).max(now);
                plan.promote = Some((next.kid.clone(), at));
                at
            }
            _ => {
                if let Some(stale) = next {
                    // It never signed anything: unpublish it at once.
                    plan.expire.push((stale.kid.clone(), now));
                }
                let at = now + timings.publish_delay;
                plan.insert.push(KeyRecord {
                    created_at: now,
                    activates_at: Some(at),
                    expires_at: None,
                    ..new_key()?
                });
                at
            }
        };
        for key in &self.keys {
            if key.activates_at.is_some() && key.expires_at.is_none() {
                plan.expire
                    .push((key.kid.clone(), takeover + timings.retire_after));
            }
        }
        plan.insert.push(KeyRecord {
            created_at: now,
            activates_at: None,
            expires_at: None,
            ..new_key()?
        });
        Ok(plan)
    }
}

fn is_expired(key: &KeyRecord, now: UnixTime) -> bool {
    key.expires_at.is_some_and(|t| t <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, alg: Algorithm, created: i64, activates: Option<i64>) -> KeyRecord {
        KeyRecord {
            kid: kid.into(),
            alg,
            public_jwk: "{}".into(),
            sealed_private: vec![],
            created_at: UnixTime(created),
            activates_at: activates.map(UnixTime),
            expires_at: None,
        }
    }

    /// A key factory handing out keys with these kids, in order.
    fn keys(
        kids: &'static [&'static str],
        alg: Algorithm,
    ) -> impl FnMut() -> Result<KeyRecord, ()> {
        let mut kids = kids.iter();
        move || Ok(key(kids.next().expect("enough kids"), alg, 0, None))
    }

    const TIMINGS: RotationTimings = RotationTimings {
        publish_delay: Seconds(300),
        retire_after: Seconds(1000),
    };

    fn apply(ring: &KeyRing, plan: RotationPlan) -> KeyRing {
        let mut keys = ring.keys.clone();
        for k in &mut keys {
            if let Some((kid, at)) = &plan.promote
                && &k.kid == kid
            {
                k.activates_at = Some(*at);
            }
            if let Some((_, at)) = plan.expire.iter().find(|(kid, _)| kid == &k.kid) {
                k.expires_at = Some(*at);
            }
        }
        keys.extend(plan.insert);
        KeyRing::new(keys)
    }

    #[test]
    fn rotation_promotes_the_long_published_next_key_at_once() {
        let ring = KeyRing::new(vec![
            key("a", Algorithm::RS256, 0, Some(0)),
            key("b", Algorithm::RS256, 0, None),
        ]);
        let now = UnixTime(10_000);
        let plan = ring
            .plan_rotation(
                now,
                Algorithm::RS256,
                TIMINGS,
                keys(&["c"], Algorithm::RS256),
            )
            .unwrap();
        let after = apply(&ring, plan);
        assert_eq!(after.signer(now).unwrap().kid, "b");
        let published: Vec<_> = after.published(now).map(|k| k.kid.as_str()).collect();
        assert_eq!(published, ["a", "b", "c"]);
        assert_eq!(after.state(&after.keys[0], now), KeyState::Retired);
        assert_eq!(after.next().unwrap().kid, "c");
        // The retired key is published until every token it signed has expired.
        assert!(after.published(UnixTime(10_999)).any(|k| k.kid == "a"));
        assert!(!after.published(UnixTime(11_000)).any(|k| k.kid == "a"));
    }

    #[test]
    fn a_next_key_published_too_recently_is_scheduled_not_activated() {
        let ring = KeyRing::new(vec![
            key("a", Algorithm::ES256, 0, Some(0)),
            key("b", Algorithm::ES256, 100, None),
        ]);
        let now = UnixTime(200);
        let plan = ring
            .plan_rotation(
                now,
                Algorithm::ES256,
                TIMINGS,
                keys(&["c"], Algorithm::ES256),
            )
            .unwrap();
        assert_eq!(plan.promote, Some(("b".into(), UnixTime(400))));
        let after = apply(&ring, plan);
        assert_eq!(after.signer(now).unwrap().kid, "a");
        assert_eq!(after.signer(UnixTime(400)).unwrap().kid, "b");
    }

    #[test]
    fn changing_algorithm_schedules_a_fresh_key_after_the_publish_delay() {
        let ring = KeyRing::new(vec![
            key("a", Algorithm::RS256, 0, Some(0)),
            key("b", Algorithm::RS256, 0, None),
        ]);
        let now = UnixTime(5_000);
        let plan = ring
            .plan_rotation(
                now,
                Algorithm::EdDSA,
                TIMINGS,
                keys(&["e", "f"], Algorithm::EdDSA),
            )
            .unwrap();
        let after = apply(&ring, plan);
        assert_eq!(after.signer(now).unwrap().kid, "a");
        assert!(
            after.published(now).any(|k| k.kid == "e"),
            "published before it signs"
        );
        assert!(
            !after.published(now).any(|k| k.kid == "b"),
            "stale next key dropped"
        );
        assert_eq!(after.signer(UnixTime(5_300)).unwrap().kid, "e");
        assert_eq!(after.next().unwrap().kid, "f");
    }

    #[test]
    fn the_signer_is_always_published() {
        let ring = KeyRing::new(vec![key("a", Algorithm::RS256, 0, Some(0))]);
        let signer = ring.signer(UnixTime(1)).unwrap();
        assert!(ring.published(UnixTime(1)).any(|k| k.kid == signer.kid));
        assert!(ring.signer(UnixTime(1)).is_some());
    }
}
