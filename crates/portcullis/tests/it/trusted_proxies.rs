//! Behind a load balancer, sign-in throttling counts the client's address
//! from `X-Forwarded-For`, but only when the connection comes from a trusted
//! proxy; anyone else's header is ignored.

use portcullis_testkit::{StoreKind, TestDatabase, TestServer};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// A failed password grant for `username` "from" `forwarded`; returns the
/// error description.
async fn attempt(
    server: &TestServer,
    client: (&str, &str),
    username: &str,
    forwarded: &str,
) -> String {
    let body: Value = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .basic_auth(client.0, Some(client.1))
        .header("x-forwarded-for", forwarded)
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", "wrong password"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    body["error_description"].as_str().unwrap().to_owned()
}

async fn server(settings: &[(&str, &str)]) -> (TestDatabase, TestServer, (String, String)) {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, settings).await;
    let client = server
        .create_client(&["--name", "legacy", "--grant-type", "password"])
        .await;
    (db, server, client)
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_a_stranger_cannot() {
    // Behind a trusted proxy (the test connects from 127.0.0.1): one address
    // spraying 50 account names is stopped; another address is not.
    let (_db, proxied, client) =
        server(&[("PORTCULLIS_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")]).await;
    let client = (client.0.as_str(), client.1.as_str());
    for i in 0..50 {
        let said = attempt(
            &proxied,
            client,
            &format!("user{i}"),
            "203.0.113.1, 10.0.0.5",
        )
        .await;
        assert!(!said.contains("too many"), "attempt {i}: {said}");
    }
    assert!(
        attempt(&proxied, client, "someone", "203.0.113.1")
            .await
            .contains("too many")
    );
    assert!(
        !attempt(&proxied, client, "someone", "203.0.113.2")
            .await
            .contains("too many")
    );
    proxied.stop().await;

    // Without trusted proxies the header is ignored: changing it does not
    // escape the limit of the real address.
    let (_db, direct, client) = server(&[]).await;
    let client = (client.0.as_str(), client.1.as_str());
    for i in 0..50 {
        attempt(
            &direct,
            client,
            &format!("user{i}"),
            &format!("198.51.100.{i}"),
        )
        .await;
    }
    assert!(
        attempt(&direct, client, "someone", "192.0.2.77")
            .await
            .contains("too many")
    );
    direct.stop().await;
}
