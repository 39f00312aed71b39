//! Two `portcullis serve` processes on one PostgreSQL database behave as one
//! server: codes, refresh tokens, keys, revocations and sign-in throttling
//! are shared through the database.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use portcullis_testkit::browser::Browser;
use portcullis_testkit::{StoreKind, TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CALLBACK: &str = "http://127.0.0.1:43210/callback";
const SETTINGS: &[(&str, &str)] = &[
    // Replicas behind one load balancer share one public issuer.
    ("PORTCULLIS_ISSUER", "https://id.example.test"),
    ("PORTCULLIS_CLIENT_CACHE_TTL", "0"),
    ("PORTCULLIS_KEY_REFRESH", "1"),
    ("PORTCULLIS_JWKS_MAX_AGE", "1"),
    ("PORTCULLIS_KEY_PUBLISH_DELAY", "2"),
];

async fn post(
    server: &TestServer,
    path: &str,
    auth: (&str, &str),
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.url))
        .basic_auth(auth.0, Some(auth.1))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Signs alice in on `server` through its pages; returns the code.
async fn code_from(server: &TestServer, client_id: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid offline_access"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let mut browser = Browser::new();
    browser
        .authorization_code(
            &format!("{}/authorize?{query}", server.url),
            "alice",
            "down the rabbit hole",
        )
        .await
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

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn two_replicas_on_one_postgres_database_behave_as_one_server() {
    if !store_kinds().contains(&StoreKind::Postgres) {
        eprintln!("SKIPPED: needs PORTCULLIS_TEST_DATABASE_URL");
        return;
    }
    let db = TestDatabase::new(StoreKind::Postgres).await;
    let a = TestServer::spawn(BIN.as_ref(), &db, SETTINGS).await;
    let b = TestServer::spawn(BIN.as_ref(), &db, SETTINGS).await;
    assert_ne!(a.url, b.url);
    a.create_user("alice", "down the rabbit hole", &[]).await;
    let (app, app_secret) = a
        .create_client(&[
            "--name",
            "Courses",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--grant-type",
            "password",
            "--redirect-uri",
            CALLBACK,
            "--scope",
            "openid offline_access",
        ])
        .await;
    let (rs, rs_secret) = b
        .create_client(&["--name", "api", "--grant-type", "client_credentials"])
        .await;
    let app_auth = (app.as_str(), app_secret.as_str());
    let rs_auth = (rs.as_str(), rs_secret.as_str());

    // A code issued by A is redeemed by B.
    let code = code_from(&a, &app).await;
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let (status, tokens) = post(&b, "/token", app_auth, &exchange).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    // A refresh token rotated on A is refused as reused on B, and the family ends.
    let first = tokens["refresh_token"].as_str().unwrap();
    let (status, rotated) = post(
        &a,
        "/token",
        app_auth,
        &[("grant_type", "refresh_token"), ("refresh_token", first)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let (status, reused) = post(
        &b,
        "/token",
        app_auth,
        &[("grant_type", "refresh_token"), ("refresh_token", first)],
    )
    .await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let second = rotated["refresh_token"].as_str().unwrap();
    let (status, _) = post(
        &a,
        "/token",
        app_auth,
        &[("grant_type", "refresh_token"), ("refresh_token", second)],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the family was revoked on B, A refuses its newest token"
    );

    // The code, replayed on A, is refused, and the access token it issued
    // is dead on B too.
    let replayed = tokens["access_token"].as_str().unwrap();
    let (status, again) = post(&a, "/token", app_auth, &exchange).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(
        post(&b, "/introspect", rs_auth, &[("token", replayed)])
            .await
            .1["active"],
        false
    );

    // Revocation on A is seen by introspection on B.
    let (status, signed_in) = post(
        &a,
        "/token",
        app_auth,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "down the rabbit hole"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    let access = signed_in["access_token"].as_str().unwrap();
    assert_eq!(
        post(&b, "/introspect", rs_auth, &[("token", access)])
            .await
            .1["active"],
        true
    );
    assert_eq!(
        post(&a, "/revoke", app_auth, &[("token", access)]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        post(&b, "/introspect", rs_auth, &[("token", access)])
            .await
            .1["active"],
        false
    );

    // A rotation (here by the admin command on the shared database) is
    // published by both within the key refresh, and both then sign with the
    // same new key.
    let before = kids(&a).await;
    assert_eq!(before, kids(&b).await);
    let old_kid = kid_of(access);
    let (ok, _, err) = a.cli(&["keys", "rotate"]).await;
    assert!(ok, "{err}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (ka, kb) = (kids(&a).await, kids(&b).await);
        let (_, ta) = post(
            &a,
            "/token",
            rs_auth,
            &[("grant_type", "client_credentials")],
        )
        .await;
        let (_, tb) = post(
            &b,
            "/token",
            rs_auth,
            &[("grant_type", "client_credentials")],
        )
        .await;
        let (kid_a, kid_b) = (
            kid_of(ta["access_token"].as_str().unwrap()),
            kid_of(tb["access_token"].as_str().unwrap()),
        );
        if ka == kb && ka.len() > before.len() && kid_a == kid_b && kid_a != old_kid {
            assert!(
                ka.contains(&kid_a) && ka.contains(&old_kid),
                "the new signer and the retired key are both published"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replicas did not converge: {ka:?} {kb:?} {kid_a} {kid_b}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Sign-in throttling counts failures from both replicas together.
    let wrong = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "wrong password"),
    ];
    for server in [&a, &b, &a, &b, &a] {
        let (status, body) = post(server, "/token", app_auth, &wrong).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
    }
    let right = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "down the rabbit hole"),
    ];
    let (status, body) = post(&b, "/token", app_auth, &right).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "five failures across replicas lock the account: {body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("too many"),
        "{body}"
    );

    a.stop().await;
    b.stop().await;
}
