//! The implicit flow, for the clients that opted in (OIDC Core 3.2): tokens
//! in the fragment or a form post, never in the query, never a refresh token;
//! ID tokens with the nonce and `at_hash`; and nothing for other clients.
//! Through real HTTP on a real server, on both backends.

use portcullis_testkit::browser::{Browser, hidden, param};
use portcullis_testkit::id_token::{at_hash_sha256, verified_claims};
use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const CALLBACK: &str = "http://127.0.0.1:43210/callback";

struct Setup {
    _db: TestDatabase,
    server: TestServer,
    implicit_client: String,
    code_client: String,
}

impl Setup {
    fn authorize_url(&self, client_id: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs = vec![
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid profile email"),
            ("state", "xyz-1"),
            ("nonce", "n-0S6_WzA2Mj"),
        ];
        pairs.extend_from_slice(extra);
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        format!("{}/authorize?{query}", self.server.url)
    }
}

async fn setup(kind: portcullis_testkit::StoreKind) -> Setup {
    let db = TestDatabase::new(kind).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    server
        .create_user(
            "alice",
            "down the rabbit hole",
            &["--email", "alice@example.com", "--name", "Alice Liddell"],
        )
        .await;
    let client = |grant: &'static str| {
        [
            "--name",
            "Legacy SPA",
            "--public",
            "--grant-type",
            grant,
            "--redirect-uri",
            CALLBACK,
            "--scope",
            "openid profile email",
        ]
    };
    let (implicit_client, _) = server.create_client(&client("implicit")).await;
    let (code_client, _) = server.create_client(&client("authorization_code")).await;
    Setup {
        _db: db,
        server,
        implicit_client,
        code_client,
    }
}

/// Signs alice in and allows the implicit client; returns the final answer.
async fn sign_in(_: &Setup, browser: &mut Browser, url: &str) -> (StatusCode, String, String) {
    let (status, headers, body) = browser
        .sign_in_and_consent(url, "alice", "down the rabbit hole")
        .await;
    let location = headers
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, body)
}

/// The pairs of a redirect's fragment, checking that nothing is in its query.
fn fragment(location: &str) -> Vec<(String, String)> {
    let (before, fragment) = location
        .split_once('#')
        .unwrap_or_else(|| panic!("no fragment in {location}"));
    assert_eq!(before, CALLBACK, "nothing travels in the query");
    form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn implicit_clients_get_tokens_in_the_fragment() {
    for kind in store_kinds() {
        let setup = setup(kind).await;
        let mut browser = Browser::new();
        let url = setup.authorize_url(
            &setup.implicit_client,
            &[("response_type", "id_token token")],
        );
        let (status, location, body) = sign_in(&setup, &mut browser, &url).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{kind:?}: {body}");
        let pairs = fragment(&location);
        assert_eq!(param(&pairs, "state"), Some("xyz-1"));
        assert_eq!(param(&pairs, "token_type"), Some("Bearer"));
        assert_eq!(param(&pairs, "expires_in"), Some("900"));
        assert_eq!(param(&pairs, "iss"), Some(setup.server.url.as_str()));
        assert_eq!(param(&pairs, "code"), None);
        assert_eq!(param(&pairs, "refresh_token"), None, "never by implicit");
        let access_token = param(&pairs, "access_token").unwrap();
        let id_token = param(&pairs, "id_token").unwrap();
        let claims = verified_claims(&setup.server.url, id_token, &setup.implicit_client).await;
        assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(claims["at_hash"], at_hash_sha256(access_token));
        assert!(
            claims.get("email").is_none(),
            "with an access token, claims come from userinfo"
        );
        let info: Value = reqwest::Client::new()
            .get(format!("{}/userinfo", setup.server.url))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["sub"], claims["sub"]);
        assert_eq!(info["email"], "alice@example.com");

        // An ID token alone carries the user's claims itself, and no at_hash.
        let url = setup.authorize_url(&setup.implicit_client, &[("response_type", "id_token")]);
        let (status, headers, _) = browser.get(&url).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "consent is remembered");
        let pairs = fragment(headers[LOCATION].to_str().unwrap());
        assert_eq!(param(&pairs, "access_token"), None);
        let id_token = param(&pairs, "id_token").unwrap();
        let claims = verified_claims(&setup.server.url, id_token, &setup.implicit_client).await;
        assert_eq!(claims["email"], "alice@example.com", "{claims}");
        assert_eq!(claims["name"], "Alice Liddell");
        assert_eq!(claims["preferred_username"], "alice");
        assert!(claims.get("at_hash").is_none(), "{claims}");

        // response_type=token: an access token only.
        let url = setup.authorize_url(&setup.implicit_client, &[("response_type", "token")]);
        let (status, headers, _) = browser.get(&url).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let pairs = fragment(headers[LOCATION].to_str().unwrap());
        let implicit_token = param(&pairs, "access_token").unwrap();
        assert_eq!(param(&pairs, "id_token"), None);
        assert_eq!(param(&pairs, "scope"), Some("email openid profile"));

        // Withdrawing the consent ends the implicit grant's access tokens too
        // (fails if implicit tokens belonged to no family).
        let userinfo = |token: String| {
            let url = format!("{}/userinfo", setup.server.url);
            async move {
                reqwest::Client::new()
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert_eq!(userinfo(implicit_token.to_owned()).await, StatusCode::OK);
        setup
            .server
            .cli_ok(
                &[
                    "user",
                    "grants",
                    "alice",
                    "--revoke",
                    &setup.implicit_client,
                ],
                "",
            )
            .await;
        assert_eq!(
            userinfo(implicit_token.to_owned()).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            userinfo(access_token.to_owned()).await,
            StatusCode::UNAUTHORIZED
        );
        setup.server.stop().await;
    }
}

#[tokio::test]
async fn form_post_carries_tokens_in_an_auto_submitted_form() {
    let setup = setup(portcullis_testkit::StoreKind::Sqlite).await;
    let mut browser = Browser::new();
    let url = setup.authorize_url(
        &setup.implicit_client,
        &[
            ("response_type", "id_token token"),
            ("response_mode", "form_post"),
        ],
    );
    let (status, location, html) = sign_in(&setup, &mut browser, &url).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(location.is_empty(), "no redirect: {location}");
    assert!(
        html.contains(&format!("action=\"{CALLBACK}\"")) && html.contains("method=\"post\""),
        "{html}"
    );
    let id_token = hidden(&html, "id_token");
    let claims = verified_claims(&setup.server.url, &id_token, &setup.implicit_client).await;
    assert_eq!(
        claims["at_hash"],
        at_hash_sha256(&hidden(&html, "access_token"))
    );
    assert_eq!(hidden(&html, "state"), "xyz-1");
    setup.server.stop().await;
}

#[tokio::test]
async fn what_the_implicit_flow_refuses() {
    let setup = setup(portcullis_testkit::StoreKind::Sqlite).await;
    let mut browser = Browser::new();
    // Sign in once, so later requests are answered at once.
    let url = setup.authorize_url(
        &setup.implicit_client,
        &[("response_type", "id_token token")],
    );
    sign_in(&setup, &mut browser, &url).await;

    // Tokens never travel in the query: the error does, and no token.
    let url = setup.authorize_url(
        &setup.implicit_client,
        &[("response_type", "token"), ("response_mode", "query")],
    );
    let (status, headers, _) = browser.get(&url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[LOCATION].to_str().unwrap();
    assert!(
        location.starts_with(&format!("{CALLBACK}?error=invalid_request")),
        "{location}"
    );
    assert!(!location.contains("access_token"), "{location}");

    // An ID token needs a nonce.
    let mut url = setup.authorize_url(&setup.implicit_client, &[("response_type", "id_token")]);
    url = url.replace("&nonce=n-0S6_WzA2Mj", "");
    let (status, headers, _) = browser.get(&url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pairs = fragment(headers[LOCATION].to_str().unwrap());
    assert_eq!(param(&pairs, "error"), Some("invalid_request"));
    assert_eq!(param(&pairs, "id_token"), None);

    // A client that did not opt in gets no token, whatever it asks.
    let url = setup.authorize_url(&setup.code_client, &[("response_type", "token")]);
    let (status, headers, _) = browser.get(&url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pairs = fragment(headers[LOCATION].to_str().unwrap());
    assert_eq!(param(&pairs, "error"), Some("unauthorized_client"));
    assert_eq!(param(&pairs, "access_token"), None);

    // Discovery says which response types exist.
    let metadata: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        setup.server.url
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        metadata["response_types_supported"],
        serde_json::json!(["code", "token", "id_token", "id_token token"])
    );
    setup.server.stop().await;
}
