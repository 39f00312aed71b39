//! The password grant, for the clients that opted in (the Authlib tutorial's
//! flow): RFC 6749 section 4.3 answers, the same error for a wrong password
//! and an unknown user, and nothing for clients that did not opt in.

use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

async fn password_grant(
    server: &TestServer,
    client: (&str, &str),
    username: &str,
    password: &str,
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .basic_auth(client.0, Some(client.1))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn opted_in_clients_exchange_a_password_for_tokens() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
        server
            .cli_ok(
                &["user", "create", "--username", "hesam", "--password-stdin"],
                "saffron kite lantern\n",
            )
            .await;
        let (id, secret) = server
            .create_client(&[
                "--name",
                "legacy",
                "--grant-type",
                "password",
                "--grant-type",
                "refresh_token",
                "--scope",
                "openid profile offline_access",
            ])
            .await;

        let (status, tokens) =
            password_grant(&server, (&id, &secret), "hesam", "saffron kite lantern").await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {tokens}");
        assert_eq!(tokens["scope"], "offline_access openid profile");
        assert!(tokens["id_token"].is_string());
        assert!(tokens["refresh_token"].is_string());

        let (wrong_status, wrong) =
            password_grant(&server, (&id, &secret), "hesam", "saffron kite lanterns").await;
        let (unknown_status, unknown) =
            password_grant(&server, (&id, &secret), "mallory", "saffron kite lantern").await;
        assert_eq!(
            (wrong_status, unknown_status),
            (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            wrong, unknown,
            "the answer does not tell whether the account exists"
        );
        assert_eq!(wrong["error"], "invalid_grant");

        let (status, error) = password_grant(
            &server,
            (&id, "not the secret"),
            "hesam",
            "saffron kite lantern",
        )
        .await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client"))
        );

        let (other, other_secret) = server
            .create_client(&[
                "--name",
                "svc",
                "--grant-type",
                "client_credentials",
                "--scope",
                "openid",
            ])
            .await;
        let (status, error) = password_grant(
            &server,
            (&other, &other_secret),
            "hesam",
            "saffron kite lantern",
        )
        .await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unauthorized_client"))
        );

        server.cli_ok(&["user", "disable", "hesam"], "").await;
        let (status, error) =
            password_grant(&server, (&id, &secret), "hesam", "saffron kite lantern").await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
        server.stop().await;
    }
}
