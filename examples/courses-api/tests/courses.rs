//! The courses API against a real Portcullis server and real tokens.

#![allow(clippy::unwrap_used)]

use portcullis_guard::Guard;
use portcullis_testkit::{InProcessServer, StoreKind, TestDatabase};
use reqwest::StatusCode;
use serde_json::{Value, json};

const API: &str = "https://courses.example/api";

async fn start() -> (TestDatabase, InProcessServer, String) {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let issuer = InProcessServer::start(&db, |_| {}).await;
    let guard = Guard::builder()
        .issuer(&issuer.url)
        .audience(API)
        .build()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, courses_api::app(&guard, &[])).await });
    (db, issuer, url)
}

#[tokio::test]
async fn the_listing_is_public_and_writing_needs_courses_write() {
    let (_db, issuer, api) = start().await;
    let http = reqwest::Client::new();
    let listing = http
        .get(format!("{api}/api/v1/courses"))
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), StatusCode::OK);

    let anonymous = http
        .post(format!("{api}/api/v1/courses"))
        .json(&json!({"title": "Rust"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");

    let (id, secret) = issuer
        .create_client("courses:read courses:write", &[API])
        .await;
    let reader = issuer.token(&id, &secret, Some("courses:read")).await;
    let denied = http
        .post(format!("{api}/api/v1/courses"))
        .bearer_auth(&reader)
        .json(&json!({"title": "Rust"}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let challenge = denied.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"courses:write\""),
        "{challenge}"
    );
    assert_eq!(
        denied.json::<Value>().await.unwrap()["error_code"],
        "insufficient_scope"
    );

    let writer = issuer
        .token(&id, &secret, Some("courses:write courses:read"))
        .await;
    let created = http
        .post(format!("{api}/api/v1/courses"))
        .bearer_auth(&writer)
        .json(&json!({"title": "Rust"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let course: Value = created.json().await.unwrap();
    assert_eq!(
        course["owner"],
        id.as_str(),
        "the handler sees the verified subject"
    );

    let mine: Value = http
        .get(format!("{api}/api/v1/me/courses"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine, json!([course]));
    let all: Value = http
        .get(format!("{api}/api/v1/courses"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let (_db, issuer, api) = start().await;
    let (id, secret) = issuer
        .create_client("courses:read", &["https://billing.example"])
        .await;
    let token = issuer.token(&id, &secret, None).await;
    let response = reqwest::Client::new()
        .get(format!("{api}/api/v1/me/courses"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    assert_eq!(
        response.json::<Value>().await.unwrap()["error_code"],
        "invalid_claims"
    );
}

#[tokio::test]
async fn cors_preflight_allows_the_authorization_header() {
    let (_db, _issuer, api) = start().await;
    let response = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{api}/api/v1/me/courses"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
}
