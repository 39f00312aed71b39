//! Signing keys over time: which key signs, which keys are published, and how
//! a rotation moves them so that a verifier caching the JWKS never fails.
//!
//! Every key has a `created_at` (published from then on), an `activates_at`
//! (`None` while it is the pre-published *next* key) and an `expires_at` (set
//! when a newer key takes over: the moment the last token it signed expires).
//!
//! Keys form one chain per algorithm: the signer of an algorithm at time `t`
//! is its key with the latest `activates_at <= t`. Access tokens use the
//! configured algorithm's chain; ID tokens use RS256's (OpenID Connect's
//! default `id_token_signed_response_alg`), which is the same chain when the
//! configured algorithm is RS256.

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

    /// The key that signs at `now`, of any algorithm (the most recently activated).
    pub fn signer(&self, now: UnixTime) -> Option<&KeyRecord> {
        self.signers(now)
            .max_by(|a, b| a.activates_at.cmp(&b.activates_at).then(a.kid.cmp(&b.kid)))
    }

    /// The key of `alg` that signs at `now`.
    pub fn signer_for(&self, alg: Algorithm, now: UnixTime) -> Option<&KeyRecord> {
        self.signers(now)
            .filter(|k| k.alg == alg)
            .max_by(|a, b| a.activates_at.cmp(&b.activates_at).then(a.kid.cmp(&b.kid)))
    }

    fn signers(&self, now: UnixTime) -> impl Iterator<Item = &KeyRecord> {
        self.keys
            .iter()
            .filter(move |k| k.activates_at.is_some_and(|t| t <= now) && !is_expired(k, now))
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
            Some(_)
                if self
                    .signer_for(key.alg, now)
                    .is_some_and(|s| s.kid == key.kid) =>
            {
                KeyState::Active
            }
            Some(_) => KeyState::Retired,
        }
    }

    /// The pre-published next key, if any.
    pub fn next(&self) -> Option<&KeyRecord> {
        self.nexts().max_by_key(|k| k.created_at)
    }

    /// The pre-published next key of `alg`, if any.
    pub fn next_for(&self, alg: Algorithm) -> Option<&KeyRecord> {
        self.nexts()
            .filter(|k| k.alg == alg)
            .max_by_key(|k| k.created_at)
    }

    fn nexts(&self) -> impl Iterator<Item = &KeyRecord> {
        self.keys
            .iter()
            .filter(|k| k.activates_at.is_none() && k.expires_at.is_none())
    }

    /// Whether a scheduled rotation is due at `now` for a server keeping the
    /// chains `algs`, rotating every `every`: a chain's signer has signed for
    /// that long (or the chain has no signer), and no successor is already
    /// scheduled.
    pub fn rotation_due(&self, algs: &[Algorithm], every: Seconds, now: UnixTime) -> bool {
        algs.iter().any(|&alg| {
            let scheduled = self.keys.iter().any(|k| {
                k.alg == alg && k.expires_at.is_none() && k.activates_at.is_some_and(|t| t > now)
            });
            if scheduled {
                return false;
            }
            match self.signer_for(alg, now).and_then(|k| k.activates_at) {
                Some(since) => since + every <= now,
                None => true,
            }
        })
    }

    /// Plans a rotation at `now` of the chains `algs` (the first is the one
    /// access tokens use); keys of any other algorithm are retired.
    ///
    /// In each chain the next key takes over as soon as it has been
    /// published for `publish_delay`; a chain without one gets a fresh
    /// successor scheduled `publish_delay` from now. Every key that signed or
    /// was due to sign stays published until `retire_after` past its chain's
    /// takeover (or past now, for a retired algorithm); a next key of a
    /// retired algorithm never signed and is unpublished at once. `new_key`
    /// makes the keys the rotation needs (successors, and each chain's new
    /// next key).
    pub fn plan_rotation<E>(
        &self,
        now: UnixTime,
        algs: &[Algorithm],
        timings: RotationTimings,
        mut new_key: impl FnMut(Algorithm) -> Result<KeyRecord, E>,
    ) -> Result<Vec<RotationPlan>, E> {
        let mut plans = Vec::with_capacity(algs.len());
        for &alg in algs {
            plans.push(self.plan_chain(now, alg, timings, || new_key(alg))?);
        }
        if let Some(first) = plans.first_mut() {
            for key in &self.keys {
                if algs.contains(&key.alg) || key.expires_at.is_some() {
                    continue;
                }
                let until = match key.activates_at {
                    Some(_) => now + timings.retire_after,
                    None => now,
                };
                first.expire.push((key.kid.clone(), until));
            }
        }
        Ok(plans)
    }

    /// Plans the rotation of the chain of `alg`.
    fn plan_chain<E>(
        &self,
        now: UnixTime,
        alg: Algorithm,
        timings: RotationTimings,
        mut new_key: impl FnMut() -> Result<KeyRecord, E>,
    ) -> Result<RotationPlan, E> {
        let mut plan = RotationPlan {
            promote: None,
            expire: Vec::new(),
            insert: Vec::new(),
        };
        let takeover = match self.next_for(alg) {
            Some(next) => {
                let at = (next.created_at + timings.publish_delay).max(now);
                plan.promote = Some((next.kid.clone(), at));
                at
            }
            None => {
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
            if key.alg == alg && key.activates_at.is_some() && key.expires_at.is_none() {
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
    fn keys(kids: &'static [&'static str]) -> impl FnMut(Algorithm) -> Result<KeyRecord, ()> {
        let mut kids = kids.iter();
        move |alg| Ok(key(kids.next().expect("enough kids"), alg, 0, None))
    }

    #[test]
    fn a_rotation_is_due_when_a_chain_signed_long_enough_and_none_is_scheduled() {
        let algs = [Algorithm::ES256, Algorithm::RS256];
        let ring = KeyRing::new(vec![
            key("e1", Algorithm::ES256, 0, Some(0)),
            key("r1", Algorithm::RS256, 0, Some(50)),
        ]);
        assert!(!ring.rotation_due(&algs, Seconds(100), UnixTime(99)));
        assert!(
            ring.rotation_due(&algs, Seconds(100), UnixTime(100)),
            "e1 signed 100 s"
        );
        // A successor already scheduled: nothing more to do until it signs.
        let ring = KeyRing::new(vec![
            key("e1", Algorithm::ES256, 0, Some(0)),
            key("e2", Algorithm::ES256, 0, Some(300)),
            key("r1", Algorithm::RS256, 0, Some(250)),
        ]);
        assert!(!ring.rotation_due(&algs, Seconds(100), UnixTime(200)));
        // A chain without a signer (RS256 added to an older ring) is due at once.
        let ring = KeyRing::new(vec![key("e1", Algorithm::ES256, 0, Some(0))]);
        assert!(ring.rotation_due(&algs, Seconds(100), UnixTime(1)));
    }

    const TIMINGS: RotationTimings = RotationTimings {
        publish_delay: Seconds(300),
        retire_after: Seconds(1000),
    };

    fn apply(ring: &KeyRing, plans: Vec<RotationPlan>) -> KeyRing {
        plans
            .into_iter()
            .fold(ring.clone(), |ring, plan| apply_one(&ring, plan))
    }

    fn apply_one(ring: &KeyRing, plan: RotationPlan) -> KeyRing {
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
            .plan_rotation(now, &[Algorithm::RS256], TIMINGS, keys(&["c"]))
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
            .plan_rotation(now, &[Algorithm::ES256], TIMINGS, keys(&["c"]))
            .unwrap();
        assert_eq!(plan[0].promote, Some(("b".into(), UnixTime(400))));
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
            .plan_rotation(now, &[Algorithm::EdDSA], TIMINGS, keys(&["e", "f"]))
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
    fn each_algorithm_is_a_chain_of_its_own() {
        // ES256 signs access tokens, RS256 ID tokens; an old EdDSA key lingers.
        let ring = KeyRing::new(vec![
            key("es1", Algorithm::ES256, 0, Some(0)),
            key("es2", Algorithm::ES256, 0, None),
            key("rs1", Algorithm::RS256, 0, Some(10)),
            key("rs2", Algorithm::RS256, 0, None),
            key("ed1", Algorithm::EdDSA, 0, Some(5)),
            key("ed2", Algorithm::EdDSA, 0, None),
        ]);
        let now = UnixTime(20);
        assert_eq!(ring.signer_for(Algorithm::ES256, now).unwrap().kid, "es1");
        assert_eq!(ring.signer_for(Algorithm::RS256, now).unwrap().kid, "rs1");
        assert_eq!(ring.signer(now).unwrap().kid, "rs1", "the newest of any");
        assert_eq!(ring.state(&ring.keys[0], now), KeyState::Active);
        assert_eq!(ring.state(&ring.keys[2], now), KeyState::Active);

        let now = UnixTime(10_000);
        let algs = [Algorithm::ES256, Algorithm::RS256];
        let plans = ring
            .plan_rotation(now, &algs, TIMINGS, keys(&["es3", "rs3"]))
            .unwrap();
        let after = apply(&ring, plans);
        assert_eq!(after.signer_for(Algorithm::ES256, now).unwrap().kid, "es2");
        assert_eq!(after.signer_for(Algorithm::RS256, now).unwrap().kid, "rs2");
        assert_eq!(after.next_for(Algorithm::ES256).unwrap().kid, "es3");
        assert_eq!(after.next_for(Algorithm::RS256).unwrap().kid, "rs3");
        // The retired algorithm's keys: the one that signed stays published
        // while its tokens live; the one that never signed goes at once.
        assert!(after.published(now).any(|k| k.kid == "ed1"));
        assert!(!after.published(now).any(|k| k.kid == "ed2"));
        assert!(!after.published(UnixTime(11_000)).any(|k| k.kid == "ed1"));
        assert!(
            after
                .signer_for(Algorithm::EdDSA, UnixTime(11_000))
                .is_none()
        );
    }

    #[test]
    fn the_signer_is_always_published() {
        let ring = KeyRing::new(vec![key("a", Algorithm::RS256, 0, Some(0))]);
        let signer = ring.signer(UnixTime(1)).unwrap();
        assert!(ring.published(UnixTime(1)).any(|k| k.kid == signer.kid));
        assert!(ring.signer(UnixTime(1)).is_some());
    }
}
