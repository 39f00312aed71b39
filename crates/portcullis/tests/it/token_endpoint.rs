//! `/token` with client credentials, through real HTTP on a real server, on
//! every storage backend.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use portcullis_testkit::{StoreKind, TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const API: &str = "https://courses.example/api";

async fn server(kind: StoreKind, settings: &[(&str, &str)]) -> (TestDatabase, TestServer) {
    let db = TestDatabase::new(kind).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, settings).await;
    (db, server)
}

async fn service_client(server: &TestServer) -> (String, String) {
    server
        .create_client(&[
            "--name",
            "courses-worker",
            "--grant-type",
            "client_credentials",
            "--scope",
            "courses:read courses:write",
            "--audience",
            API,
        ])
        .await
}

async fn post_token(
    server: &TestServer,
    auth: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .form(form);
    if let Some((id, secret)) = auth {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

async fn jwks(server: &TestServer) -> JwkSet {
    let discovery: Value = reqwest::get(format!("{}/.well-known/openid-configuration", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uri = discovery["jwks_uri"].as_str().unwrap().to_owned();
    reqwest::get(uri).await.unwrap().json().await.unwrap()
}

/// Verifies `token` with `jsonwebtoken` alone, against the server's JWKS.
fn verify(token: &str, jwks: &JwkSet, issuer: &str, alg: Algorithm) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, alg);
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("the token's kid is published");
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[API]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn a_token_verifies_with_the_published_jwks_on_every_backend() {
    for kind in store_kinds() {
        let (_db, server) = server(kind, &[]).await;
        let (id, secret) = service_client(&server).await;
        let (status, headers, body) = post_token(
            &server,
            Some((&id, &secret)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "courses:read"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {body}");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 900);
        assert_eq!(body["scope"], "courses:read");
        let claims = verify(
            body["access_token"].as_str().unwrap(),
            &jwks(&server).await,
            &server.url,
            Algorithm::RS256,
        );
        assert_eq!(claims["sub"], id.as_str());
        assert_eq!(claims["client_id"], id.as_str());
        assert_eq!(claims["scope"], "courses:read");
        assert_eq!(claims["aud"], API);
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            900
        );
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 22));
    }
}

#[tokio::test]
async fn every_signing_algorithm_yields_tokens_jsonwebtoken_accepts() {
    for (name, alg) in [
        ("ES256", Algorithm::ES256),
        ("ES384", Algorithm::ES384),
        ("PS256", Algorithm::PS256),
        ("EdDSA", Algorithm::EdDSA),
    ] {
        let (_db, server) = server(StoreKind::Sqlite, &[("PORTCULLIS_SIGNING_ALG", name)]).await;
        let (id, secret) = service_client(&server).await;
        let (status, _, body) = post_token(
            &server,
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        let claims = verify(
            body["access_token"].as_str().unwrap(),
            &jwks(&server).await,
            &server.url,
            alg,
        );
        assert_eq!(
            claims["scope"], "courses:read courses:write",
            "no scope asked: all allowed scopes"
        );
    }
}

#[tokio::test]
async fn client_secret_post_is_accepted() {
    let (_db, server) = server(StoreKind::Sqlite, &[]).await;
    let (id, secret) = service_client(&server).await;
    let (status, _, body) = post_token(
        &server,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("resource", API),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn assert_error(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
    want_status: StatusCode,
    code: &str,
) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(headers["cache-control"], "no-store");
    if want_status == StatusCode::UNAUTHORIZED {
        // RFC 6749 5.2 and node-oidc-provider: the challenge names the error
        // too (openid-client 6 reads it from there, not from the body).
        let challenge = headers["www-authenticate"].to_str().unwrap();
        let description = body["error_description"].as_str().unwrap();
        assert!(
            challenge.starts_with("Basic realm=\"portcullis\"")
                && challenge.contains(&format!("error=\"{code}\""))
                && challenge.contains(&format!("error_description=\"{description}\"")),
            "{challenge}"
        );
    }
}

#[tokio::test]
async fn every_rfc_6749_error_case_is_answered_exactly() {
    for kind in store_kinds() {
        let (db, server) = server(kind, &[]).await;
        let (id, secret) = service_client(&server).await;
        let cc = ("grant_type", "client_credentials");
        let good = Some((id.as_str(), secret.as_str()));

        // (client authentication, form, status, error code)
        type Case<'a> = (
            Option<(&'a str, &'a str)>,
            Vec<(&'a str, &'a str)>,
            StatusCode,
            &'a str,
        );
        let cases: Vec<Case> = vec![
            (
                Some((id.as_str(), "wrong")),
                vec![cc],
                StatusCode::UNAUTHORIZED,
                "invalid_client",
            ),
            (
                Some(("no-such-client", secret.as_str())),
                vec![cc],
                StatusCode::UNAUTHORIZED,
                "invalid_client",
            ),
            (None, vec![cc], StatusCode::UNAUTHORIZED, "invalid_client"),
            (
                None,
                vec![cc, ("client_id", id.as_str())],
                StatusCode::UNAUTHORIZED,
                "invalid_client",
            ),
            (good, vec![], StatusCode::BAD_REQUEST, "invalid_request"),
            (
                good,
                vec![cc, cc],
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            (
                good,
                vec![cc, ("scope", "courses:read"), ("scope", "courses:read")],
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            (
                good,
                vec![cc, ("client_secret", secret.as_str())],
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            (
                good,
                vec![("grant_type", "password")],
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
            ),
            (
                good,
                vec![
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("device_code", "x"),
                ],
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
            ),
            (
                good,
                vec![("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")],
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
            ),
            (
                good,
                vec![cc, ("scope", "courses:read admin")],
                StatusCode::BAD_REQUEST,
                "invalid_scope",
            ),
            (
                good,
                vec![cc, ("scope", "bad\"scope")],
                StatusCode::BAD_REQUEST,
                "invalid_scope",
            ),
            (
                good,
                vec![cc, ("resource", "https://evil.example")],
                StatusCode::BAD_REQUEST,
                "invalid_target",
            ),
            (
                good,
                vec![cc, ("resource", "not-a-uri")],
                StatusCode::BAD_REQUEST,
                "invalid_target",
            ),
        ];
        for (auth, form, want_status, code) in cases {
            let (status, headers, body) = post_token(&server, auth, &form).await;
            assert_error(status, &headers, &body, want_status, code);
        }

        // A client registered without the client_credentials grant.
        let store = portcullis_store::connect(&db.url).await.unwrap();
        let new = portcullis_core::NewClient {
            name: "password-only".into(),
            grant_types: vec![portcullis_core::GrantType::Password],
            ..portcullis_core::NewClient::default()
        };
        let (client, other_secret) =
            portcullis_core::admin::clients::create(&*store, new, portcullis_core::UnixTime(0))
                .await
                .unwrap();
        let other_secret = other_secret.unwrap();
        let (status, headers, body) = post_token(
            &server,
            Some((client.id.as_str(), other_secret.expose())),
            &[cc],
        )
        .await;
        assert_error(
            status,
            &headers,
            &body,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
        );
    }
}

#[tokio::test]
async fn wrong_content_type_oversize_bodies_and_garbage_never_yield_500() {
    let (_db, server) = server(StoreKind::Sqlite, &[]).await;
    let (id, secret) = service_client(&server).await;
    let http = reqwest::Client::new();
    let url = format!("{}/token", server.url);

    let json = http
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );

    let huge = format!(
        "grant_type=client_credentials&scope={}",
        "a".repeat(70 * 1024)
    );
    let response = http
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let garbage: [&[u8]; 8] = [
        b"%",
        b"%zz=%%&&==",
        b"grant_type",
        b"\xff\xfe\x00grant_type=client_credentials",
        b"grant_type=client_credentials&client_id=&client_secret=",
        b"=&=&=",
        b"grant_type=client%5Fcredentials%00",
        b"grant_type=client_credentials&resource=",
    ];
    for body in garbage {
        for auth in [
            None,
            Some("Basic"),
            Some("Basic !!!"),
            Some("Bearer x"),
            Some("Basic Og=="),
        ] {
            let mut request = http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_vec());
            if let Some(auth) = auth {
                request = request.header("authorization", auth);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            assert!(
                status.is_client_error() || status.is_success(),
                "{status} for {body:?} / {auth:?}"
            );
            let json: Value = response.json().await.unwrap();
            assert!(json["error"].is_string() || json["access_token"].is_string());
        }
    }

    let get = http.get(&url).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn discovery_lists_only_what_is_implemented() {
    let (_db, server) = server(StoreKind::Sqlite, &[]).await;
    for path in ["openid-configuration", "oauth-authorization-server"] {
        let doc: Value = reqwest::get(format!("{}/.well-known/{path}", server.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["issuer"], server.url.as_str());
        assert_eq!(doc["token_endpoint"], format!("{}/token", server.url));
        assert_eq!(
            doc["grant_types_supported"],
            serde_json::json!([
                "authorization_code",
                "client_credentials",
                "refresh_token",
                "password",
                "urn:ietf:params:oauth:grant-type:device_code",
                "urn:ietf:params:oauth:grant-type:token-exchange",
                "implicit"
            ])
        );
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
        );
        assert_eq!(
            doc["authorization_endpoint"],
            format!("{}/authorize", server.url)
        );
        assert_eq!(
            doc["response_types_supported"],
            serde_json::json!(["code", "token", "id_token", "id_token token"])
        );
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(doc["userinfo_endpoint"], format!("{}/userinfo", server.url));
        assert_eq!(
            doc["device_authorization_endpoint"],
            format!("{}/device_authorization", server.url)
        );
    }
    let response = reqwest::get(format!("{}/jwks.json", server.url))
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let jwks: Value = response.json().await.unwrap();
    for key in jwks["keys"].as_array().unwrap() {
        assert!(
            key.get("d").is_none() && key.get("p").is_none(),
            "no private part is published"
        );
    }
}
