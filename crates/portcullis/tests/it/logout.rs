//! OpenID Connect RP-initiated logout through real HTTP on a real server, on
//! both backends: the session ends on the server (not just the cookie), the
//! browser returns only to a registered address with its `state`, and a
//! request without a matching `id_token_hint` needs the user's confirmation.

use portcullis_testkit::browser::{Browser, hidden, param, query_of};
use portcullis_testkit::{StoreKind, TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CALLBACK: &str = "http://127.0.0.1:43210/callback";
const SIGNED_OUT: &str = "http://127.0.0.1:43210/signed-out";

struct Setup {
    _db: TestDatabase,
    server: TestServer,
    client_id: String,
}

async fn setup(kind: StoreKind) -> Setup {
    let db = TestDatabase::new(kind).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    server
        .create_user("alice", "down the rabbit hole", &[])
        .await;
    let (client_id, _) = server
        .create_client(&[
            "--name",
            "Courses SPA",
            "--public",
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            CALLBACK,
            "--post-logout-redirect-uri",
            SIGNED_OUT,
            "--scope",
            "openid",
        ])
        .await;
    Setup {
        _db: db,
        server,
        client_id,
    }
}

/// Signs alice in with `browser` and returns her ID token.
async fn sign_in(s: &Setup, browser: &mut Browser) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", s.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let location = browser
        .authorize(
            &format!("{}/authorize?{query}", s.server.url),
            "alice",
            "down the rabbit hole",
        )
        .await;
    let code = param(&query_of(&location), "code").unwrap().to_owned();
    let tokens: Value = reqwest::Client::new()
        .post(format!("{}/token", s.server.url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", &s.client_id),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["id_token"].as_str().unwrap().to_owned()
}

/// Whether a browser sending `cookies` is signed in (the account page, not
/// the sign-in form).
async fn signed_in(s: &Setup, cookies: &str) -> bool {
    let page = reqwest::Client::new()
        .get(format!("{}/account", s.server.url))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    page.contains("Your account")
}

fn end_session_url(s: &Setup, params: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{}/end-session?{query}", s.server.url)
}

#[tokio::test]
async fn a_relying_party_signs_the_user_out_with_its_id_token() {
    for kind in store_kinds() {
        let s = setup(kind).await;
        let mut browser = Browser::new();
        let id_token = sign_in(&s, &mut browser).await;
        let cookies = browser.cookie_header();
        assert!(signed_in(&s, &cookies).await);

        let url = end_session_url(
            &s,
            &[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", SIGNED_OUT),
                ("state", "bye 1"),
            ],
        );
        let (status, headers, _) = browser.get(&url).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            headers[LOCATION],
            format!("{SIGNED_OUT}?state=bye+1").as_str()
        );
        assert!(
            headers
                .get_all(SET_COOKIE)
                .iter()
                .any(|c| c.to_str().unwrap().contains("Max-Age=0")),
            "the session cookie is cleared"
        );
        assert!(
            !signed_in(&s, &cookies).await,
            "the session ended on the server"
        );

        // Signed out already: the same request just returns to the client.
        let (status, headers, _) = browser.get(&url).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(headers[LOCATION].to_str().unwrap().starts_with(SIGNED_OUT));

        // Discovery announces the endpoint.
        let metadata: Value =
            reqwest::get(format!("{}/.well-known/openid-configuration", s.server.url))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        assert_eq!(
            metadata["end_session_endpoint"],
            format!("{}/end-session", s.server.url)
        );
        s.server.stop().await;
    }
}

#[tokio::test]
async fn without_a_matching_hint_the_user_confirms_and_nobody_else_can() {
    for kind in store_kinds() {
        let s = setup(kind).await;
        let mut browser = Browser::new();
        sign_in(&s, &mut browser).await;
        let cookies = browser.cookie_header();

        // A page anyone could link to: asks first, ends nothing yet.
        let url = end_session_url(
            &s,
            &[
                ("client_id", &s.client_id),
                ("post_logout_redirect_uri", SIGNED_OUT),
                ("state", "s2"),
            ],
        );
        let (status, headers, page) = browser.get(&url).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("Sign out?") && page.contains("Courses SPA"),
            "{page}"
        );
        assert_eq!(headers["x-frame-options"], "DENY");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(signed_in(&s, &cookies).await);

        // A forged confirmation (no CSRF token) is refused.
        let forged = reqwest::Client::new()
            .post(format!("{}/logout", s.server.url))
            .header("cookie", &cookies)
            .form(&[
                ("client_id", s.client_id.as_str()),
                ("post_logout_redirect_uri", SIGNED_OUT),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert!(signed_in(&s, &cookies).await);

        // The user's confirmation ends the session and returns to the client.
        let form = [
            ("csrf", hidden(&page, "csrf")),
            ("client_id", hidden(&page, "client_id")),
            (
                "post_logout_redirect_uri",
                hidden(&page, "post_logout_redirect_uri"),
            ),
            ("state", hidden(&page, "state")),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, headers, _) = browser
            .post(&format!("{}/logout", s.server.url), &form)
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[LOCATION], format!("{SIGNED_OUT}?state=s2").as_str());
        assert!(!signed_in(&s, &cookies).await);
        s.server.stop().await;
    }
}

#[tokio::test]
async fn bad_logout_requests_are_refused_on_a_page_and_end_nothing() {
    let s = setup(StoreKind::Sqlite).await;
    let mut browser = Browser::new();
    let id_token = sign_in(&s, &mut browser).await;
    let cookies = browser.cookie_header();
    let forged = format!("{}x", &id_token[..id_token.len() - 1]);
    for (params, says) in [
        (
            vec![
                ("client_id", s.client_id.as_str()),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
            "not registered",
        ),
        (
            vec![("post_logout_redirect_uri", SIGNED_OUT)],
            "needs client_id",
        ),
        (
            vec![("id_token_hint", forged.as_str())],
            "not an ID token issued here",
        ),
        (
            vec![
                ("id_token_hint", id_token.as_str()),
                ("client_id", "someone-else"),
            ],
            "does not match",
        ),
        (vec![("client_id", "no-such-client")], "unknown"),
    ] {
        let (status, headers, page) = browser.get(&end_session_url(&s, &params)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params:?}");
        assert!(headers.get(LOCATION).is_none());
        assert!(page.contains(says), "{params:?}: {page}");
        assert!(
            signed_in(&s, &cookies).await,
            "{params:?} ended the session"
        );
    }
    s.server.stop().await;
}
