//! CORS (for browser and desktop agents): discovery and the JWKS answer any
//! origin; `/token`, `/register`, `/revoke` and `/userinfo` answer only the
//! origins in `cors_origins` (none by default), preflight included.

use portcullis_testkit::{StoreKind, TestDatabase, TestServer};
use reqwest::{Method, StatusCode};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

async fn allowed_origin(
    server: &TestServer,
    method: Method,
    path: &str,
    origin: &str,
) -> Option<String> {
    let http = reqwest::Client::new();
    let mut request = http
        .request(method.clone(), format!("{}{path}", server.url))
        .header("origin", origin);
    if method == Method::OPTIONS {
        request = request
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            );
    }
    let response = request.send().await.unwrap();
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn only_configured_origins_may_call_the_token_endpoints() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(
        BIN.as_ref(),
        &db,
        &[
            ("PORTCULLIS_CORS_ORIGINS", "https://app.example"),
            ("PORTCULLIS_REGISTRATION", "open"),
        ],
    )
    .await;
    let app = "https://app.example";
    let evil = "https://evil.example";
    for path in ["/token", "/register", "/revoke", "/userinfo"] {
        assert_eq!(
            allowed_origin(&server, Method::OPTIONS, path, app)
                .await
                .as_deref(),
            Some(app),
            "preflight of {path}"
        );
        assert_eq!(
            allowed_origin(&server, Method::OPTIONS, path, evil).await,
            None,
            "{path}"
        );
        assert_eq!(
            allowed_origin(&server, Method::POST, path, app)
                .await
                .as_deref(),
            Some(app),
            "{path}"
        );
        assert_eq!(
            allowed_origin(&server, Method::POST, path, evil).await,
            None
        );
    }
    // A refused token request still lets the page read the error.
    let response = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .header("origin", app)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["access-control-allow-origin"], app);
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "www-authenticate"
    );
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/jwks.json",
    ] {
        assert_eq!(
            allowed_origin(&server, Method::GET, path, evil)
                .await
                .as_deref(),
            Some("*"),
            "{path} is public"
        );
    }
    // The pages never answer CORS.
    assert_eq!(
        allowed_origin(&server, Method::GET, "/authorize", app).await,
        None
    );

    let closed_db = TestDatabase::new(StoreKind::Sqlite).await;
    let closed = TestServer::spawn(BIN.as_ref(), &closed_db, &[]).await;
    assert_eq!(
        allowed_origin(&closed, Method::POST, "/token", app).await,
        None
    );
    assert_eq!(
        allowed_origin(&closed, Method::OPTIONS, "/token", app).await,
        None
    );
}
