//! Interoperability: an independent OpenID Connect relying party (the
//! `openidconnect` crate, with its own JOSE and its own checks) uses
//! Portcullis unchanged — discovery, the authorization URL with PKCE, the code
//! exchange, ID token signature, claims, nonce and `at_hash`, userinfo, and a
//! refresh. Only the person's part (the sign-in and consent pages) is played
//! by this test's HTTP browser.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse,
};
use portcullis_testkit::browser::{param, query_of};
use portcullis_testkit::{StoreKind, TestDatabase, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// The relying party's HTTP client: reqwest, never following redirects.
async fn send(http: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut answer = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(answer.body(body).unwrap())
}

/// Plays the person (in Chromium where installed): signs in as alice and
/// allows the client; returns the callback's query pairs.
async fn person_allows(url: &str, callback: &str) -> Vec<(String, String)> {
    let location = crate::interop::person_allows(url, callback).await;
    query_of(&location)
}

#[tokio::test]
async fn an_independent_relying_party_signs_a_user_in_unchanged() {
    relying_party_signs_in(&[], jsonwebtoken::Algorithm::RS256).await;
}

/// With ES256 access tokens, ID tokens are still RS256 (OIDC Core 15.1), and
/// a relying party that knows only the defaults accepts them.
#[tokio::test]
async fn id_tokens_stay_rs256_when_access_tokens_use_another_algorithm() {
    relying_party_signs_in(
        &[("PORTCULLIS_SIGNING_ALG", "ES256")],
        jsonwebtoken::Algorithm::ES256,
    )
    .await;
}

async fn relying_party_signs_in(settings: &[(&str, &str)], access_alg: jsonwebtoken::Algorithm) {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, settings).await;
    let callback_url = crate::interop::callback().await;
    server
        .create_user(
            "alice",
            "down the rabbit hole",
            &["--email", "alice@example.com", "--name", "Alice Liddell"],
        )
        .await;
    let (client_id, client_secret) = server
        .create_client(&[
            "--name",
            "Rust web app",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--redirect-uri",
            &callback_url,
            "--scope",
            "openid profile email offline_access",
        ])
        .await;
    let reqwest = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let http = |request| send(reqwest.clone(), request);

    // Discovery, validated by the library (issuer match, required fields).
    let issuer = IssuerUrl::new(server.url.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.clone()),
        Some(ClientSecret::new(client_secret)),
    )
    .set_redirect_uri(RedirectUrl::new(callback_url.clone()).unwrap());

    // The authorization URL as the library builds it, with PKCE S256.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("offline_access".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let callback = person_allows(url.as_str(), &callback_url).await;
    assert_eq!(param(&callback, "state"), Some(csrf.secret().as_str()));
    let code = param(&callback, "code").unwrap().to_owned();

    // The code exchange (client_secret_basic), then the library's own ID token checks.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let access_header = jsonwebtoken::decode_header(tokens.access_token().secret()).unwrap();
    assert_eq!(access_header.alg, access_alg);
    let id_header = jsonwebtoken::decode_header(id_token.to_string()).unwrap();
    assert_eq!(id_header.alg, jsonwebtoken::Algorithm::RS256);
    let id_verifier = client.id_token_verifier();
    let claims = id_token.claims(&id_verifier, &nonce).unwrap();
    assert_eq!(claims.issuer().as_str(), server.url);
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual_hash, expected_hash);

    // Userinfo, through the library, for the same subject.
    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().to_owned(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));
    let name = info.name().and_then(|n| n.get(None)).map(|n| n.as_str());
    assert_eq!(name, Some("Alice Liddell"));

    // A refresh, through the library: a new refresh token (rotation) and a
    // fresh ID token for the same subject.
    let refresh = tokens.refresh_token().expect("offline_access gives one");
    let refreshed = client
        .exchange_refresh_token(refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let rotated = refreshed.refresh_token().expect("a rotated refresh token");
    assert_ne!(rotated.secret(), refresh.secret());
    let refreshed_id = refreshed.id_token().expect("an ID token on refresh");
    let refreshed_claims = refreshed_id
        .claims(&id_verifier, |_: Option<&Nonce>| Ok(()))
        .unwrap();
    assert_eq!(refreshed_claims.subject(), claims.subject());

    // The replayed refresh token fails in the library as RFC 6749 says.
    let replay = client
        .exchange_refresh_token(refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_err();
    let message = format!("{replay:?}");
    assert!(message.contains("invalid_grant"), "{message}");
    server.stop().await;
}
