//! One store test suite, run on SQLite and (when configured) PostgreSQL.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use portcullis_core::admin::{clients, keys};
use portcullis_core::keyring::{KeyRing, KeyState, RotationTimings};
use portcullis_core::{
    ClientId, GrantType, MasterKey, NewClient, Resource, ScopeSet, Seconds, Store, StoreError,
    UnixTime,
};
use portcullis_jose::Algorithm;
use portcullis_testkit::{TestDatabase, store_kinds};

async fn each_store<F, Fut>(test: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let store = portcullis_store::connect(&db.url).await.expect("connect");
        test(store).await;
    }
}

fn new_client() -> NewClient {
    NewClient {
        name: "billing".into(),
        grant_types: vec![GrantType::ClientCredentials],
        scopes: ScopeSet::parse("invoices:read invoices:write").unwrap(),
        audiences: vec![Resource::parse("https://billing.example").unwrap()],
        ..NewClient::default()
    }
}

const TIMINGS: RotationTimings = RotationTimings {
    publish_delay: Seconds(0),
    retire_after: Seconds(600),
};

#[tokio::test]
async fn clients_round_trip_and_secrets_rotate() {
    each_store(|store| async move {
        let (client, secret) = clients::create(&*store, new_client(), UnixTime(100))
            .await
            .unwrap();
        let secret = secret.unwrap();
        let loaded = store.client(&client.id).await.unwrap().expect("stored");
        assert_eq!(loaded, client);
        assert!(loaded.secret_matches(&secret));

        let fresh = clients::rotate_secret(&*store, &client.id)
            .await
            .unwrap()
            .expect("rotated");
        let loaded = store.client(&client.id).await.unwrap().unwrap();
        assert!(loaded.secret_matches(&fresh));
        assert!(
            !loaded.secret_matches(&secret),
            "the old secret stops working"
        );

        assert_eq!(store.clients().await.unwrap().len(), 1);
        assert!(store.delete_client(&client.id).await.unwrap());
        assert!(!store.delete_client(&client.id).await.unwrap());
        assert!(store.client(&client.id).await.unwrap().is_none());
        let unknown = ClientId::parse("nobody").unwrap();
        assert!(
            clients::rotate_secret(&*store, &unknown)
                .await
                .unwrap()
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn public_clients_keep_their_redirect_uris_and_have_no_secret() {
    use portcullis_core::admin::clients::ClientAdminError;
    use portcullis_core::redirect_uri::RedirectUri;
    each_store(|store| async move {
        let new = NewClient {
            name: "courses SPA".into(),
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: ScopeSet::parse("openid profile offline_access").unwrap(),
            redirect_uris: vec![
                RedirectUri::parse("https://spa.example/callback").unwrap(),
                RedirectUri::parse("http://127.0.0.1/callback").unwrap(),
            ],
            post_logout_redirect_uris: vec![RedirectUri::parse("https://spa.example/").unwrap()],
            public: true,
            ..NewClient::default()
        };
        let (client, secret) = clients::create(&*store, new, UnixTime(5)).await.unwrap();
        assert!(secret.is_none() && client.is_public());
        let loaded = store.client(&client.id).await.unwrap().unwrap();
        assert_eq!(loaded, client, "every field survives storage");
        let rotated = clients::rotate_secret(&*store, &client.id).await;
        assert!(
            matches!(rotated, Err(ClientAdminError::Public(_))),
            "{rotated:?}"
        );
        assert!(store.client(&client.id).await.unwrap().unwrap().is_public());
    })
    .await;
}

#[tokio::test]
async fn a_duplicate_client_id_is_a_conflict() {
    each_store(|store| async move {
        let (client, _) = clients::create(&*store, new_client(), UnixTime(1))
            .await
            .unwrap();
        let err = store.insert_client(&client, None).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn key_bootstrap_happens_once_and_rotation_is_atomic() {
    each_store(|store| async move {
        let master = MasterKey::generate();
        // ES256 access tokens: an ES256 chain, and an RS256 chain for ID tokens,
        // each with an active and a next key.
        let ring = keys::bootstrap(&*store, &master, Algorithm::ES256, UnixTime(1000))
            .await
            .unwrap();
        let signer = ring
            .signer_for(Algorithm::ES256, UnixTime(1000))
            .expect("an active ES256 key")
            .clone();
        let id_signer = ring
            .signer_for(Algorithm::RS256, UnixTime(1000))
            .expect("an active RS256 key")
            .clone();
        assert_eq!(ring.keys().count(), 4);
        // A second bootstrap (another replica starting) changes nothing.
        let again = keys::bootstrap(&*store, &master, Algorithm::ES256, UnixTime(1001))
            .await
            .unwrap();
        assert_eq!(again.keys().count(), 4);
        let late = keys::generate(&master, Algorithm::ES256, UnixTime(1002)).unwrap();
        assert!(!store.bootstrap_keys(&[late]).await.unwrap());

        // Sealed private keys open with the master key.
        let opened = master.open(&signer.kid, &signer.sealed_private).unwrap();
        let parsed = portcullis_jose::SigningKey::from_pkcs8(signer.alg, &opened).unwrap();
        assert_eq!(parsed.kid(), signer.kid);

        let next = ring
            .next_for(Algorithm::ES256)
            .expect("a next key")
            .kid
            .clone();
        let id_next = ring
            .next_for(Algorithm::RS256)
            .expect("a next key")
            .kid
            .clone();
        let plans = keys::rotate(&*store, &master, Algorithm::ES256, TIMINGS, UnixTime(2000))
            .await
            .unwrap();
        assert_eq!(plans.len(), 2, "one plan per chain");
        let ring = KeyRing::new(store.keys().await.unwrap());
        assert_eq!(
            ring.signer_for(Algorithm::ES256, UnixTime(2000))
                .unwrap()
                .kid,
            next
        );
        assert_eq!(
            ring.signer_for(Algorithm::RS256, UnixTime(2000))
                .unwrap()
                .kid,
            id_next
        );
        for old in [&signer, &id_signer] {
            let old = ring.keys().find(|k| k.kid == old.kid).unwrap();
            assert_eq!(ring.state(old, UnixTime(2000)), KeyState::Retired);
            assert_eq!(ring.state(old, UnixTime(2600)), KeyState::Expired);
        }
        // Per chain: the retired key, the new signer, and a fresh next key.
        assert_eq!(ring.published(UnixTime(2000)).count(), 6);

        // A rotation planned on a stale view loses and leaves the ring intact.
        let stale = portcullis_core::RotationPlan {
            promote: Some((next.clone(), UnixTime(3000))),
            expire: vec![],
            insert: vec![],
        };
        let err = store.apply_rotation(&stale).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(store.keys().await.unwrap().len(), 6);
    })
    .await;
}

#[tokio::test]
async fn an_rs256_server_keeps_a_single_chain() {
    each_store(|store| async move {
        let master = MasterKey::generate();
        let ring = keys::bootstrap(&*store, &master, Algorithm::RS256, UnixTime(1000))
            .await
            .unwrap();
        assert_eq!(ring.keys().count(), 2);
        let plans = keys::rotate(&*store, &master, Algorithm::RS256, TIMINGS, UnixTime(2000))
            .await
            .unwrap();
        assert_eq!(plans.len(), 1);
        assert_eq!(store.keys().await.unwrap().len(), 3);
    })
    .await;
}

mod users {
    use super::*;
    use portcullis_core::admin::users::{self, UserAdminError};
    use portcullis_core::password::{Password, PasswordHash};
    use portcullis_core::user::{NewUser, Profile, Username};

    fn new_user(username: &str, hash: &PasswordHash) -> NewUser {
        NewUser {
            username: Username::parse(username).unwrap(),
            profile: Profile {
                email: Some("alice@example.com".into()),
                email_verified: true,
                name: Some("Alice Liddell".into()),
                given_name: Some("Alice".into()),
                family_name: None,
            },
            password_hash: hash.clone(),
        }
    }

    #[tokio::test]
    async fn users_round_trip_and_usernames_are_unique_regardless_of_case() {
        let hash = PasswordHash::create(&Password::presented("through the looking glass"));
        each_store(|store| {
            let hash = hash.clone();
            async move {
                let alice = users::create(&*store, new_user("Alice", &hash), UnixTime(10))
                    .await
                    .unwrap();
                let found = store.user_by_username("alice").await.unwrap().unwrap();
                assert_eq!(found, alice, "every field survives storage");
                assert_eq!(store.user(&alice.id).await.unwrap().unwrap(), alice);
                assert!(
                    found
                        .password_hash
                        .verify(&Password::presented("through the looking glass"))
                );

                let clash = users::create(&*store, new_user("ALICE", &hash), UnixTime(11)).await;
                assert!(matches!(clash, Err(UserAdminError::Taken(_))), "{clash:?}");
                assert_eq!(
                    store.users().await.unwrap().len(),
                    1,
                    "nothing half-written"
                );
            }
        })
        .await;
    }

    #[tokio::test]
    async fn password_changes_disable_and_delete() {
        let old = PasswordHash::create(&Password::presented("old password 1"));
        let new = PasswordHash::create(&Password::presented("new password 2"));
        each_store(|store| {
            let (old, new) = (old.clone(), new.clone());
            async move {
                let name = Username::parse("bob").unwrap();
                users::create(&*store, new_user("bob", &old), UnixTime(10))
                    .await
                    .unwrap();

                users::set_password(&*store, &name, &new, UnixTime(20))
                    .await
                    .unwrap();
                let bob = users::find(&*store, &name).await.unwrap();
                assert_eq!(bob.password_changed_at, UnixTime(20));
                assert!(
                    bob.password_hash
                        .verify(&Password::presented("new password 2"))
                );
                assert!(
                    !bob.password_hash
                        .verify(&Password::presented("old password 1"))
                );

                users::set_disabled(&*store, &name, true, UnixTime(9))
                    .await
                    .unwrap();
                assert!(users::find(&*store, &name).await.unwrap().disabled);
                users::set_disabled(&*store, &name, false, UnixTime(9))
                    .await
                    .unwrap();
                assert!(!users::find(&*store, &name).await.unwrap().disabled);

                users::delete(&*store, &name, UnixTime(9)).await.unwrap();
                let gone = users::find(&*store, &name).await;
                assert!(matches!(gone, Err(UserAdminError::NotFound(_))), "{gone:?}");
                let again = users::delete(&*store, &name, UnixTime(9)).await;
                assert!(matches!(again, Err(UserAdminError::NotFound(_))));
            }
        })
        .await;
    }
}

mod sign_in {
    use super::*;
    use portcullis_core::TokenError;
    use portcullis_core::pkce::CodeChallenge;
    use portcullis_core::session::NewSession;
    use portcullis_core::store::CodeRecord;
    use portcullis_core::store::RefreshRecord;
    use portcullis_core::store::{DeviceDecision, DevicePollStep, DeviceRecord};
    use portcullis_core::store::{FamilyRecord, FamilyStep, Spend};
    use portcullis_core::token_hash::TokenHash;
    use portcullis_core::user::UserId;

    fn code(code: &str) -> CodeRecord {
        CodeRecord {
            hash: TokenHash::of(code),
            client_id: ClientId::parse("spa").unwrap(),
            user_id: UserId::from_stored("u1".into()),
            redirect_uri: "https://spa.example/cb".into(),
            redirect_uri_sent: true,
            scope: ScopeSet::parse("openid profile").unwrap(),
            nonce: Some("n".into()),
            sid: Some("the-session".into()),
            code_challenge: Some(CodeChallenge::from_stored(
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            )),
            auth_time: UnixTime(90),
            issued_at: UnixTime(100),
            expires_at: UnixTime(160),
        }
    }

    #[tokio::test]
    async fn a_code_is_redeemed_once_even_by_concurrent_callers() {
        each_store(|store| async move {
            user_u1(&*store).await;
            let record = code("the-code");
            store.insert_code(&record).await.unwrap();
            let attempts: Vec<_> = (0..8)
                .map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store
                            .redeem_code(&TokenHash::of("the-code"), UnixTime(110), &no_refresh)
                            .await
                            .unwrap()
                    })
                })
                .collect();
            let mut fresh = 0;
            for attempt in attempts {
                match attempt.await.unwrap() {
                    Spend::Spent(found) => {
                        assert_eq!(found, record, "every field survives storage");
                        fresh += 1;
                    }
                    Spend::Replayed(found) => assert_eq!(found.hash, record.hash),
                    other => panic!("the code exists and the check passes: {other:?}"),
                }
            }
            assert_eq!(fresh, 1, "exactly one redemption wins");
            assert_eq!(
                store
                    .redeem_code(&TokenHash::of("guess"), UnixTime(110), &no_refresh)
                    .await
                    .unwrap(),
                Spend::Unknown
            );
        })
        .await;
    }

    fn device(code: &str, user_code: &str) -> DeviceRecord {
        DeviceRecord {
            hash: TokenHash::of(code),
            user_code: TokenHash::of(user_code),
            client_id: ClientId::parse("tv").unwrap(),
            scope: ScopeSet::parse("openid offline_access").unwrap(),
            issued_at: UnixTime(100),
            expires_at: UnixTime(700),
            interval: Seconds(5),
            last_polled_at: None,
            decision: DeviceDecision::Pending,
        }
    }

    /// What a device poll check decides: wait while pending (recording the
    /// poll), redeem once approved, with a first refresh token.
    fn device_check(record: &DeviceRecord) -> DevicePollStep {
        match &record.decision {
            DeviceDecision::Pending => DevicePollStep::Wait(
                TokenError::AuthorizationPending("wait"),
                Seconds(record.interval.0 + 1),
            ),
            DeviceDecision::Denied => DevicePollStep::Refuse(TokenError::AccessDenied("no")),
            DeviceDecision::Approved { .. } => DevicePollStep::Redeem(FamilyStep {
                refresh: Some(RefreshRecord {
                    hash: TokenHash::of("device-refresh"),
                    family: record.hash,
                    client_id: ClientId::parse("tv").unwrap(),
                    ..refresh_of("unused", "unused", 5000)
                }),
                live_until: UnixTime(5000),
            }),
        }
    }

    /// Fails if a decision is recorded twice, if a wait is not recorded, if
    /// two concurrent polls of an approved code both spend it, or if a
    /// replay leaves the family live.
    #[tokio::test]
    async fn a_device_code_is_decided_once_and_redeemed_once() {
        each_store(|store| async move {
            user_u1(&*store).await;
            let record = device("device-1", "BCDFGHJK");
            store.insert_device_authorization(&record).await.unwrap();
            let clash = device("device-2", "BCDFGHJK");
            assert!(matches!(
                store.insert_device_authorization(&clash).await,
                Err(StoreError::Conflict(_))
            ));
            let found = store
                .device_authorization(&TokenHash::of("BCDFGHJK"))
                .await
                .unwrap();
            assert_eq!(
                found.as_ref(),
                Some(&record),
                "every field survives storage"
            );

            // A wait records the poll and the interval, and commits.
            let polled = store
                .poll_device_code(&TokenHash::of("device-1"), UnixTime(110), &device_check)
                .await
                .unwrap();
            assert_eq!(
                polled,
                Spend::Refused(TokenError::AuthorizationPending("wait"))
            );
            let after = store
                .device_authorization(&TokenHash::of("BCDFGHJK"))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (after.last_polled_at, after.interval),
                (Some(UnixTime(110)), Seconds(6))
            );

            // Concurrent decisions: one wins, and it records the consent.
            let approve = DeviceDecision::Approved {
                user: UserId::from_stored("u1".into()),
                auth_time: UnixTime(90),
            };
            let decisions: Vec<_> = (0..6)
                .map(|i| {
                    let store = store.clone();
                    let decision = if i == 0 {
                        approve.clone()
                    } else {
                        DeviceDecision::Denied
                    };
                    tokio::spawn(async move {
                        store
                            .decide_device_authorization(
                                &TokenHash::of("BCDFGHJK"),
                                &decision,
                                UnixTime(120),
                            )
                            .await
                            .unwrap()
                    })
                })
                .collect();
            let mut won = 0;
            for decision in decisions {
                won += usize::from(decision.await.unwrap());
            }
            assert_eq!(won, 1, "exactly one decision is recorded");
            let decided = store
                .device_authorization(&TokenHash::of("BCDFGHJK"))
                .await
                .unwrap()
                .unwrap()
                .decision;
            if decided == approve {
                assert!(
                    store
                        .consent(
                            &UserId::from_stored("u1".into()),
                            &ClientId::parse("tv").unwrap()
                        )
                        .await
                        .unwrap()
                        .is_some()
                );
            } else {
                // Denied: start over with an approval to test the redemption.
                let again = device("device-3", "CDFGHJKL");
                store.insert_device_authorization(&again).await.unwrap();
                assert!(
                    store
                        .decide_device_authorization(&again.user_code, &approve, UnixTime(120))
                        .await
                        .unwrap()
                );
            }
            let approved = if decided == approve {
                "device-1"
            } else {
                "device-3"
            };
            // An expired authorization takes no decision.
            let late = device("device-4", "DFGHJKLM");
            store.insert_device_authorization(&late).await.unwrap();
            assert!(
                !store
                    .decide_device_authorization(&late.user_code, &approve, UnixTime(700))
                    .await
                    .unwrap()
            );

            let polls: Vec<_> = (0..8)
                .map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store
                            .poll_device_code(
                                &TokenHash::of(approved),
                                UnixTime(130),
                                &device_check,
                            )
                            .await
                            .unwrap()
                    })
                })
                .collect();
            let mut spent = 0;
            for poll in polls {
                match poll.await.unwrap() {
                    Spend::Spent(_) => spent += 1,
                    Spend::Replayed(_) => {}
                    other => panic!("approved and unexpired: {other:?}"),
                }
            }
            assert_eq!(spent, 1, "exactly one poll redeems it");
            assert!(
                !store.family_live(&TokenHash::of(approved)).await.unwrap(),
                "the replays revoked what the redemption issued"
            );
            assert_eq!(
                store
                    .poll_device_code(&TokenHash::of("guess"), UnixTime(130), &device_check)
                    .await
                    .unwrap(),
                Spend::Unknown
            );
            let done = store.delete_expired(UnixTime(700 + 86_400)).await.unwrap();
            let created = if approved == "device-1" { 2 } else { 3 };
            assert_eq!(done.device_codes, created, "{done:?}");
        })
        .await;
    }

    /// The user `u1` the codes and tokens of these tests belong to: a spend
    /// happens only while its user exists and is enabled.
    async fn user_u1(store: &dyn Store) {
        use portcullis_core::password::PasswordHash;
        use portcullis_core::user::{User, Username};
        let user = User {
            id: UserId::from_stored("u1".into()),
            username: Username::parse("u1").unwrap(),
            profile: Default::default(),
            password_hash: PasswordHash::from_stored("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g".into())
                .unwrap(),
            disabled: false,
            created_at: UnixTime(1),
            password_changed_at: UnixTime(1),
        };
        store.insert_user(&user).await.unwrap();
    }

    fn no_refresh(_: &CodeRecord) -> Result<FamilyStep, TokenError> {
        Ok(FamilyStep {
            refresh: None,
            live_until: UnixTime(500),
        })
    }

    fn refresh_of(token: &str, family: &str, expires: i64) -> RefreshRecord {
        RefreshRecord {
            hash: TokenHash::of(token),
            family: TokenHash::of(family),
            client_id: ClientId::parse("spa").unwrap(),
            user_id: UserId::from_stored("u1".into()),
            scope: ScopeSet::parse("openid offline_access").unwrap(),
            auth_time: UnixTime(90),
            sid: Some("the-session".into()),
            act: None,
            issued_at: UnixTime(100),
            expires_at: UnixTime(expires),
        }
    }

    async fn start(store: &dyn Store, family: &str, first: &str) {
        let record = FamilyRecord {
            family: TokenHash::of(family),
            client_id: ClientId::parse("spa").unwrap(),
            user_id: UserId::from_stored("u1".into()),
            created_at: UnixTime(100),
            live_until: UnixTime(5000),
        };
        store
            .start_family(&record, Some(&refresh_of(first, family, 5000)))
            .await
            .unwrap();
    }

    /// A successor named after the presented token and a counter, so every
    /// check call stores a token of its own.
    fn successor_of(
        family: &'static str,
    ) -> impl Fn(&RefreshRecord) -> Result<RefreshRecord, TokenError> + Send + Sync {
        let calls = std::sync::atomic::AtomicU32::new(0);
        move |_| {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(refresh_of(&format!("{family}-next-{n}"), family, 5000))
        }
    }

    /// Fails if a rotation's spend and its successor were separate writes, if
    /// the revocation on reuse missed a successor stored concurrently, or if
    /// concurrent presentations deadlock (PostgreSQL keeps the row lock a
    /// losing update took; the family must be locked first on every path).
    #[tokio::test]
    async fn concurrent_rotations_of_one_token_leave_one_winner_and_a_dead_family() {
        each_store(|store| async move {
            user_u1(&*store).await;
            for round in 0..20 {
                let family: &'static str = Box::leak(format!("family-{round}").into_boxed_str());
                start(&*store, family, family).await;
                let check = std::sync::Arc::new(successor_of(family));
                let attempts: Vec<_> = (0..8)
                    .map(|_| {
                        let (store, check) = (store.clone(), check.clone());
                        tokio::spawn(async move {
                            store
                                .rotate_refresh(
                                    &TokenHash::of(family),
                                    UnixTime(200),
                                    Seconds(0),
                                    UnixTime(5000),
                                    &*check,
                                )
                                .await
                                .unwrap()
                        })
                    })
                    .collect();
                let mut rotated = 0;
                for attempt in attempts {
                    match attempt.await.unwrap() {
                        Spend::Spent(_) => rotated += 1,
                        Spend::Replayed(_) => {}
                        other => panic!("unexpected {other:?}"),
                    }
                }
                assert_eq!(rotated, 1, "round {round}: exactly one rotation wins");
                // Every successor ever stored is dead: the replays revoked the family.
                assert!(!store.family_live(&TokenHash::of(family)).await.unwrap());
                for n in 0..8 {
                    if let Some(stored) = store
                        .refresh_token(&TokenHash::of(&format!("{family}-next-{n}")))
                        .await
                        .unwrap()
                    {
                        assert!(
                            stored.spent,
                            "round {round}: a successor outlived the replay"
                        );
                    }
                }
            }
        })
        .await;
    }

    /// Fails if a refused check spent the token, or if the reuse interval
    /// let a replay through after the successor was used.
    #[tokio::test]
    async fn a_refused_rotation_changes_nothing_and_the_reuse_interval_replaces_a_lost_successor() {
        each_store(|store| async move {
            user_u1(&*store).await;
            start(&*store, "f", "t0").await;
            let refused = store
                .rotate_refresh(
                    &TokenHash::of("t0"),
                    UnixTime(200),
                    Seconds(0),
                    UnixTime(5000),
                    &|_| Err(TokenError::InvalidScope("wider".into())),
                )
                .await
                .unwrap();
            assert_eq!(
                refused,
                Spend::Refused(TokenError::InvalidScope("wider".into()))
            );
            let stored = store
                .refresh_token(&TokenHash::of("t0"))
                .await
                .unwrap()
                .unwrap();
            assert!(!stored.spent, "a refused request leaves the token usable");
            // A disabled user's token is refused and stays unspent.
            let u1 = UserId::from_stored("u1".into());
            store.set_user_disabled(&u1, true).await.unwrap();
            let disabled = store
                .rotate_refresh(
                    &TokenHash::of("t0"),
                    UnixTime(200),
                    Seconds(0),
                    UnixTime(5000),
                    &|_| Ok(refresh_of("never", "f", 5000)),
                )
                .await
                .unwrap();
            assert!(matches!(disabled, Spend::Refused(_)), "{disabled:?}");
            store.set_user_disabled(&u1, false).await.unwrap();

            let next =
                |name: &'static str| move |_: &RefreshRecord| Ok(refresh_of(name, "f", 5000));
            let interval = Seconds(30);
            let first = store
                .rotate_refresh(
                    &TokenHash::of("t0"),
                    UnixTime(200),
                    interval,
                    UnixTime(5000),
                    &next("t1"),
                )
                .await
                .unwrap();
            assert!(matches!(first, Spend::Spent(_)));
            // The response with t1 was lost: within the interval t0 again gets t1'.
            let again = store
                .rotate_refresh(
                    &TokenHash::of("t0"),
                    UnixTime(210),
                    interval,
                    UnixTime(5000),
                    &next("t1b"),
                )
                .await
                .unwrap();
            assert!(matches!(again, Spend::Spent(_)), "{again:?}");
            let earlier = store
                .refresh_token(&TokenHash::of("t1"))
                .await
                .unwrap()
                .unwrap();
            assert!(earlier.spent, "the earlier successor dies");
            assert!(store.family_live(&TokenHash::of("f")).await.unwrap());
            // t1b is used: now t0 is a replay even within the interval.
            let used = store
                .rotate_refresh(
                    &TokenHash::of("t1b"),
                    UnixTime(215),
                    interval,
                    UnixTime(5000),
                    &next("t2"),
                )
                .await
                .unwrap();
            assert!(matches!(used, Spend::Spent(_)));
            let replay = store
                .rotate_refresh(
                    &TokenHash::of("t0"),
                    UnixTime(220),
                    interval,
                    UnixTime(5000),
                    &next("t1c"),
                )
                .await
                .unwrap();
            assert!(matches!(replay, Spend::Replayed(_)), "{replay:?}");
            assert!(!store.family_live(&TokenHash::of("f")).await.unwrap());
            let t2 = store
                .refresh_token(&TokenHash::of("t2"))
                .await
                .unwrap()
                .unwrap();
            assert!(t2.spent, "the replay ends the whole family");
        })
        .await;
    }

    /// Fails if ending a session forgets a client it signed in to, writes a
    /// notice for a client without a back channel, or lets two concurrent
    /// claimers take the same notice.
    #[tokio::test]
    async fn ended_sessions_leave_one_logout_notice_per_client_claimed_once() {
        use portcullis_core::backchannel::{Delivery, sid_of};
        each_store(|store| async move {
            let user = UserId::from_stored("u1".into());
            for (name, uri) in [
                ("a", Some("https://a.example/bcl")),
                ("b", None),
                ("c", Some("https://c.example/bcl")),
            ] {
                let (mut client, _) = NewClient {
                    name: name.into(),
                    grant_types: vec![GrantType::AuthorizationCode],
                    redirect_uris: vec![
                        portcullis_core::redirect_uri::RedirectUri::parse("https://x.example/cb")
                            .unwrap(),
                    ],
                    ..NewClient::default()
                }
                .register(UnixTime(1));
                client.backchannel_logout_uri = uri.map(str::to_owned);
                store.insert_client(&client, None).await.unwrap();
                // Every session of u1 signs in to every client.
                for n in 0..3 {
                    let session = NewSession::start(&user, UnixTime(100 + n), Seconds(3600));
                    store.insert_session(&session.record).await.unwrap();
                    store
                        .record_session_client(&session.record, &client.id)
                        .await
                        .unwrap();
                    store
                        .record_session_client(&session.record, &client.id)
                        .await
                        .unwrap();
                    if name == "c" && n == 0 {
                        // One session ends alone: one notice, for c.
                        store
                            .delete_session(&session.record.hash, UnixTime(150))
                            .await
                            .unwrap();
                        let one = store
                            .claim_logout_notices(UnixTime(150), Seconds(30), 10)
                            .await
                            .unwrap();
                        assert_eq!(one.len(), 1);
                        assert_eq!(one[0].sid, sid_of(&session.record.hash));
                        store
                            .settle_logout_notice(&one[0].id, &Delivery::Delivered, UnixTime(151))
                            .await
                            .unwrap();
                    }
                }
            }
            // The user's other sessions end together: a notice per session
            // and listening client.
            store
                .delete_sessions_of(&user, UnixTime(200))
                .await
                .unwrap();
            let claims: Vec<_> = (0..8)
                .map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store
                            .claim_logout_notices(UnixTime(200), Seconds(30), 3)
                            .await
                            .unwrap()
                    })
                })
                .collect();
            let mut claimed = Vec::new();
            for claim in claims {
                claimed.extend(claim.await.unwrap().into_iter().map(|n| n.id));
            }
            let total = claimed.len();
            claimed.sort();
            claimed.dedup();
            assert_eq!(claimed.len(), total, "no notice claimed twice");
            // a: 3 sessions; c: 2 left (one ended alone); b: none.
            assert_eq!(total, 5);
            // Claimed notices are not due again within the lease...
            assert!(
                store
                    .claim_logout_notices(UnixTime(229), Seconds(30), 10)
                    .await
                    .unwrap()
                    .is_empty()
            );
            // ...and are after it, as a crashed deliverer's would be.
            assert_eq!(
                store
                    .claim_logout_notices(UnixTime(231), Seconds(30), 10)
                    .await
                    .unwrap()
                    .len(),
                5
            );
        })
        .await;
    }

    #[tokio::test]
    async fn sessions_and_consents_round_trip() {
        each_store(|store| async move {
            let user = UserId::from_stored("u1".into());
            let session = NewSession::start(&user, UnixTime(100), Seconds(3600));
            store.insert_session(&session.record).await.unwrap();
            let hash = TokenHash::of(&session.token);
            assert_eq!(
                store.session(&hash).await.unwrap(),
                Some(session.record.clone())
            );
            store.delete_session(&hash, UnixTime(200)).await.unwrap();
            assert_eq!(store.session(&hash).await.unwrap(), None);

            let client = ClientId::parse("spa").unwrap();
            assert_eq!(store.consent(&user, &client).await.unwrap(), None);
            let first = ScopeSet::parse("openid").unwrap();
            store
                .set_consent(&user, &client, &first, UnixTime(1))
                .await
                .unwrap();
            let wider = ScopeSet::parse("openid profile").unwrap();
            store
                .set_consent(&user, &client, &wider, UnixTime(2))
                .await
                .unwrap();
            assert_eq!(store.consent(&user, &client).await.unwrap(), Some(wider));
        })
        .await;
    }

    #[tokio::test]
    async fn cleanup_deletes_only_what_expired_and_keeps_codes_for_replay_detection() {
        use portcullis_core::store::{CODE_KEPT_AFTER_EXPIRY, Cleanup};
        each_store(|store| async move {
            user_u1(&*store).await;
            let user = UserId::from_stored("u1".into());
            let spa = ClientId::parse("spa").unwrap();
            // Code "the-code" expires at 160.
            store.insert_code(&code("the-code")).await.unwrap();
            let refresh = |token: &str, expires: i64| RefreshRecord {
                hash: TokenHash::of(token),
                family: TokenHash::of("the-code"),
                client_id: spa.clone(),
                user_id: user.clone(),
                scope: ScopeSet::parse("openid").unwrap(),
                auth_time: UnixTime(90),
                sid: None,
                act: None,
                issued_at: UnixTime(100),
                expires_at: UnixTime(expires),
            };
            let family = FamilyRecord {
                family: TokenHash::of("the-code"),
                client_id: spa.clone(),
                user_id: user.clone(),
                created_at: UnixTime(100),
                live_until: UnixTime(5000),
            };
            store
                .start_family(&family, Some(&refresh("old", 200)))
                .await
                .unwrap();
            let successor = refresh("live", 5000);
            let rotated = store
                .rotate_refresh(
                    &TokenHash::of("old"),
                    UnixTime(150),
                    Seconds(0),
                    UnixTime(5000),
                    &|_| Ok(successor.clone()),
                )
                .await
                .unwrap();
            assert!(matches!(rotated, Spend::Spent(_)), "{rotated:?}");
            let ended = NewSession::start(&user, UnixTime(100), Seconds(100));
            let live = NewSession::start(&user, UnixTime(100), Seconds(9000));
            store.insert_session(&ended.record).await.unwrap();
            store.insert_session(&live.record).await.unwrap();
            assert!(
                store
                    .deny_access_token("j1", &spa, UnixTime(300), UnixTime(100))
                    .await
                    .unwrap()
            );
            assert!(
                !store
                    .deny_access_token("j1", &spa, UnixTime(300), UnixTime(101))
                    .await
                    .unwrap()
            );
            assert!(
                store
                    .deny_access_token("j2", &spa, UnixTime(9000), UnixTime(100))
                    .await
                    .unwrap()
            );

            let done = store.delete_expired(UnixTime(1000)).await.unwrap();
            assert_eq!(
                done,
                Cleanup {
                    codes: 0,
                    device_codes: 0,
                    refresh_tokens: 1,
                    families: 0,
                    sessions: 1,
                    revoked_access_tokens: 1,
                    throttle_windows: 0,
                    logout_notices: 0,
                }
            );
            assert!(
                store
                    .refresh_token(&TokenHash::of("old"))
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(
                store
                    .refresh_token(&TokenHash::of("live"))
                    .await
                    .unwrap()
                    .is_some()
            );
            assert!(
                store
                    .session(&TokenHash::of(&ended.token))
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(
                store
                    .session(&TokenHash::of(&live.token))
                    .await
                    .unwrap()
                    .is_some()
            );
            assert!(!store.access_token_denied("j1").await.unwrap());
            assert!(store.access_token_denied("j2").await.unwrap());
            // The expired code stays for a day, so a late replay is still recognised.
            let later = UnixTime(160 + CODE_KEPT_AFTER_EXPIRY.0);
            assert_eq!(store.delete_expired(later).await.unwrap().codes, 1);
            assert_eq!(
                store
                    .redeem_code(&TokenHash::of("the-code"), later, &no_refresh)
                    .await
                    .unwrap(),
                Spend::Unknown
            );
        })
        .await;
    }

    #[tokio::test]
    async fn throttling_counts_are_shared_and_windows_end() {
        use portcullis_core::throttle::{Throttle, ThrottlePolicy};
        each_store(|store| async move {
            let policy = ThrottlePolicy {
                per_account: 2,
                per_address: 3,
                signups_per_address: 1,
                window: Seconds(100),
            };
            // Two throttles on one store behave as one (two replicas).
            let (one, two) = (
                Throttle::new(&*store, &policy),
                Throttle::new(&*store, &policy),
            );
            one.failed("alice", "192.0.2.1", UnixTime(0)).await.unwrap();
            assert_eq!(
                two.blocked("alice", "192.0.2.9", UnixTime(1))
                    .await
                    .unwrap(),
                None
            );
            two.failed("ALICE", "192.0.2.2", UnixTime(1)).await.unwrap();
            assert_eq!(
                one.blocked("alice", "192.0.2.9", UnixTime(10))
                    .await
                    .unwrap(),
                Some(90)
            );
            assert_eq!(
                one.blocked("alice", "192.0.2.9", UnixTime(100))
                    .await
                    .unwrap(),
                None,
                "the window ended"
            );
            // A new window starts from the next failure.
            one.failed("alice", "192.0.2.1", UnixTime(100))
                .await
                .unwrap();
            assert_eq!(
                one.blocked("alice", "192.0.2.9", UnixTime(101))
                    .await
                    .unwrap(),
                None
            );

            // An address spraying accounts is stopped too; success clears the account only.
            for name in ["b", "c"] {
                one.failed(name, "192.0.2.1", UnixTime(100)).await.unwrap();
            }
            assert_eq!(
                two.blocked("d", "192.0.2.1", UnixTime(110)).await.unwrap(),
                Some(90)
            );
            two.failed("e", "192.0.2.7", UnixTime(110)).await.unwrap();
            two.failed("e", "192.0.2.8", UnixTime(110)).await.unwrap();
            assert!(
                one.blocked("e", "192.0.2.9", UnixTime(111))
                    .await
                    .unwrap()
                    .is_some()
            );
            one.succeeded("E").await.unwrap();
            assert!(
                two.blocked("e", "192.0.2.9", UnixTime(111))
                    .await
                    .unwrap()
                    .is_none()
            );

            one.signed_up("198.51.100.1", UnixTime(0)).await.unwrap();
            assert_eq!(
                two.signups_blocked("198.51.100.1", UnixTime(40))
                    .await
                    .unwrap(),
                Some(60)
            );
            assert_eq!(
                two.signups_blocked("198.51.100.2", UnixTime(40))
                    .await
                    .unwrap(),
                None
            );
            assert!(
                store
                    .delete_expired(UnixTime(10_000))
                    .await
                    .unwrap()
                    .throttle_windows
                    >= 1
            );
        })
        .await;
    }
}
