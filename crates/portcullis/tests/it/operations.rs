//! What an operator relies on: health and readiness probes, keys that rotate
//! on schedule without a command, and expired rows that go away by themselves.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use portcullis_testkit::{StoreKind, TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

async fn get(server: &TestServer, path: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{}{path}", server.url)).await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn probes_answer_for_a_serving_server() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
        assert_eq!(
            get(&server, "/healthz").await,
            (StatusCode::OK, json!({"status": "ok"}))
        );
        let (status, body) = get(&server, "/readyz").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "ready");
        assert_eq!(
            body["checks"],
            json!({"database": "ok", "signing_key": "ok"})
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn readiness_fails_while_the_database_is_gone_and_liveness_does_not() {
    if !store_kinds().contains(&StoreKind::Postgres) {
        eprintln!("SKIPPED: needs PORTCULLIS_TEST_DATABASE_URL");
        return;
    }
    let db = TestDatabase::new(StoreKind::Postgres).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    assert_eq!(get(&server, "/readyz").await.0, StatusCode::OK);
    assert!(db.vanish().await);
    let (status, body) = get(&server, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["database"], "unreachable");
    assert_eq!(get(&server, "/healthz").await.0, StatusCode::OK);
    server.stop().await;
}

async fn kids(server: &TestServer) -> BTreeSet<String> {
    let jwks: Value = reqwest::get(format!("{}/jwks.json", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn active_kids(listing: &str) -> BTreeSet<String> {
    let listing: Vec<Value> = serde_json::from_str(listing).unwrap();
    listing
        .iter()
        .filter(|k| k["state"] == "active")
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn keys_rotate_on_schedule_and_are_published_before_they_sign() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(
        BIN.as_ref(),
        &db,
        &[
            ("PORTCULLIS_SIGNING_ALG", "ES256"),
            ("PORTCULLIS_JWKS_MAX_AGE", "1"),
            ("PORTCULLIS_KEY_REFRESH", "1"),
            ("PORTCULLIS_KEY_PUBLISH_DELAY", "2"),
            ("PORTCULLIS_KEY_ROTATION", "3"),
        ],
    )
    .await;
    let (ok, listing, _) = server.cli(&["keys", "list", "--json"]).await;
    assert!(ok);
    let first = active_kids(&listing);
    assert_eq!(first.len(), 2, "an ES256 and an RS256 signer: {listing}");
    let mut published_before = kids(&server).await;

    // Without any command, both chains move on to keys that were in the
    // JWKS before they started signing.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, listing, _) = server.cli(&["keys", "list", "--json"]).await;
        let now_active = active_kids(&listing);
        if now_active.is_disjoint(&first) {
            assert!(
                now_active.is_subset(&published_before),
                "{now_active:?} signed before it was published ({published_before:?})"
            );
            break;
        }
        published_before = kids(&server).await;
        assert!(
            Instant::now() < deadline,
            "no scheduled rotation happened: {listing}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await;
}
