//! The guard in front of a real route, with tokens from a real Portcullis
//! server, and the attack battery: every forged or unfit token is refused with
//! the right RFC 6750 error, and nothing panics.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::MasterKey;
use portcullis_core::keyring::KeyRing;
use portcullis_guard::{AccessClaims, Guard};
use portcullis_jose::{Algorithm, SigningKey};
use portcullis_testkit::{InProcessServer, StoreKind, TestDatabase};
use reqwest::StatusCode;
use serde_json::{Value, json};

const API: &str = "https://courses.example/api";

struct Fixture {
    db: TestDatabase,
    issuer: InProcessServer,
    guard: Guard,
    api: String,
    id: String,
    secret: String,
}

async fn fixture() -> Fixture {
    fixture_with(|b| b).await
}

async fn fixture_with(
    configure: impl FnOnce(portcullis_guard::GuardBuilder) -> portcullis_guard::GuardBuilder,
) -> Fixture {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let issuer = InProcessServer::start(&db, |raw| {
        raw.jwks_max_age = Some(portcullis_server::settings::DurationSetting::Seconds(0));
        raw.key_refresh = Some(portcullis_server::settings::DurationSetting::Seconds(1));
        raw.key_publish_delay = Some(portcullis_server::settings::DurationSetting::Seconds(1));
    })
    .await;
    let guard = configure(
        Guard::builder()
            .issuer(&issuer.url)
            .audience(API)
            .require_type("at+jwt")
            .min_refetch_interval(Duration::from_secs(60)),
    )
    .build()
    .await
    .unwrap();
    let app = Router::new()
        .route(
            "/read",
            get(|claims: AccessClaims| async move {
                axum::Json(
                    json!({"sub": claims.sub(), "scope": claims.scopes().collect::<Vec<_>>()}),
                )
            })
            .layer(guard.require_all(["courses:read"])),
        )
        .route(
            "/any",
            get(|| async { "ok" }).layer(guard.require_any(["courses:admin", "courses:write"])),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (id, secret) = issuer
        .create_client("courses:read courses:write", &[API])
        .await;
    Fixture {
        db,
        issuer,
        guard,
        api,
        id,
        secret,
    }
}

impl Fixture {
    async fn token(&self, scope: &str) -> String {
        self.issuer.token(&self.id, &self.secret, Some(scope)).await
    }

    async fn get(&self, path: &str, authorization: Option<&str>) -> (StatusCode, String, Value) {
        let mut request = reqwest::Client::new().get(format!("{}{path}", self.api));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (
            status,
            challenge,
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// The issuer's active signing key, read as someone holding the master key could.
    async fn issuer_key(&self) -> SigningKey {
        let master = MasterKey::parse(
            &std::fs::read_to_string(self.db.dir.path().join("master.key")).unwrap(),
        )
        .unwrap();
        let ring = KeyRing::new(self.issuer.store().keys().await.unwrap());
        let record = ring
            .signer(portcullis_server::system_now())
            .unwrap()
            .clone();
        SigningKey::from_pkcs8(
            record.alg,
            &master.open(&record.kid, &record.sealed_private).unwrap(),
        )
        .unwrap()
    }

    fn claims(&self) -> Value {
        let now = now();
        json!({"iss": self.issuer.url, "sub": "mallory", "aud": API, "client_id": "x",
               "scope": "courses:read", "jti": "j", "iat": now, "exp": now + 300})
    }

    /// Asserts a 401 `invalid_token` with this `error_code`.
    async fn refused(&self, token: &str, code: &str) {
        let (status, challenge, body) = self.get("/read", Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert!(
            challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""),
            "{challenge}"
        );
        assert_eq!(body["error"], "invalid_token");
        assert_eq!(body["error_code"], code, "{body}");
    }
}

fn now() -> i64 {
    portcullis_server::system_now().0
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with any header, signed by `key`.
fn signed(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(signature))
}

fn header(key: &SigningKey) -> Value {
    json!({"alg": key.alg().as_str(), "kid": key.kid(), "typ": "at+jwt"})
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_claims() {
    let f = fixture().await;
    let token = f.token("courses:read").await;
    let (status, _, body) = f.get("/read", Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sub"], f.id.as_str());
    assert_eq!(body["scope"], json!(["courses:read"]));
    // A token forged with the issuer's real key and our claims verifies too (the fixture is sound).
    let key = f.issuer_key().await;
    let (status, _, _) = f
        .get(
            "/read",
            Some(&format!(
                "Bearer {}",
                signed(&key, &header(&key), &f.claims())
            )),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn missing_and_malformed_headers_get_rfc_6750_answers() {
    let f = fixture().await;
    let (status, challenge, body) = f.get("/read", None).await;
    assert_eq!(
        (status, challenge.as_str()),
        (StatusCode::UNAUTHORIZED, "Bearer")
    );
    assert_eq!(body["error_code"], "authorization_header_missing");
    let (status, challenge, body) = f.get("/read", Some("Bearer not a token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(challenge.contains("error=\"invalid_request\""));
    assert_eq!(body["error_code"], "invalid_header");
    let (status, _, _) = f.get("/read", Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn scopes_are_enforced_all_of_and_any_of() {
    let f = fixture().await;
    let writer = f.token("courses:write").await;
    let (status, challenge, body) = f.get("/read", Some(&format!("Bearer {writer}"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"courses:read\"")
    );
    assert_eq!(body["error_code"], "insufficient_scope");
    let (status, _, _) = f.get("/any", Some(&format!("Bearer {writer}"))).await;
    assert_eq!(status, StatusCode::OK, "any-of: courses:write suffices");
    let reader = f.token("courses:read").await;
    let (status, _, _) = f.get("/any", Some(&format!("Bearer {reader}"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let f = fixture().await;
    let token = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "at+jwt"}).to_string()),
        b64(f.claims().to_string())
    );
    f.refused(&token, "algorithm_not_allowed").await;
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let f = fixture().await;
    let key = f.issuer_key().await;
    let public = serde_json::to_vec(key.public_jwk()).unwrap();
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "HS256", "kid": key.kid(), "typ": "at+jwt"}).to_string()),
        b64(f.claims().to_string())
    );
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &public),
        input.as_bytes(),
    );
    f.refused(
        &format!("{input}.{}", b64(tag.as_ref())),
        "algorithm_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn stripped_signature_is_refused() {
    let f = fixture().await;
    let token = f.token("courses:read").await;
    let stripped = format!("{}.", token.rsplit_once('.').unwrap().0);
    f.refused(&stripped, "invalid_signature").await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_refused() {
    let f = fixture().await;
    let real = f.issuer_key().await;
    let attacker = SigningKey::generate(real.alg()).unwrap();
    f.refused(
        &signed(&attacker, &header(&real), &f.claims()),
        "invalid_signature",
    )
    .await;
}

#[tokio::test]
async fn unknown_kid_is_refused() {
    let f = fixture().await;
    let attacker = SigningKey::generate(Algorithm::RS256).unwrap();
    f.refused(
        &signed(&attacker, &header(&attacker), &f.claims()),
        "no_matching_key",
    )
    .await;
}

#[tokio::test]
async fn kid_with_a_path_is_refused() {
    let f = fixture().await;
    let attacker = SigningKey::generate(Algorithm::ES256).unwrap();
    let header = json!({"alg": "ES256", "kid": "../../../../dev/null", "typ": "at+jwt"});
    f.refused(&signed(&attacker, &header, &f.claims()), "no_matching_key")
        .await;
}

#[tokio::test]
async fn kid_with_sql_is_refused() {
    let f = fixture().await;
    let attacker = SigningKey::generate(Algorithm::ES256).unwrap();
    let header = json!({"alg": "ES256", "kid": "x' UNION SELECT 'secret' --", "typ": "at+jwt"});
    f.refused(&signed(&attacker, &header, &f.claims()), "no_matching_key")
        .await;
}

#[tokio::test]
async fn jku_x5u_and_jwk_headers_cannot_supply_a_key() {
    let f = fixture().await;
    let attacker = SigningKey::generate(Algorithm::ES256).unwrap();
    let header = json!({
        "alg": "ES256", "typ": "at+jwt",
        "jwk": attacker.public_jwk(),
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
    });
    let (status, _, body) = f
        .get(
            "/read",
            Some(&format!(
                "Bearer {}",
                signed(&attacker, &header, &f.claims())
            )),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        matches!(
            body["error_code"].as_str(),
            Some("invalid_signature" | "algorithm_not_allowed")
        ),
        "{body}"
    );
}

#[tokio::test]
async fn expired_is_refused() {
    let f = fixture().await;
    let key = f.issuer_key().await;
    let mut claims = f.claims();
    claims["exp"] = json!(now() - 120);
    claims["iat"] = json!(now() - 400);
    f.refused(&signed(&key, &header(&key), &claims), "token_expired")
        .await;
}

#[tokio::test]
async fn not_yet_valid_is_refused() {
    let f = fixture().await;
    let key = f.issuer_key().await;
    let mut claims = f.claims();
    claims["nbf"] = json!(now() + 600);
    f.refused(&signed(&key, &header(&key), &claims), "token_not_yet_valid")
        .await;
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let f = fixture().await;
    let key = f.issuer_key().await;
    let mut claims = f.claims();
    claims["iss"] = json!("https://evil.example");
    f.refused(&signed(&key, &header(&key), &claims), "invalid_claims")
        .await;
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let f = fixture().await;
    let key = f.issuer_key().await;
    let mut claims = f.claims();
    claims["aud"] = json!("https://billing.example");
    f.refused(&signed(&key, &header(&key), &claims), "invalid_claims")
        .await;
}

#[tokio::test]
async fn audience_array_without_ours_is_refused() {
    let f = fixture().await;
    let key = f.issuer_key().await;
    let mut claims = f.claims();
    claims["aud"] = json!(["https://billing.example", "https://courses.example/api/"]);
    f.refused(&signed(&key, &header(&key), &claims), "invalid_claims")
        .await;
}

#[tokio::test]
async fn unknown_crit_header_is_refused() {
    let f = fixture().await;
    let key = f.issuer_key().await;
    let mut header = header(&key);
    header["crit"] = json!(["exp-extension"]);
    header["exp-extension"] = json!(true);
    f.refused(&signed(&key, &header, &f.claims()), "malformed_token")
        .await;
}

#[tokio::test]
async fn a_one_megabyte_token_is_refused() {
    let f = fixture().await;
    let huge = format!(
        "{}.{}.{}",
        "a".repeat(20),
        "b".repeat(1024 * 1024),
        "c".repeat(20)
    );
    let response = reqwest::Client::new()
        .get(format!("{}/read", f.api))
        .header("authorization", format!("Bearer {huge}"))
        .send()
        .await;
    // Either the HTTP layer refuses the header block or the guard refuses the token.
    if let Ok(response) = response {
        assert!(response.status().is_client_error(), "{}", response.status());
        assert_ne!(response.status(), StatusCode::OK);
    }
    // The guard itself refuses it without parsing.
    let rejection = f.guard.verify(&huge).await.unwrap_err();
    assert_eq!(rejection.code(), "malformed_token");
}

#[tokio::test]
async fn non_base64url_segments_are_refused() {
    let f = fixture().await;
    for token in [
        "e30.e30.e30",
        "abc.def.ghi",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0",
        "a.b.c.d.e",
    ] {
        let (status, _, body) = f.get("/read", Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}: {body}");
        assert_eq!(body["error"], "invalid_token");
    }
    let (status, _, _) = f.get("/read", Some("Bearer ***.***.***")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not even a b64token");
}

#[tokio::test]
async fn duplicate_header_keys_are_refused() {
    let f = fixture().await;
    let key = f.issuer_key().await;
    let header = format!(
        r#"{{"alg":"{}","kid":"{}","typ":"at+jwt","typ":"JWT"}}"#,
        key.alg(),
        key.kid()
    );
    let input = format!("{}.{}", b64(header), b64(f.claims().to_string()));
    let token = format!("{input}.{}", b64(key.sign(input.as_bytes()).unwrap()));
    f.refused(&token, "malformed_token").await;
}

#[tokio::test]
async fn wrong_typ_is_refused_where_required() {
    let f = fixture().await;
    let key = f.issuer_key().await;
    let mut header = header(&key);
    header["typ"] = json!("JWT");
    f.refused(&signed(&key, &header, &f.claims()), "invalid_type")
        .await;
}

#[tokio::test]
async fn a_flood_of_forged_kids_fetches_keys_at_most_once() {
    let f = fixture().await;
    let before = f.guard.jwks_fetches();
    let attacker = SigningKey::generate(Algorithm::ES256).unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let header = json!({"alg": "ES256", "kid": format!("forged-{i}"), "typ": "at+jwt"});
        let token = signed(&attacker, &header, &f.claims());
        let guard = f.guard.clone();
        tasks.push(tokio::spawn(async move { guard.verify(&token).await }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap_err().code(), "no_matching_key");
    }
    assert!(
        f.guard.jwks_fetches() - before <= 1,
        "fetched {} times",
        f.guard.jwks_fetches() - before
    );
}

#[tokio::test]
async fn known_keys_need_no_fetch_and_a_reused_token_is_checked_once() {
    let f = fixture().await;
    let fetches = f.guard.jwks_fetches();
    let checks = f.guard.signature_checks();
    let token = f.token("courses:read").await;
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let (api, token) = (f.api.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .get(format!("{api}/read"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(
        f.guard.signature_checks() - checks,
        1,
        "one signature check for one token"
    );
    assert_eq!(f.guard.jwks_fetches(), fetches, "no fetch on the hot path");
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_old_tokens_keep_working() {
    let f = fixture_with(|b| b.min_refetch_interval(Duration::from_millis(1))).await;
    let old = f.token("courses:read").await;
    let timings = portcullis_core::keyring::RotationTimings {
        publish_delay: portcullis_core::Seconds(1),
        retire_after: portcullis_core::Seconds(600),
    };
    let master =
        MasterKey::parse(&std::fs::read_to_string(f.db.dir.path().join("master.key")).unwrap())
            .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    portcullis_core::admin::keys::rotate(
        &**f.issuer.store(),
        &master,
        Algorithm::RS256,
        timings,
        portcullis_server::system_now(),
    )
    .await
    .unwrap();
    let mut new = old.clone();
    for _ in 0..50 {
        new = f.token("courses:read").await;
        if portcullis_jose::decode_unverified(&new).unwrap().0["kid"]
            != portcullis_jose::decode_unverified(&old).unwrap().0["kid"]
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(new, old);
    let (status, _, body) = f.get("/read", Some(&format!("Bearer {new}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = f.get("/read", Some(&format!("Bearer {old}"))).await;
    assert_eq!(status, StatusCode::OK, "the retired key is still published");
}

#[tokio::test]
async fn the_last_good_keys_keep_serving_while_the_issuer_is_down() {
    let f = fixture().await;
    let unused = f.token("courses:read").await;
    let Fixture {
        issuer, api, guard, ..
    } = f;
    drop(issuer);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let response = reqwest::Client::new()
        .get(format!("{api}/read"))
        .bearer_auth(&unused)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let attacker = SigningKey::generate(Algorithm::ES256).unwrap();
    let forged = signed(&attacker, &header(&attacker), &json!({"exp": now() + 60}));
    assert_eq!(
        guard.verify(&forged).await.unwrap_err().code(),
        "no_matching_key"
    );
}

#[tokio::test]
async fn introspection_mode_asks_the_issuer_and_caches_positive_answers_briefly() {
    let f = fixture().await;
    let (rs_id, rs_secret) = f.issuer.create_client("", &[]).await;
    let guard = Guard::builder()
        .issuer(&f.issuer.url)
        .introspection(
            format!("{}/introspect", f.issuer.url),
            rs_id,
            rs_secret,
            Duration::from_secs(30),
        )
        .audience(API)
        .build()
        .await
        .unwrap();
    let token = f.token("courses:read").await;
    let claims = guard.verify(&token).await.unwrap();
    assert_eq!(claims.sub(), Some(f.id.as_str()));
    assert!(claims.has_scope("courses:read"));
    guard.verify(&token).await.unwrap();
    assert_eq!(
        guard.signature_checks(),
        1,
        "the second request is answered from the cache"
    );

    let rejection = guard
        .verify("an-opaque-token-the-issuer-never-issued")
        .await
        .unwrap_err();
    assert_eq!(
        (rejection.status(), rejection.code()),
        (StatusCode::UNAUTHORIZED, "inactive_token")
    );

    // Active at the issuer, but for another audience.
    let (other_id, other_secret) = f
        .issuer
        .create_client("courses:read", &["https://billing.example"])
        .await;
    let foreign = f.issuer.token(&other_id, &other_secret, None).await;
    assert_eq!(
        guard.verify(&foreign).await.unwrap_err().code(),
        "invalid_claims"
    );
}

#[tokio::test]
async fn introspection_with_wrong_credentials_is_unavailable_not_accepted() {
    let f = fixture().await;
    let guard = Guard::builder()
        .issuer(&f.issuer.url)
        .introspection(
            format!("{}/introspect", f.issuer.url),
            &f.id,
            "wrong secret",
            Duration::from_secs(30),
        )
        .audience(API)
        .build()
        .await
        .unwrap();
    let token = f.token("courses:read").await;
    let rejection = guard.verify(&token).await.unwrap_err();
    assert_eq!(rejection.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// RFC 9728: with a resource identifier, the guard describes the API (its
/// authorization server, bearer methods, scopes), serves that document at
/// the well-known path derived from the identifier, and every challenge
/// points at it; tokens for the resource are accepted. Fails if a 401 or 403
/// leaves a client with no way to find the issuer.
#[tokio::test]
async fn a_resource_guard_publishes_its_metadata_and_names_it_in_challenges() {
    const RESOURCE: &str = "https://mcp.example/tools";
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let issuer = InProcessServer::start(&db, |_| {}).await;
    let guard = Guard::builder()
        .issuer(&issuer.url)
        .resource(RESOURCE)
        .resource_name("Tools")
        .scopes_supported(["tools:call"])
        .build()
        .await
        .unwrap();
    assert_eq!(
        guard.resource_metadata_path().as_deref(),
        Some("/.well-known/oauth-protected-resource/tools")
    );
    let metadata = guard.resource_metadata().cloned().unwrap();
    let app = Router::new()
        .route(
            "/tools",
            get(|| async { "called" }).layer(guard.require_all(["tools:call"])),
        )
        .route(
            &guard.resource_metadata_path().unwrap(),
            get(move || async move { metadata }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let document: Value = reqwest::get(format!("{api}/.well-known/oauth-protected-resource/tools"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        document,
        json!({
            "resource": RESOURCE,
            "authorization_servers": [issuer.url],
            "bearer_methods_supported": ["header"],
            "scopes_supported": ["tools:call"],
            "resource_name": "Tools",
        })
    );
    let pointer =
        "resource_metadata=\"https://mcp.example/.well-known/oauth-protected-resource/tools\"";
    let http = reqwest::Client::new();
    let anonymous = http.get(format!("{api}/tools")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        format!("Bearer {pointer}")
    );

    let (id, secret) = issuer.create_client("tools:call other", &[RESOURCE]).await;
    let narrow = issuer.token(&id, &secret, Some("other")).await;
    let refused = http
        .get(format!("{api}/tools"))
        .bearer_auth(&narrow)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(pointer) && challenge.contains("insufficient_scope"),
        "{challenge}"
    );
    let token = issuer.token(&id, &secret, Some("tools:call")).await;
    let called = http
        .get(format!("{api}/tools"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(called.status(), StatusCode::OK);

    let bad = Guard::builder()
        .issuer(&issuer.url)
        .resource("urn:example:tools")
        .build()
        .await;
    assert!(matches!(
        bad,
        Err(portcullis_guard::BuildError::InvalidResource(_))
    ));
}
