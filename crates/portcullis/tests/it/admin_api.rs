//! The admin API through real HTTP: its bearer gate, clients, users,
//! sessions, grants, keys and revocations, and its generated OpenAPI document.

use portcullis_testkit::browser::Browser;
use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const CALLBACK: &str = "http://127.0.0.1:43210/callback";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn token(server: &TestServer, id: &str, secret: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

struct Api<'a> {
    server: &'a TestServer,
    token: String,
}

impl Api<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}/admin/v1{path}", self.server.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

async fn password_grant(server: &TestServer, client: (&str, &str), password: &str) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .basic_auth(client.0, Some(client.1))
        .form(&[
            ("grant_type", "password"),
            ("username", "bob"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

/// Whether `/authorize` for `client_id` asks bob's browser for consent.
async fn asks_consent(server: &TestServer, browser: &mut Browser, client_id: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let (_, _, page) = browser
        .get(&format!("{}/authorize?{query}", server.url))
        .await;
    page
}

#[tokio::test]
async fn an_operator_manages_everything_through_the_admin_api() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server =
            TestServer::spawn(BIN.as_ref(), &db, &[("PORTCULLIS_CLIENT_CACHE_TTL", "0")]).await;
        let created: Value = serde_json::from_str(
            &server
                .cli_ok(&["admin-client", "create", "--json"], "")
                .await,
        )
        .unwrap();
        let (admin_id, admin_secret) = (
            created["client_id"].as_str().unwrap(),
            created["client_secret"].as_str().unwrap(),
        );
        let (status, body) = token(&server, admin_id, admin_secret).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let api = Api {
            server: &server,
            token: body["access_token"].as_str().unwrap().to_owned(),
        };

        // Clients: create, use, rotate the secret, delete.
        let (status, client) = api
            .call(
                Method::POST,
                "/clients",
                Some(
                    json!({"name": "svc", "grant_types": ["client_credentials"], "scope": "read"}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        let (id, secret) = (
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str().unwrap(),
        );
        assert_eq!(token(&server, id, secret).await.0, StatusCode::OK);
        let (status, listed) = api.call(Method::GET, "/clients", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["client_id"] == id)
        );
        assert!(
            !listed.to_string().contains(secret),
            "listings never show secrets"
        );
        let (status, rotated) = api
            .call(Method::POST, &format!("/clients/{id}/secret"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(token(&server, id, secret).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            token(&server, id, rotated["client_secret"].as_str().unwrap())
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            api.call(Method::DELETE, &format!("/clients/{id}"), None)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            api.call(Method::GET, &format!("/clients/{id}"), None)
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        let (status, error) = api
            .call(
                Method::POST,
                "/clients",
                Some(json!({"name": "x", "grant_types": ["authorization_code"]})),
            )
            .await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "{error}"
        );
        let (status, error) = api
            .call(Method::POST, "/clients", Some(json!({"name": 5})))
            .await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "{error}"
        );
        // A NUL in a name is refused as bad input, not passed to PostgreSQL
        // (which cannot store it, and answered 503 as if it were down).
        for name in ["a\u{0}b", "   ", ""] {
            let (status, error) = api
                .call(
                    Method::POST,
                    "/clients",
                    Some(json!({"name": name, "grant_types": ["client_credentials"]})),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{kind:?} {name:?}: {error}"
            );
            assert!(
                error["error_description"]
                    .as_str()
                    .unwrap()
                    .starts_with("a client name has 1 to 200 characters"),
                "{error}"
            );
        }
        // The admin client cannot delete itself (its token would die mid-call,
        // and the last one would leave only the CLI); it can rotate a secret,
        // but a public client has none (409, not a malformed request).
        let (status, error) = api
            .call(Method::DELETE, &format!("/clients/{admin_id}"), None)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{error}");
        assert_eq!(
            api.call(Method::GET, "/clients", None).await.0,
            StatusCode::OK
        );
        let (_, spa) = api
            .call(
                Method::POST,
                "/clients",
                Some(json!({"name": "spa", "public": true, "grant_types": ["authorization_code"], "redirect_uris": [CALLBACK]})),
            )
            .await;
        assert_eq!(
            spa["require_pkce"], true,
            "a public client always needs PKCE"
        );
        let spa = spa["client_id"].as_str().unwrap();
        let (status, strict) = api
            .call(
                Method::POST,
                "/clients",
                Some(json!({"name": "strict", "require_pkce": true, "grant_types": ["authorization_code"], "redirect_uris": [CALLBACK]})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{strict}");
        assert_eq!(strict["require_pkce"], true);
        let (_, web) = api
            .call(
                Method::POST,
                "/clients",
                Some(json!({"name": "web", "grant_types": ["authorization_code"], "redirect_uris": [CALLBACK]})),
            )
            .await;
        assert_eq!(web["require_pkce"], false);
        assert_eq!(
            api.call(Method::POST, &format!("/clients/{spa}/secret"), None)
                .await
                .0,
            StatusCode::CONFLICT
        );

        // Users: create, set the password, disable, end sessions, delete.
        let (_, legacy) = api
            .call(
                Method::POST,
                "/clients",
                Some(json!({"name": "legacy", "grant_types": ["password"], "scope": "openid"})),
            )
            .await;
        let legacy = (
            legacy["client_id"].as_str().unwrap().to_owned(),
            legacy["client_secret"].as_str().unwrap().to_owned(),
        );
        let legacy = (legacy.0.as_str(), legacy.1.as_str());
        let new_user =
            json!({"username": "bob", "password": "first password", "email": "bob@example.com"});
        let (status, user) = api
            .call(Method::POST, "/users", Some(new_user.clone()))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        assert!(
            user.get("password_hash").is_none() && !user.to_string().contains("first password")
        );
        assert_eq!(
            api.call(Method::POST, "/users", Some(new_user)).await.0,
            StatusCode::CONFLICT
        );
        let short = json!({"username": "carol", "password": "short"});
        assert_eq!(
            api.call(Method::POST, "/users", Some(short)).await.0,
            StatusCode::BAD_REQUEST
        );
        // The password policy of the pages holds here too, with its words.
        let weak = [
            (
                json!({"username": "carol", "password": "carol is here"}),
                "must not be or contain the username",
            ),
            (
                json!({"username": "carol", "password": "x kittycat x", "email": "kittycat@example.com"}),
                "must not be or contain the username or the email address",
            ),
            (
                json!({"username": "carol", "password": "12345678"}),
                "too easy to guess",
            ),
        ];
        for (request, message) in weak {
            let (status, error) = api.call(Method::POST, "/users", Some(request)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
            assert_eq!(error["error"], "invalid_request");
            let description = error["error_description"].as_str().unwrap();
            assert!(description.contains(message), "{description}");
        }
        assert_eq!(
            api.call(Method::GET, "/users/carol", None).await.0,
            StatusCode::NOT_FOUND,
            "nothing was created"
        );
        let (status, error) = api
            .call(
                Method::PUT,
                "/users/bob/password",
                Some(json!({"password": "bob@example.com"})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
        assert_eq!(
            password_grant(&server, legacy, "first password").await,
            StatusCode::OK,
            "a refused new password leaves the old one"
        );
        let (status, _) = api
            .call(
                Method::PUT,
                "/users/BOB/password",
                Some(json!({"password": "second password"})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            password_grant(&server, legacy, "first password").await,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            password_grant(&server, legacy, "second password").await,
            StatusCode::OK
        );
        let (status, shown) = api
            .call(
                Method::PUT,
                "/users/bob/status",
                Some(json!({"disabled": true})),
            )
            .await;
        assert_eq!((status, &shown["disabled"]), (StatusCode::OK, &json!(true)));
        assert_eq!(
            password_grant(&server, legacy, "second password").await,
            StatusCode::BAD_REQUEST
        );
        api.call(
            Method::PUT,
            "/users/bob/status",
            Some(json!({"disabled": false})),
        )
        .await;

        // Grants and sessions: bob allows a web app in his browser; the
        // operator withdraws it and signs him out.
        let (_, web) = api
            .call(
                Method::POST,
                "/clients",
                Some(json!({"name": "Web", "grant_types": ["authorization_code"],
                "scope": "openid", "redirect_uris": [CALLBACK], "public": true})),
            )
            .await;
        let web = web["client_id"].as_str().unwrap().to_owned();
        let mut browser = Browser::new();
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", web.as_str()),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        browser
            .authorize(
                &format!("{}/authorize?{query}", server.url),
                "bob",
                "second password",
            )
            .await;
        let (status, grants) = api.call(Method::GET, "/users/bob/grants", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(grants.as_array().unwrap().len(), 1, "{grants}");
        assert_eq!(grants[0]["client_id"], web.as_str());
        assert!(
            !asks_consent(&server, &mut browser, &web)
                .await
                .contains("Allow"),
            "consent is remembered"
        );
        assert_eq!(
            api.call(Method::DELETE, &format!("/users/bob/grants/{web}"), None)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert!(
            asks_consent(&server, &mut browser, &web)
                .await
                .contains("Allow"),
            "consent is asked again"
        );
        assert_eq!(
            api.call(Method::DELETE, "/users/bob/sessions", None)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert!(
            asks_consent(&server, &mut browser, &web)
                .await
                .contains("name=\"password\""),
            "signed out"
        );
        assert_eq!(
            api.call(Method::DELETE, "/users/bob", None).await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            api.call(Method::GET, "/users/bob", None).await.0,
            StatusCode::NOT_FOUND
        );

        // Keys and revocations.
        let (status, keys) = api.call(Method::GET, "/keys", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(keys.as_array().unwrap().len(), 2, "{keys}");
        let (status, keys) = api.call(Method::POST, "/keys/rotate", None).await;
        assert_eq!(
            (status, keys.as_array().unwrap().len()),
            (StatusCode::OK, 3),
            "{keys}"
        );
        let (status, revoked) = api
            .call(
                Method::POST,
                "/revocations",
                Some(json!({"token": api.token})),
            )
            .await;
        assert_eq!(
            (status, &revoked["revoked"]),
            (StatusCode::OK, &json!("access_token"))
        );
        let (status, error) = api.call(Method::GET, "/users", None).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_token")),
            "a revoked admin token"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn only_admin_tokens_open_the_api_and_the_openapi_document_describes_it() {
    let db = TestDatabase::new(portcullis_testkit::StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    let anonymous = reqwest::get(format!("{}/admin/v1/clients", server.url))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // A token for the admin audience without the admin scope.
    let (id, secret) = server
        .create_client(&[
            "--name",
            "nosy",
            "--grant-type",
            "client_credentials",
            "--scope",
            "read",
            "--audience",
            "urn:portcullis:admin",
        ])
        .await;
    let (_, body) = token(&server, &id, &secret).await;
    let response = reqwest::Client::new()
        .get(format!("{}/admin/v1/users", server.url))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("insufficient_scope")
            && challenge.contains("scope=\"portcullis:admin\""),
        "{challenge}"
    );
    // An ordinary API token (another audience) is not an admin token.
    let (id, secret) = server
        .create_client(&[
            "--name",
            "svc",
            "--grant-type",
            "client_credentials",
            "--audience",
            "https://api.example",
        ])
        .await;
    let (_, body) = token(&server, &id, &secret).await;
    let response = reqwest::Client::new()
        .get(format!("{}/admin/v1/users", server.url))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let document: Value = reqwest::get(format!("{}/admin/v1/openapi.json", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    for path in [
        "/admin/v1/clients",
        "/admin/v1/users/{username}/grants/{client_id}",
        "/admin/v1/keys/rotate",
        "/admin/v1/revocations",
    ] {
        assert!(
            document["paths"].get(path).is_some(),
            "{path} is documented"
        );
    }
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(
        document["components"]["schemas"]
            .get("ClientView")
            .is_some()
    );
    // Every operation documents the gate's and the database's answers, and
    // every one with a body its 400 and 413.
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let responses = &operation["responses"];
            for status in ["401", "403", "503"] {
                assert!(responses.get(status).is_some(), "{method} {path}: {status}");
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "413"] {
                    assert!(responses.get(status).is_some(), "{method} {path}: {status}");
                }
            }
        }
    }
    assert_eq!(operations, 17);
    let password = &document["components"]["schemas"]["PasswordRequest"]["properties"]["password"];
    assert_eq!(
        password["minLength"], 8,
        "the schema refuses what the server refuses"
    );
    server.stop().await;
}

/// Fails if the admin API read bodies past `max_body_bytes` (it stored a
/// 1,000,000-character client name) or answered an oversized body with 400.
#[tokio::test]
async fn the_admin_api_holds_to_the_body_limit() {
    let db = TestDatabase::new(portcullis_testkit::StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    let created: Value = serde_json::from_str(
        &server
            .cli_ok(&["admin-client", "create", "--json"], "")
            .await,
    )
    .unwrap();
    let (status, body) = token(
        &server,
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let api = Api {
        server: &server,
        token: body["access_token"].as_str().unwrap().to_owned(),
    };
    let huge = "n".repeat(1_000_000);
    let (status, body) = api
        .call(
            Method::POST,
            "/clients",
            Some(json!({"name": huge, "grant_types": ["client_credentials"], "scope": "read"})),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (_, clients) = api.call(Method::GET, "/clients", None).await;
    assert!(
        clients
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"].as_str().is_some_and(|n| n.len() < 1000)),
        "nothing oversized was stored"
    );
}
