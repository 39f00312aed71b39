//! What survives a restart, what a key rotation keeps verifiable, what the
//! admin CLI does beside a running server, and how a bad configuration stops
//! start-up.

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use portcullis_testkit::{StoreKind, TestDatabase, TestServer, run_cli, store_kinds};
use reqwest::StatusCode;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

async fn token(server: &TestServer, id: &str, secret: &str) -> Result<String, (StatusCode, Value)> {
    let response = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    match body["access_token"].as_str() {
        Some(token) if status == StatusCode::OK => Ok(token.to_owned()),
        _ => Err((status, body)),
    }
}

async fn jwks(server: &TestServer) -> JwkSet {
    reqwest::get(format!("{}/jwks.json", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// Verifies with `jsonwebtoken` against `jwks`, as a resource server that cached it would.
fn verifies(token: &str, jwks: &JwkSet, issuer: &str) -> bool {
    let Some(jwk) = jwks.find(&kid(token)) else {
        return false;
    };
    let header = jsonwebtoken::decode_header(token).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[issuer]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation).is_ok()
}

async fn client(server: &TestServer) -> (String, String) {
    server
        .create_client(&[
            "--name",
            "svc",
            "--grant-type",
            "client_credentials",
            "--scope",
            "read",
        ])
        .await
}

#[tokio::test]
async fn a_restart_keeps_clients_keys_and_the_master_key() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let first = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
        let (id, secret) = client(&first).await;
        let before = token(&first, &id, &secret).await.unwrap();
        let master = std::fs::read(db.dir.path().join("master.key")).unwrap();
        let mode = std::fs::metadata(db.dir.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the master key is readable by its owner only"
        );
        first.stop().await;

        let second = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
        assert_eq!(
            std::fs::read(db.dir.path().join("master.key")).unwrap(),
            master,
            "reused, not regenerated"
        );
        let after = token(&second, &id, &secret)
            .await
            .expect("the client survives a restart");
        assert_eq!(
            kid(&before),
            kid(&after),
            "the signing key survives a restart"
        );
        // The issuer changed with the port, so check the old token against its own issuer.
        let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&before)
            .unwrap()
            .claims;
        assert!(verifies(
            &before,
            &jwks(&second).await,
            claims["iss"].as_str().unwrap()
        ));
    }
}

#[tokio::test]
async fn rotation_publishes_before_signing_and_keeps_old_tokens_verifiable() {
    let quick = [
        ("PORTCULLIS_JWKS_MAX_AGE", "0"),
        ("PORTCULLIS_KEY_REFRESH", "1"),
        ("PORTCULLIS_KEY_PUBLISH_DELAY", "1"),
    ];
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(BIN.as_ref(), &db, &quick).await;
        let (id, secret) = client(&server).await;
        let old = token(&server, &id, &secret).await.unwrap();
        let cached = jwks(&server).await;
        assert_eq!(
            cached.keys.len(),
            2,
            "the active key and the pre-published next key"
        );
        let next = cached
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.clone())
            .find(|k| *k != kid(&old))
            .unwrap();

        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (ok, stdout, stderr) = server.cli(&["keys", "rotate"]).await;
        assert!(ok, "{stderr}");
        assert!(stdout.contains(&next), "the next key takes over: {stdout}");

        let mut new = old.clone();
        for _ in 0..100 {
            new = token(&server, &id, &secret).await.unwrap();
            if kid(&new) != kid(&old) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            kid(&new),
            next,
            "new tokens are signed by the key published before"
        );
        // A verifier holding the JWKS fetched before the rotation accepts the new token...
        assert!(verifies(&new, &cached, &server.url));
        // ...and one fetching it now still accepts the old token.
        let fresh = jwks(&server).await;
        assert!(verifies(&old, &fresh, &server.url));
        assert_eq!(fresh.keys.len(), 3, "retired, active and a new next key");

        let (ok, listing, _) = server.cli(&["keys", "list", "--json"]).await;
        assert!(ok);
        let listing: Vec<Value> = serde_json::from_str(&listing).unwrap();
        let state = |k: &str| listing.iter().find(|e| e["kid"] == k).unwrap()["state"].clone();
        assert_eq!(state(&kid(&old)), "retired");
        assert_eq!(state(&next), "active");
    }
}

#[tokio::test]
async fn admin_commands_work_beside_a_running_server() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server =
        TestServer::spawn(BIN.as_ref(), &db, &[("PORTCULLIS_CLIENT_CACHE_TTL", "0")]).await;
    let (id, secret) = client(&server).await;
    token(&server, &id, &secret).await.unwrap();

    let (ok, list, _) = server.cli(&["client", "list", "--json"]).await;
    assert!(ok);
    assert!(
        list.contains(&id) && !list.contains(&secret),
        "listing never shows a secret"
    );
    let (ok, shown, _) = server.cli(&["client", "show", &id]).await;
    assert!(ok && shown.contains("client_credentials") && !shown.contains(&secret));

    let (ok, rotated, _) = server
        .cli(&["client", "rotate-secret", &id, "--json"])
        .await;
    assert!(ok);
    let rotated: Value = serde_json::from_str(&rotated).unwrap();
    let new_secret = rotated["client_secret"].as_str().unwrap();
    let (status, body) = token(&server, &id, &secret).await.unwrap_err();
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    token(&server, &id, new_secret)
        .await
        .expect("the new secret works");

    let (ok, _, _) = server.cli(&["client", "delete", &id]).await;
    assert!(ok);
    let (status, _) = token(&server, &id, new_secret).await.unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (ok, _, stderr) = server.cli(&["client", "show", &id]).await;
    assert!(!ok && stderr.contains("no client"), "{stderr}");
}

#[tokio::test]
async fn a_bad_configuration_stops_start_up_with_one_line_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let config = dir.path().join("portcullis.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nsigning_algo = \"ES256\"\n",
    )
    .unwrap();
    let config = config.display().to_string();
    // (environment, arguments, the setting the error must name)
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("PORTCULLIS_SIGNING_ALG", "HS256")],
            vec!["serve"],
            "signing_alg",
        ),
        (
            vec![("PORTCULLIS_LISTEN", "localhost")],
            vec!["serve"],
            "listen",
        ),
        (
            vec![],
            vec!["serve", "--issuer", "ftp://id.example"],
            "issuer",
        ),
        (
            vec![("PORTCULLIS_DATABASE_URL", "mysql://db/x")],
            vec!["serve"],
            "database_url",
        ),
        (
            vec![("PORTCULLIS_ACCESS_TOKEN_TTL", "forever")],
            vec!["serve"],
            "access_token_ttl",
        ),
        (
            vec![("PORTCULLIS_MASTER_KEY", "too-short")],
            vec!["serve"],
            "master_key",
        ),
        (vec![], vec!["--config", &config, "serve"], "signing_algo"),
    ];
    for (env, args, setting) in cases {
        let mut env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.push(("PORTCULLIS_DATA_DIR".into(), data.clone()));
        let (ok, _, stderr) = run_cli(BIN.as_ref(), &env, &args).await;
        assert!(!ok, "{setting}: start-up must fail");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{setting}: one line, got {stderr}"
        );
        assert!(stderr.contains(setting), "{setting}: {stderr}");
    }
}
