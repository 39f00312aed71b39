//! Dynamic client registration (RFC 7591) and management (RFC 7592) through
//! real HTTP: open, with initial access tokens, or off; metadata checked; the
//! registration access token manages one client and nothing else.

use portcullis_testkit::{StoreKind, TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

async fn register(server: &TestServer, bearer: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/register", server.url))
        .json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn manage(
    method: reqwest::Method,
    uri: &str,
    token: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .request(method, uri)
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn client_credentials(server: &TestServer, id: &str, secret: &str) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
}

async fn discovery(server: &TestServer) -> Value {
    reqwest::get(format!("{}/.well-known/openid-configuration", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_client_registers_itself_reads_updates_and_deletes_its_registration() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(
            BIN.as_ref(),
            &db,
            &[
                ("PORTCULLIS_REGISTRATION", "open"),
                ("PORTCULLIS_CLIENT_CACHE_TTL", "0"),
            ],
        )
        .await;
        assert_eq!(
            discovery(&server).await["registration_endpoint"],
            format!("{}/register", server.url)
        );

        // A web app (code flow) and a service (client credentials).
        let (status, app) = register(
            &server,
            None,
            &json!({"client_name": "Courses web", "redirect_uris": ["https://courses.example/cb"],
                    "grant_types": ["authorization_code", "refresh_token"], "scope": "openid offline_access",
                    "logo_uri": "https://courses.example/logo.png"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{app}");
        assert_eq!(app["client_name"], "Courses web");
        assert_eq!(app["response_types"], json!(["code"]));
        assert_eq!(app["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(app["client_secret_expires_at"], 0);
        let app_uri = app["registration_client_uri"].as_str().unwrap().to_owned();
        let app_token = app["registration_access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            app_uri,
            format!(
                "{}/register/{}",
                server.url,
                app["client_id"].as_str().unwrap()
            )
        );

        let (status, service) = register(
            &server,
            None,
            &json!({"client_name": "Nightly job", "grant_types": ["client_credentials"], "scope": "profile"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{service}");
        let (id, secret) = (
            service["client_id"].as_str().unwrap(),
            service["client_secret"].as_str().unwrap(),
        );
        assert_eq!(
            client_credentials(&server, id, secret).await,
            StatusCode::OK
        );
        let service_token = service["registration_access_token"].as_str().unwrap();

        // RFC 7592: read with its own token only; the secret is not shown again.
        let (status, read) = manage(reqwest::Method::GET, &app_uri, &app_token, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read["client_id"], app["client_id"]);
        assert!(
            read.get("client_secret").is_none() && read.get("registration_access_token").is_none()
        );
        for wrong in ["wrong", service_token] {
            let (status, body) = manage(reqwest::Method::GET, &app_uri, wrong, None).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("invalid_token"))
            );
        }

        // Update: the new metadata replaces the old; bad metadata changes nothing.
        let changed = json!({"client_id": app["client_id"], "client_name": "Courses", "redirect_uris": ["https://courses.example/callback"],
                             "grant_types": ["authorization_code"]});
        let (status, updated) =
            manage(reqwest::Method::PUT, &app_uri, &app_token, Some(&changed)).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(
            updated["redirect_uris"],
            json!(["https://courses.example/callback"])
        );
        assert_eq!(updated["grant_types"], json!(["authorization_code"]));
        let bad = json!({"redirect_uris": ["http://courses.example/cb"]});
        let (status, body) = manage(reqwest::Method::PUT, &app_uri, &app_token, Some(&bad)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_redirect_uri"))
        );
        let (_, read) = manage(reqwest::Method::GET, &app_uri, &app_token, None).await;
        assert_eq!(read["client_name"], "Courses");

        // Delete: the client stops working and its token stops managing anything.
        let service_uri = service["registration_client_uri"].as_str().unwrap();
        let (status, _) = manage(reqwest::Method::DELETE, service_uri, service_token, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            client_credentials(&server, id, secret).await,
            StatusCode::UNAUTHORIZED
        );
        let (status, _) = manage(reqwest::Method::GET, service_uri, service_token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Clients an administrator created are not manageable through the API.
        let (admin_made, _) = server
            .create_client(&["--name", "svc", "--grant-type", "client_credentials"])
            .await;
        let uri = format!("{}/register/{admin_made}", server.url);
        assert_eq!(
            manage(reqwest::Method::DELETE, &uri, "anything", None)
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn unsafe_metadata_is_refused_with_rfc_7591_errors() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[("PORTCULLIS_REGISTRATION", "open")]).await;
    for (body, code) in [
        (
            json!({"redirect_uris": ["http://app.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb#x"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"grant_types": ["authorization_code"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "grant_types": ["implicit"], "response_types": ["token"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"grant_types": ["password"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"grant_types": ["client_credentials"], "scope": "portcullis:admin"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": "https://app.example/cb"}),
            "invalid_client_metadata",
        ),
        (json!(["not", "an", "object"]), "invalid_client_metadata"),
    ] {
        let (status, answer) = register(&server, None, &body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{body}: {answer}"
        );
    }
    let form = reqwest::Client::new()
        .post(format!("{}/register", server.url))
        .form(&[("client_name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::BAD_REQUEST);
    let (ok, listing, _) = server.cli(&["client", "list", "--json"]).await;
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<Value>(&listing).unwrap(),
        json!([]),
        "nothing was stored"
    );
    server.stop().await;
}

#[tokio::test]
async fn with_initial_access_tokens_only_their_holders_register() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server =
            TestServer::spawn(BIN.as_ref(), &db, &[("PORTCULLIS_REGISTRATION", "token")]).await;
        let metadata = json!({"grant_types": ["client_credentials"]});
        assert_eq!(
            register(&server, None, &metadata).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            register(&server, Some("guess"), &metadata).await.0,
            StatusCode::UNAUTHORIZED
        );

        let out = server
            .cli_ok(
                &[
                    "registration-token",
                    "create",
                    "--uses",
                    "1",
                    "--expires-in",
                    "1h",
                ],
                "",
            )
            .await;
        let token = out.trim();
        let (status, body) = register(&server, Some(token), &metadata).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = register(&server, Some(token), &metadata).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_token")),
            "used up"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn registration_is_off_unless_configured() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    assert!(
        discovery(&server)
            .await
            .get("registration_endpoint")
            .is_none()
    );
    let (status, _) = register(
        &server,
        None,
        &json!({"grant_types": ["client_credentials"]}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}
