//! The authorization code flow with PKCE as a browser and an app drive it,
//! through real HTTP on a real server, on both backends: sign-in page,
//! consent page, code, token exchange, ID token; and what an attacker tries.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_testkit::browser::{Browser, hidden, param, query_of};
use portcullis_testkit::id_token::{at_hash_sha256, verified_claims};
use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CALLBACK: &str = "http://127.0.0.1/callback";

struct Setup {
    _db: TestDatabase,
    server: TestServer,
    client_id: String,
}

async fn setup(kind: portcullis_testkit::StoreKind) -> Setup {
    let db = TestDatabase::new(kind).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    server
        .cli_ok(
            &[
                "user",
                "create",
                "--username",
                "alice",
                "--email",
                "alice@example.com",
                "--password-stdin",
            ],
            "down the rabbit hole\n",
        )
        .await;
    let (ok, stdout, stderr) = server
        .cli(&[
            "client",
            "create",
            "--name",
            "Courses SPA",
            "--public",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--redirect-uri",
            CALLBACK,
            "--scope",
            "openid profile email offline_access",
            "--json",
        ])
        .await;
    assert!(ok, "{stderr}");
    let client: Value = serde_json::from_str(&stdout).unwrap();
    Setup {
        client_id: client["client_id"].as_str().unwrap().to_owned(),
        _db: db,
        server,
    }
}

fn authorize_url(setup: &Setup, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", setup.client_id.as_str()),
        ("redirect_uri", "http://127.0.0.1:43210/callback"),
        ("scope", "openid profile"),
        ("state", "af0ifjsldkj"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        pairs.push((k, v));
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    format!("{}/authorize?{query}", setup.server.url)
}

/// Signs in and consents; returns the code from the callback.
async fn sign_in_and_consent(
    setup: &Setup,
    browser: &mut Browser,
    extra: &[(&str, &str)],
) -> String {
    let (status, headers, html) = browser.get(&authorize_url(setup, extra)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:43210"),
        "{csp}"
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(html.contains("Sign in") && html.contains("Courses SPA"));

    let url = format!("{}/login", setup.server.url);
    let (status, headers, html) = browser
        .post(
            &url,
            &[
                ("csrf", &hidden(&html, "csrf")),
                ("request", &hidden(&html, "request")),
                ("username", "ALICE"),
                ("password", "down the rabbit hole"),
            ],
        )
        .await;
    if status == StatusCode::SEE_OTHER {
        // Consent given before is remembered: straight back with a code.
        return code_from(&headers);
    }
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Allow Courses SPA?"), "{html}");

    let url = format!("{}/consent", setup.server.url);
    let (status, headers, body) = browser
        .post(
            &url,
            &[
                ("csrf", &hidden(&html, "csrf")),
                ("request", &hidden(&html, "request")),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let code = code_from(&headers);
    let pairs = query_of(headers[LOCATION].to_str().unwrap());
    assert_eq!(
        param(&pairs, "iss"),
        Some(setup.server.url.as_str()),
        "RFC 9207"
    );
    code
}

/// The code of a redirect to the callback, checking where it goes and its state.
fn code_from(headers: &HeaderMap) -> String {
    let location = headers[LOCATION].to_str().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:43210/callback?"),
        "{location}"
    );
    let pairs = query_of(location);
    assert_eq!(param(&pairs, "state"), Some("af0ifjsldkj"));
    param(&pairs, "code").unwrap().to_owned()
}

async fn exchange(setup: &Setup, code: &str, verifier: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/token", setup.server.url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", "http://127.0.0.1:43210/callback"),
            ("client_id", &setup.client_id),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_user_signs_in_consents_and_the_app_gets_verified_tokens() {
    for kind in store_kinds() {
        let setup = setup(kind).await;
        let mut browser = Browser::new();
        let code = sign_in_and_consent(&setup, &mut browser, &[]).await;

        let (status, tokens) = exchange(&setup, &code, VERIFIER).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {tokens}");
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["scope"], "openid profile");
        assert!(
            tokens.get("refresh_token").is_none(),
            "no offline_access, no refresh token"
        );

        // The ID token verifies with the published JWKS, independently.
        let id_token = tokens["id_token"].as_str().unwrap();
        let claims = verified_claims(&setup.server.url, id_token, &setup.client_id).await;
        assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(claims["azp"], setup.client_id.as_str());
        assert!(claims["auth_time"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap());
        let access_token = tokens["access_token"].as_str().unwrap();
        assert_eq!(claims["at_hash"], at_hash_sha256(access_token));
        let access: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(access_token.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            access["sub"], claims["sub"],
            "the access token is the user's"
        );
        assert_eq!(access["client_id"], setup.client_id.as_str());

        // The user's claims, as far as the scopes allow (profile, not email).
        let http = reqwest::Client::new();
        let userinfo = format!("{}/userinfo", setup.server.url);
        for request in [http.get(&userinfo), http.post(&userinfo)] {
            let response = request.bearer_auth(access_token).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let info: Value = response.json().await.unwrap();
            assert_eq!(
                info,
                serde_json::json!({"sub": claims["sub"], "preferred_username": "alice"})
            );
        }
        // RFC 6750 2.2: the token in a form-encoded POST body, as pyoidc
        // sends it by default.
        let response = http
            .post(&userinfo)
            .form(&[("access_token", access_token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let info: Value = response.json().await.unwrap();
        assert_eq!(info["sub"], claims["sub"]);
        // Two methods at once are invalid_request (RFC 6750 2); the query
        // (2.3) is never read, so a token there is no token.
        let response = http
            .post(&userinfo)
            .bearer_auth(access_token)
            .form(&[("access_token", access_token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.contains("error=\"invalid_request\""),
            "{challenge}"
        );
        for request in [
            http.get(format!("{userinfo}?access_token={access_token}")),
            http.get(&userinfo),
            http.post(&userinfo).form(&[("other", "x")]),
        ] {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"portcullis\""
            );
        }
        let response = http
            .get(&userinfo)
            .bearer_auth("not.a.token")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

        // A code works once.
        let (status, error) = exchange(&setup, &code, VERIFIER).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );

        // Signed in, with consent remembered: straight back with a code.
        let (status, headers, _) = browser.get(&authorize_url(&setup, &[])).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let second = query_of(headers[LOCATION].to_str().unwrap());
        let code = param(&second, "code").unwrap();
        // A wrong verifier fails and spends nothing (as node-oidc-provider
        // checks PKCE before consuming); the right one then redeems it once.
        let wrong = "x".repeat(43);
        let (status, error) = exchange(&setup, code, &wrong).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
        let (status, body) = exchange(&setup, code, VERIFIER).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = exchange(&setup, code, VERIFIER).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // A machine token (no openid scope) reads no user info.
        let (id, secret) = setup
            .server
            .create_client(&[
                "--name",
                "svc",
                "--grant-type",
                "client_credentials",
                "--scope",
                "read",
            ])
            .await;
        let machine: Value = http
            .post(format!("{}/token", setup.server.url))
            .basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let response = http
            .get(&userinfo)
            .bearer_auth(machine["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);

        // A disabled user's tokens read nothing.
        setup.server.cli_ok(&["user", "disable", "alice"], "").await;
        let response = http
            .get(&userinfo)
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        setup.server.stop().await;
    }
}

#[tokio::test]
async fn what_an_attacker_or_a_careless_app_tries_is_refused() {
    let setup = setup(portcullis_testkit::StoreKind::Sqlite).await;
    let mut browser = Browser::new();

    // An unregistered redirect URI: an error page, never a redirect.
    let (status, headers, html) = browser
        .get(&authorize_url(
            &setup,
            &[("redirect_uri", "https://evil.example/callback")],
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get(LOCATION).is_none());
    assert!(html.contains("not one registered"), "{html}");

    // No PKCE: back to the app with invalid_request.
    let (status, headers, _) = browser
        .get(&authorize_url(
            &setup,
            &[("code_challenge", ""), ("code_challenge_method", "")],
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pairs = query_of(headers[LOCATION].to_str().unwrap());
    assert_eq!(param(&pairs, "error"), Some("invalid_request"));
    assert_eq!(param(&pairs, "state"), Some("af0ifjsldkj"));

    // prompt=none without a session.
    let (_, headers, _) = browser
        .get(&authorize_url(&setup, &[("prompt", "none")]))
        .await;
    let pairs = query_of(headers[LOCATION].to_str().unwrap());
    assert_eq!(param(&pairs, "error"), Some("login_required"));

    // The login form without its CSRF cookie is refused.
    let (_, _, html) = browser.get(&authorize_url(&setup, &[])).await;
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("request", hidden(&html, "request")),
        ("username", "alice".to_owned()),
        ("password", "down the rabbit hole".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut stranger = Browser::new();
    let (status, _, _) = stranger
        .post(&format!("{}/login", setup.server.url), &form)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A wrong password and an unknown user get the same answer.
    let login = format!("{}/login", setup.server.url);
    let mut wrong = form.clone();
    wrong[3] = ("password", "guess");
    let (status, _, wrong_html) = browser.post(&login, &wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut unknown = form.clone();
    unknown[2] = ("username", "mallory");
    let (status, _, unknown_html) = browser.post(&login, &unknown).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let message = "The username or password is not right.";
    assert!(wrong_html.contains(message) && unknown_html.contains(message));

    // Deny: the app hears access_denied.
    let (_, _, consent) = browser.post(&login, &form).await;
    let (status, headers, _) = browser
        .post(
            &format!("{}/consent", setup.server.url),
            &[
                ("csrf", &hidden(&consent, "csrf")),
                ("request", &hidden(&consent, "request")),
                ("decision", "deny"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pairs = query_of(headers[LOCATION].to_str().unwrap());
    assert_eq!(param(&pairs, "error"), Some("access_denied"));

    // A password change ends the session: the sign-in page again.
    setup
        .server
        .cli_ok(
            &["user", "set-password", "alice", "--password-stdin"],
            "through the looking glass\n",
        )
        .await;
    let (status, _, html) = browser.get(&authorize_url(&setup, &[])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"password\""), "{html}");

    // A disabled user cannot sign in.
    setup.server.cli_ok(&["user", "disable", "alice"], "").await;
    let csrf = hidden(&html, "csrf");
    let request = hidden(&html, "request");
    let (status, _, _) = browser
        .post(
            &login,
            &[
                ("csrf", &csrf),
                ("request", &request),
                ("username", "alice"),
                ("password", "through the looking glass"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    setup.server.stop().await;
}

async fn refresh(setup: &Setup, token: &str, scope: Option<&str>) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", setup.client_id.as_str()),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let response = reqwest::Client::new()
        .post(format!("{}/token", setup.server.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replay_revokes_the_family() {
    for kind in store_kinds() {
        let setup = setup(kind).await;
        let mut browser = Browser::new();
        let offline = [("scope", "openid profile offline_access")];
        let code = sign_in_and_consent(&setup, &mut browser, &offline).await;
        let (status, tokens) = exchange(&setup, &code, VERIFIER).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {tokens}");
        let first = tokens["refresh_token"].as_str().unwrap().to_owned();

        // Each use returns a new refresh token, a new access token and an ID token.
        let (status, refreshed) = refresh(&setup, &first, None).await;
        assert_eq!(status, StatusCode::OK, "{refreshed}");
        let second = refreshed["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(second, first);
        assert_eq!(refreshed["scope"], "offline_access openid profile");
        assert!(refreshed["id_token"].is_string());

        // Narrowing is allowed; widening is not.
        let (status, narrowed) = refresh(&setup, &second, Some("openid")).await;
        assert_eq!(status, StatusCode::OK, "{narrowed}");
        assert_eq!(narrowed["scope"], "openid");
        let third = narrowed["refresh_token"].as_str().unwrap().to_owned();
        let (status, error) = refresh(&setup, &third, Some("openid email")).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_scope"))
        );

        // Replaying a rotated token revokes the whole family, the newest included.
        let (status, error) = refresh(&setup, &first, None).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
        let (status, _) = refresh(&setup, &third, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "the family is revoked");

        // A replayed code revokes the refresh tokens it produced.
        let code = sign_in_and_consent(&setup, &mut Browser::new(), &offline).await;
        let (_, tokens) = exchange(&setup, &code, VERIFIER).await;
        let fresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        let (status, _) = exchange(&setup, &code, VERIFIER).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = refresh(&setup, &fresh, None).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "revoked with the replayed code"
        );

        // A disabled user cannot refresh.
        let code = sign_in_and_consent(&setup, &mut Browser::new(), &offline).await;
        let (_, tokens) = exchange(&setup, &code, VERIFIER).await;
        setup.server.cli_ok(&["user", "disable", "alice"], "").await;
        let (status, error) =
            refresh(&setup, tokens["refresh_token"].as_str().unwrap(), None).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
        setup.server.stop().await;
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_name_for_a_while() {
    let setup = setup(portcullis_testkit::StoreKind::Sqlite).await;
    let mut browser = Browser::new();
    let (_, _, html) = browser.get(&authorize_url(&setup, &[])).await;
    let (csrf, request) = (hidden(&html, "csrf"), hidden(&html, "request"));
    let login = format!("{}/login", setup.server.url);
    let attempt = |password: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("request", request.clone()),
            ("username", "alice".to_owned()),
            ("password", password.to_owned()),
        ]
    };
    for _ in 0..5 {
        let form = attempt("guess");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, _) = browser.post(&login, &form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password waits: the lock does not depend on it.
    let form = attempt("down the rabbit hole");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, headers, html) = browser.post(&login, &form).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(html.contains("Too many failed attempts"), "{html}");
    // An account name that does not exist is locked the same way, so the lock
    // tells nothing about which names exist.
    for _ in 0..6 {
        let (status, _, _) = browser
            .post(
                &login,
                &[
                    ("csrf", csrf.as_str()),
                    ("request", request.as_str()),
                    ("username", "nobody"),
                    ("password", "guess"),
                ],
            )
            .await;
        assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS);
    }
    let (status, _, _) = browser
        .post(
            &login,
            &[
                ("csrf", csrf.as_str()),
                ("request", request.as_str()),
                ("username", "nobody"),
                ("password", "guess"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    setup.server.stop().await;
}

/// Signs in to the account page; returns the account page's HTML.
async fn sign_in_to_account(
    setup: &Setup,
    browser: &mut Browser,
    password: &str,
) -> (StatusCode, String) {
    let account = format!("{}/account", setup.server.url);
    let (status, _, html) = browser.get(&account).await;
    assert_eq!(status, StatusCode::OK);
    if !html.contains("name=\"password\"") {
        return (status, html);
    }
    let (status, headers, body) = browser
        .post(
            &format!("{}/login", setup.server.url),
            &[
                ("csrf", &hidden(&html, "csrf")),
                ("request", ""),
                ("username", "alice"),
                ("password", password),
            ],
        )
        .await;
    if status != StatusCode::SEE_OTHER {
        return (status, body);
    }
    assert_eq!(headers[LOCATION], "/account");
    let (status, _, html) = browser.get(&account).await;
    (status, html)
}

#[tokio::test]
async fn the_account_page_changes_the_password_and_signs_out() {
    for kind in store_kinds() {
        let setup = setup(kind).await;
        let account = format!("{}/account", setup.server.url);
        let mut browser = Browser::new();
        let mut elsewhere = Browser::new();
        let (status, html) = sign_in_to_account(&setup, &mut browser, "down the rabbit hole").await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {html}");
        assert!(
            html.contains("alice") && html.contains("alice@example.com"),
            "{html}"
        );
        let (status, _) = sign_in_to_account(&setup, &mut elsewhere, "down the rabbit hole").await;
        assert_eq!(status, StatusCode::OK);

        let change = format!("{}/account/password", setup.server.url);
        let csrf = hidden(&html, "csrf");
        type Case<'a> = (&'a str, &'a str, &'a str, &'a str);
        let cases: Vec<Case> = vec![
            (
                "wrong",
                "new password 1",
                "new password 1",
                "current password is not right",
            ),
            (
                "down the rabbit hole",
                "new password 1",
                "new password 2",
                "differ",
            ),
            (
                "down the rabbit hole",
                "short",
                "short",
                "at least 8 characters",
            ),
            // The policy of sign-up: neither the username nor the email's
            // local part, nothing an estimator guesses.
            (
                "down the rabbit hole",
                "Alice in Wonderland",
                "Alice in Wonderland",
                "must not be or contain the username",
            ),
            (
                "down the rabbit hole",
                "qwertyuiop",
                "qwertyuiop",
                "The password is too easy to guess. This is a top-100 common password.",
            ),
        ];
        for (current, new, confirm, message) in cases {
            let (status, _, html) = browser
                .post(
                    &change,
                    &[
                        ("csrf", &csrf),
                        ("current", current),
                        ("new", new),
                        ("confirm", confirm),
                    ],
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert!(html.contains(message), "{message}: {html}");
        }
        let (status, _, html) = browser
            .post(
                &change,
                &[
                    ("csrf", &csrf),
                    ("current", "down the rabbit hole"),
                    ("new", "through the looking glass"),
                    ("confirm", "through the looking glass"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("signed out everywhere else"), "{html}");

        // This browser stays signed in; the other one is signed out.
        let (_, _, html) = browser.get(&account).await;
        assert!(html.contains("Change your password"), "{html}");
        let (_, _, html) = elsewhere.get(&account).await;
        assert!(html.contains("name=\"password\""), "{html}");
        // The old password no longer works; the new one does.
        let (status, _) = sign_in_to_account(&setup, &mut elsewhere, "down the rabbit hole").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) =
            sign_in_to_account(&setup, &mut elsewhere, "through the looking glass").await;
        assert_eq!(status, StatusCode::OK);

        // Signing out ends the session.
        let (_, _, html) = browser.get(&account).await;
        let (status, _, _) = browser
            .post(
                &format!("{}/logout", setup.server.url),
                &[("csrf", &hidden(&html, "csrf"))],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, _, html) = browser.get(&account).await;
        assert!(html.contains("name=\"password\""), "{html}");
        setup.server.stop().await;
    }
}

/// Fails if `max_age=0` were compared as "older than 0 seconds", which a
/// sign-in of the same second is not (OIDC Core 3.1.2.1: it means sign in
/// again, like `prompt=login`).
#[tokio::test]
async fn max_age_zero_always_asks_to_sign_in_again() {
    for kind in store_kinds() {
        let setup = setup(kind).await;
        let mut browser = Browser::new();
        sign_in_and_consent(&setup, &mut browser, &[]).await;
        let again = authorize_url(&setup, &[("max_age", "0")]);
        let (status, _, html) = browser.get(&again).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}");
        assert!(html.contains("name=\"password\""), "{html}");
        // Signing in again then goes straight on with a code.
        let (status, headers, _) = browser
            .post(
                &format!("{}/login", setup.server.url),
                &[
                    ("csrf", &hidden(&html, "csrf")),
                    ("request", &hidden(&html, "request")),
                    ("username", "alice"),
                    ("password", "down the rabbit hole"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{kind:?}");
        assert!(!code_from(&headers).is_empty());
        // Without max_age the session answers at once.
        let (status, _, _) = browser.get(&authorize_url(&setup, &[])).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
}

/// Fails if the rules for new passwords were applied at sign-in: a password
/// chosen under a weaker policy (`password_min_score = 0`) keeps working
/// after the server restarts with the default policy, which refuses it only
/// as a new password.
#[tokio::test]
async fn passwords_chosen_under_an_older_policy_keep_working() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let lax =
            TestServer::spawn(BIN.as_ref(), &db, &[("PORTCULLIS_PASSWORD_MIN_SCORE", "0")]).await;
        lax.create_user("alice", "password1", &[]).await;
        lax.stop().await;

        let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
        let (ok, _, stderr) = server
            .cli_with_stdin(
                &["user", "create", "--username", "dinah", "--password-stdin"],
                "password1\n",
            )
            .await;
        assert!(!ok && stderr.contains("too easy to guess"), "{stderr}");
        let setup = Setup {
            _db: db,
            server,
            client_id: String::new(),
        };
        let mut browser = Browser::new();
        let (status, html) = sign_in_to_account(&setup, &mut browser, "password1").await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {html}");
        assert!(html.contains("Change your password"), "{html}");
        setup.server.stop().await;
    }
}

/// The PKCE policy as RFC 9700 2.1.1 allows it and node-oidc-provider does:
/// a confidential client's OpenID Connect request with a `nonce` may leave
/// PKCE out (relying parties without PKCE, such as passport-openidconnect,
/// work); everything else needs it; and a code is redeemed only as it was
/// issued: with its verifier, or without one. Fails if a PKCE-less request
/// were refused for a confidential OIDC client with a nonce, accepted for
/// anyone else, or if a verifier could be added to or left off a code.
#[tokio::test]
async fn pkce_is_required_unless_a_confidential_oidc_client_sends_a_nonce_and_never_downgraded() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
        server
            .create_user("alice", "down the rabbit hole", &[])
            .await;
        let common = [
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            CALLBACK,
            "--scope",
            "openid profile",
        ];
        let web = server
            .create_client(&[&["--name", "web"][..], &common].concat())
            .await;
        let strict = server
            .create_client(&[&["--name", "strict", "--require-pkce"][..], &common].concat())
            .await;
        let spa = server
            .create_client(&[&["--name", "spa", "--public"][..], &common].concat())
            .await;
        let shown = server.cli_ok(&["client", "show", &strict.0], "").await;
        assert!(shown.contains("require_pkce:  always"), "{shown}");
        let shown = server.cli_ok(&["client", "show", &web.0], "").await;
        assert!(
            shown.contains("unless an OpenID Connect request carries a nonce"),
            "{shown}"
        );

        let url = |client: &str, scope: &str, nonce: bool, pkce: bool| {
            let mut pairs = vec![
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", CALLBACK),
                ("scope", scope),
                ("state", "st"),
            ];
            if nonce {
                pairs.push(("nonce", "n-42"));
            }
            if pkce {
                pairs.push(("code_challenge", CHALLENGE));
                pairs.push(("code_challenge_method", "S256"));
            }
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .finish();
            format!("{}/authorize?{query}", server.url)
        };
        let exchange = |client: (String, String), code: String, verifier: Option<&'static str>| {
            let url = format!("{}/token", server.url);
            async move {
                let mut form = vec![
                    ("grant_type", "authorization_code".to_owned()),
                    ("code", code),
                    ("redirect_uri", CALLBACK.to_owned()),
                ];
                if let Some(verifier) = verifier {
                    form.push(("code_verifier", verifier.to_owned()));
                }
                let request = reqwest::Client::new()
                    .post(url)
                    .form(&form)
                    .basic_auth(&client.0, Some(&client.1));
                let response = request.send().await.unwrap();
                (response.status(), response.json::<Value>().await.unwrap())
            }
        };
        let mut browser = Browser::new();
        let mut code_of = async |u: String| {
            let location = browser.authorize(&u, "alice", "down the rabbit hole").await;
            let pairs = query_of(&location);
            (
                param(&pairs, "code").map(str::to_owned),
                param(&pairs, "error").map(str::to_owned),
            )
        };

        // A confidential client, OpenID Connect with a nonce: no PKCE needed.
        let (code, _) = code_of(url(&web.0, "openid profile", true, false)).await;
        let code = code.expect("a code without PKCE");
        // A verifier for a code issued without a challenge is refused, and
        // the code stays unspent; without one it is redeemed.
        let (status, body) = exchange(web.clone(), code.clone(), Some(VERIFIER)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant")),
            "{body}"
        );
        let (status, tokens) = exchange(web.clone(), code, None).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {tokens}");
        let claims =
            verified_claims(&server.url, tokens["id_token"].as_str().unwrap(), &web.0).await;
        assert_eq!(claims["nonce"], "n-42");

        // Everything else needs PKCE: no nonce, no openid, a client that
        // requires it, a public client.
        for u in [
            url(&web.0, "openid profile", false, false),
            url(&web.0, "profile", true, false),
            url(&strict.0, "openid profile", true, false),
            url(&spa.0, "openid profile", true, false),
        ] {
            let (code, error) = code_of(u.clone()).await;
            assert_eq!(
                (code, error.as_deref()),
                (None, Some("invalid_request")),
                "{u}"
            );
        }

        // A code issued with a challenge needs its verifier; the refusal
        // leaves it unspent.
        let (code, _) = code_of(url(&web.0, "openid profile", true, true)).await;
        let code = code.unwrap();
        let (status, body) = exchange(web.clone(), code.clone(), None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant")),
            "{body}"
        );
        let (status, body) = exchange(web.clone(), code, Some(VERIFIER)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        server.stop().await;
    }
}
