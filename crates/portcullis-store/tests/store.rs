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
async fn a_duplicate_client_id_is_a_conflict() {
    each_store(|store| async move {
        let (client, _) = clients::create(&*store, new_client(), UnixTime(1))
            .await
            .unwrap();
        let err = store.insert_client(&client).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn key_bootstrap_happens_once_and_rotation_is_atomic() {
    each_store(|store| async move {
        let master = MasterKey::generate();
        let ring = keys::bootstrap(&*store, &master, Algorithm::ES256, UnixTime(1000))
            .await
            .unwrap();
        let signer = ring.signer(UnixTime(1000)).expect("an active key").clone();
        assert_eq!(ring.keys().count(), 2);
        // A second bootstrap (another replica starting) changes nothing.
        let again = keys::bootstrap(&*store, &master, Algorithm::ES256, UnixTime(1001))
            .await
            .unwrap();
        assert_eq!(again.keys().count(), 2);
        let late = keys::generate(&master, Algorithm::ES256, UnixTime(1002)).unwrap();
        assert!(!store.bootstrap_keys(&[late]).await.unwrap());

        // Sealed private keys open with the master key.
        let opened = master.open(&signer.kid, &signer.sealed_private).unwrap();
        let parsed = portcullis_jose::SigningKey::from_pkcs8(signer.alg, &opened).unwrap();
        assert_eq!(parsed.kid(), signer.kid);

        let next = ring.next().expect("a next key").kid.clone();
        keys::rotate(&*store, &master, Algorithm::ES256, TIMINGS, UnixTime(2000))
            .await
            .unwrap();
        let ring = KeyRing::new(store.keys().await.unwrap());
        assert_eq!(ring.signer(UnixTime(2000)).unwrap().kid, next);
        let old = ring.keys().find(|k| k.kid == signer.kid).unwrap();
        assert_eq!(ring.state(old, UnixTime(2000)), KeyState::Retired);
        assert_eq!(ring.state(old, UnixTime(2600)), KeyState::Expired);
        assert_eq!(ring.published(UnixTime(2000)).count(), 3);

        // A rotation planned on a stale view loses and leaves the ring intact.
        let stale = portcullis_core::RotationPlan {
            promote: Some((next.clone(), UnixTime(3000))),
            expire: vec![],
            insert: vec![],
        };
        let err = store.apply_rotation(&stale).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(store.keys().await.unwrap().len(), 3);
    })
    .await;
}
