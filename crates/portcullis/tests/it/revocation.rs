//! Revocation (RFC 7009) through real HTTP and the admin CLI, on every
//! backend, as introspection (RFC 7662), `/userinfo` and `/token` then see it.

use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

struct Fixture {
    server: TestServer,
    /// A client with the password and refresh grants.
    app: (String, String),
    /// Another confidential client with the same grants.
    other: (String, String),
}

async fn fixture(server: TestServer) -> Fixture {
    server
        .create_user("hesam", "correct horse battery", &[])
        .await;
    let grants = [
        "--grant-type",
        "password",
        "--grant-type",
        "refresh_token",
        "--scope",
        "openid offline_access",
    ];
    let app = server
        .create_client(&[&["--name", "app"][..], &grants].concat())
        .await;
    let other = server
        .create_client(&[&["--name", "other"][..], &grants].concat())
        .await;
    Fixture { server, app, other }
}

async fn post(
    server: &TestServer,
    path: &str,
    auth: (&str, &str),
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.url))
        .basic_auth(auth.0, Some(auth.1))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Signs hesam in with the password grant: (access token, refresh token).
async fn sign_in(f: &Fixture) -> (String, String) {
    let (status, body) = post(
        &f.server,
        "/token",
        (&f.app.0, &f.app.1),
        &[
            ("grant_type", "password"),
            ("username", "hesam"),
            ("password", "correct horse battery"),
            ("scope", "openid offline_access"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn revoke(f: &Fixture, who: &(String, String), form: &[(&str, &str)]) -> StatusCode {
    let (status, body) = post(&f.server, "/revoke", (&who.0, &who.1), form).await;
    if status == StatusCode::OK {
        assert_eq!(body, "", "a successful revocation has an empty body");
    }
    status
}

async fn introspect(f: &Fixture, who: &(String, String), token: &str) -> Value {
    let (status, body) = post(
        &f.server,
        "/introspect",
        (&who.0, &who.1),
        &[("token", token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn refresh(f: &Fixture, token: &str) -> (StatusCode, Value) {
    let (status, body) = post(
        &f.server,
        "/token",
        (&f.app.0, &f.app.1),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await;
    (status, serde_json::from_str(&body).unwrap())
}

async fn userinfo(f: &Fixture, access: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/userinfo", f.server.url))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_revoked_refresh_token_ends_its_whole_family() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(TestServer::spawn(BIN.as_ref(), &db, &[]).await).await;
        let (_, first) = sign_in(&f).await;
        let (status, rotated) = refresh(&f, &first).await;
        assert_eq!(status, StatusCode::OK, "{rotated}");
        let current = rotated["refresh_token"].as_str().unwrap();

        // Its client sees it as a live refresh token; other clients learn nothing.
        let seen = introspect(&f, &f.app, current).await;
        assert_eq!(seen["active"], true, "{seen}");
        assert_eq!(seen["token_type"], "refresh_token");
        assert_eq!(seen["client_id"], f.app.0.as_str());
        assert_eq!(
            introspect(&f, &f.other, current).await,
            json!({"active": false})
        );
        assert_eq!(
            introspect(&f, &f.app, &first).await,
            json!({"active": false})
        );

        // Another client's revocation is answered 200 and does nothing.
        assert_eq!(
            revoke(&f, &f.other, &[("token", current)]).await,
            StatusCode::OK
        );
        assert_eq!(introspect(&f, &f.app, current).await["active"], true);

        // The owner revokes the first (already rotated) token: the family ends.
        let hint = [
            ("token", first.as_str()),
            ("token_type_hint", "refresh_token"),
        ];
        assert_eq!(revoke(&f, &f.app, &hint).await, StatusCode::OK);
        assert_eq!(
            introspect(&f, &f.app, current).await,
            json!({"active": false})
        );
        let (status, error) = refresh(&f, current).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );

        // A new sign-in is a new family and is unaffected.
        let (_, fresh) = sign_in(&f).await;
        assert_eq!(refresh(&f, &fresh).await.0, StatusCode::OK);
        f.server.stop().await;
    }
}

#[tokio::test]
async fn a_revoked_access_token_is_refused_until_it_expires() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(TestServer::spawn(BIN.as_ref(), &db, &[]).await).await;
        let (access, refresh_token) = sign_in(&f).await;
        assert_eq!(userinfo(&f, &access).await, StatusCode::OK);
        assert_eq!(introspect(&f, &f.other, &access).await["active"], true);

        assert_eq!(
            revoke(&f, &f.other, &[("token", &access)]).await,
            StatusCode::OK
        );
        assert_eq!(
            userinfo(&f, &access).await,
            StatusCode::OK,
            "not other's to revoke"
        );

        // A wrong hint does not matter (RFC 7009 section 2.1).
        let form = [
            ("token", access.as_str()),
            ("token_type_hint", "refresh_token"),
        ];
        assert_eq!(revoke(&f, &f.app, &form).await, StatusCode::OK);
        assert_eq!(
            introspect(&f, &f.other, &access).await,
            json!({"active": false})
        );
        assert_eq!(userinfo(&f, &access).await, StatusCode::UNAUTHORIZED);
        // Revoking it again, or an unknown token, is still 200.
        assert_eq!(
            revoke(&f, &f.app, &[("token", &access)]).await,
            StatusCode::OK
        );
        assert_eq!(
            revoke(&f, &f.app, &[("token", "no-such-token")]).await,
            StatusCode::OK
        );
        // The refresh token of the same sign-in was not revoked.
        assert_eq!(refresh(&f, &refresh_token).await.0, StatusCode::OK);

        // Errors: no token, no or bad client authentication.
        let (status, body) = post(&f.server, "/revoke", (&f.app.0, &f.app.1), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["error"],
            "invalid_request"
        );
        let (status, body) = post(
            &f.server,
            "/revoke",
            (&f.app.0, "wrong"),
            &[("token", &access)],
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["error"],
            "invalid_client"
        );
        // At /revoke and /introspect alike, the Basic challenge names the error.
        for path in ["/revoke", "/introspect"] {
            let response = reqwest::Client::new()
                .post(format!("{}{path}", f.server.url))
                .basic_auth(&f.app.0, Some("wrong"))
                .form(&[("token", access.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
            let challenge = response.headers()["www-authenticate"].to_str().unwrap();
            assert!(
                challenge.starts_with("Basic realm=\"portcullis\"")
                    && challenge.contains("error=\"invalid_client\"")
                    && challenge.contains("error_description=\""),
                "{path}: {challenge}"
            );
        }
        let anonymous = reqwest::Client::new()
            .post(format!("{}/revoke", f.server.url))
            .form(&[("token", access.as_str()), ("client_id", f.app.0.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            anonymous.status(),
            StatusCode::UNAUTHORIZED,
            "a confidential client must authenticate"
        );

        // Discovery announces the endpoint.
        let metadata: Value =
            reqwest::get(format!("{}/.well-known/openid-configuration", f.server.url))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        assert_eq!(
            metadata["revocation_endpoint"],
            format!("{}/revoke", f.server.url)
        );
        f.server.stop().await;
    }
}

#[tokio::test]
async fn admins_revoke_any_token_and_disabling_or_deleting_ends_tokens() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(TestServer::spawn(BIN.as_ref(), &db, &[]).await).await;

        // `portcullis token revoke` reads the token from standard input.
        let (access, refresh_token) = sign_in(&f).await;
        let out = f
            .server
            .cli_ok(&["token", "revoke"], &format!("{access}\n"))
            .await;
        assert!(out.contains("access token revoked"), "{out}");
        assert_eq!(
            introspect(&f, &f.app, &access).await,
            json!({"active": false})
        );
        let out = f
            .server
            .cli_ok(&["token", "revoke"], &format!("{refresh_token}\n"))
            .await;
        assert!(out.contains("refresh token revoked"), "{out}");
        assert_eq!(refresh(&f, &refresh_token).await.0, StatusCode::BAD_REQUEST);
        let (ok, _, err) = f
            .server
            .cli_with_stdin(&["token", "revoke"], "no-such-token\n")
            .await;
        assert!(!ok && err.contains("not a live token"), "{err}");

        // Disabling the user ends its access and refresh tokens.
        let (access, refresh_token) = sign_in(&f).await;
        assert_eq!(introspect(&f, &f.app, &access).await["active"], true);
        f.server.cli_ok(&["user", "disable", "hesam"], "").await;
        assert_eq!(
            introspect(&f, &f.app, &access).await,
            json!({"active": false})
        );
        assert_eq!(
            introspect(&f, &f.app, &refresh_token).await,
            json!({"active": false})
        );
        f.server.cli_ok(&["user", "enable", "hesam"], "").await;
        assert_eq!(
            refresh(&f, &refresh_token).await.0,
            StatusCode::BAD_REQUEST,
            "stays revoked"
        );

        // Deleting a client ends its tokens.
        let (access, _) = sign_in(&f).await;
        assert_eq!(introspect(&f, &f.other, &access).await["active"], true);
        f.server.cli_ok(&["client", "delete", &f.app.0], "").await;
        assert_eq!(
            introspect(&f, &f.other, &access).await,
            json!({"active": false})
        );
        f.server.stop().await;
    }
}
