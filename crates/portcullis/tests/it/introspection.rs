//! `/introspect` (RFC 7662) through real HTTP, on every backend.

use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

async fn introspect(
    server: &TestServer,
    auth: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/introspect", server.url))
        .form(form);
    if let Some((id, secret)) = auth {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn introspection_reports_live_tokens_and_nothing_about_others() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
        let (id, secret) = server
            .create_client(&[
                "--name",
                "svc",
                "--grant-type",
                "client_credentials",
                "--scope",
                "a b",
                "--audience",
                "https://api.example",
            ])
            .await;
        let (rs_id, rs_secret) = server
            .create_client(&[
                "--name",
                "resource-server",
                "--grant-type",
                "client_credentials",
            ])
            .await;
        let token: Value = reqwest::Client::new()
            .post(format!("{}/token", server.url))
            .basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "a")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["access_token"].as_str().unwrap();

        let (status, body) = introspect(
            &server,
            Some((&rs_id, &rs_secret)),
            &[("token", token), ("token_type_hint", "access_token")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["active"], true, "{body}");
        assert_eq!(body["client_id"], id.as_str());
        assert_eq!(body["sub"], id.as_str());
        assert_eq!(body["scope"], "a");
        assert_eq!(body["aud"], "https://api.example");
        assert_eq!(body["iss"], server.url.as_str());
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["exp"].as_i64().unwrap() > body["iat"].as_i64().unwrap());

        let forged = format!("{}x", &token[..token.len() - 1]);
        for other in [forged.as_str(), "not-a-token", "e30.e30.e30"] {
            let (status, body) =
                introspect(&server, Some((&rs_id, &rs_secret)), &[("token", other)]).await;
            assert_eq!((status, body), (StatusCode::OK, json!({"active": false})));
        }

        let (status, body) = introspect(&server, None, &[("token", token)]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client"))
        );
        let (status, body) =
            introspect(&server, Some((&rs_id, "wrong")), &[("token", token)]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client"))
        );
        let (status, body) = introspect(&server, Some((&rs_id, &rs_secret)), &[]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request"))
        );
    }
}
