//! The device authorization grant (RFC 8628) through real HTTP on both
//! backends: a device asks for codes, polls, the user approves or denies on
//! `/device`, the device code is redeemed once (under parallel polls and a
//! failure half-way), wrong user codes are throttled under parallel
//! guesses, and `portcullis login` is a device client that prints tokens.

use portcullis_testkit::browser::{Browser, hidden};
use portcullis_testkit::id_token::verified_claims;
use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::invariants::{failing_inserts, healed};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const PASSWORD: &str = "correct horse battery";
pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Rounds of each race (two polls at once showed double redemption in most
/// rounds when the spend was not one locked transaction).
const ROUNDS: usize = 10;

struct Fixture {
    server: TestServer,
    /// A public device client: device code and refresh grants.
    tv: String,
    /// A confidential device client.
    console: (String, String),
}

async fn fixture(db: &TestDatabase, settings: &[(&str, &str)]) -> Fixture {
    let mut all = vec![("PORTCULLIS_DEVICE_POLL_INTERVAL", "1")];
    all.extend_from_slice(settings);
    let server = TestServer::spawn(BIN.as_ref(), db, &all).await;
    server.create_user("hesam", PASSWORD, &[]).await;
    server.create_user("mina", PASSWORD, &[]).await;
    let device = [
        "--grant-type",
        "device_code",
        "--grant-type",
        "refresh_token",
        "--scope",
        "openid profile offline_access",
    ];
    let (tv, _) = server
        .create_client(&[&["--name", "Living room TV", "--public"][..], &device].concat())
        .await;
    let console = server
        .create_client(&[&["--name", "Console"][..], &device].concat())
        .await;
    Fixture {
        server,
        tv,
        console,
    }
}

/// `POST path` as `client` (public: `client_id` in the form).
async fn post(
    f: &Fixture,
    path: &str,
    client: (&str, Option<&str>),
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    post_at(&f.server.url, path, client, form).await
}

async fn post_at(
    server: &str,
    path: &str,
    client: (&str, Option<&str>),
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut form = form.to_vec();
    let mut request = reqwest::Client::new().post(format!("{server}{path}"));
    match client.1 {
        Some(secret) => request = request.basic_auth(client.0, Some(secret)),
        None => form.push(("client_id", client.0)),
    }
    let response = request.form(&form).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Starts a device authorization for the TV: the response.
async fn start(f: &Fixture, scope: &str) -> Value {
    let (status, body) = post(
        f,
        "/device_authorization",
        (&f.tv, None),
        &[("scope", scope)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn poll(f: &Fixture, client: (&str, Option<&str>), device_code: &str) -> (StatusCode, Value) {
    post(
        f,
        "/token",
        client,
        &[("grant_type", DEVICE_GRANT), ("device_code", device_code)],
    )
    .await
}

/// The user's decision on a started device authorization, through the
/// pages: `(status, last page)`.
async fn decide(
    browser: &mut Browser,
    started: &Value,
    user: &str,
    decision: &str,
) -> (StatusCode, String) {
    browser
        .decide_device(
            text(started, "verification_uri_complete"),
            user,
            PASSWORD,
            decision,
        )
        .await
}

/// Runs `tasks` at once; their outputs in order.
async fn together<T: Send + 'static>(
    tasks: impl Iterator<Item = impl std::future::Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let handles: Vec<_> = tasks.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

async fn userinfo(f: &Fixture, access_token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/userinfo", f.server.url))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_device_gets_tokens_once_its_user_approves() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        let started = start(&f, "openid profile offline_access").await;
        let user_code = text(&started, "user_code");
        assert_eq!(user_code.len(), 9, "XXXX-XXXX: {started}");
        assert_eq!(
            text(&started, "verification_uri"),
            format!("{}/device", f.server.url)
        );
        assert_eq!(
            text(&started, "verification_uri_complete"),
            format!("{}/device?user_code={user_code}", f.server.url)
        );
        assert_eq!(started["expires_in"], 600);
        assert_eq!(started["interval"], 1);
        let device_code = text(&started, "device_code");

        // Undecided: pending, and slow_down for polling inside the interval
        // (which then grows by 5 seconds).
        let (status, body) = poll(&f, (&f.tv, None), device_code).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("authorization_pending")),
            "{kind:?}: {body}"
        );
        let (_, body) = poll(&f, (&f.tv, None), device_code).await;
        assert_eq!(body["error"], "slow_down", "{body}");
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let (_, body) = poll(&f, (&f.tv, None), device_code).await;
        assert_eq!(
            body["error"], "slow_down",
            "2 s is inside the grown interval of 6 s: {body}"
        );

        // The user opens the link, signs in, sees the client, the code and
        // the scopes, and allows.
        let mut browser = Browser::new();
        let (status, page) = browser
            .get(text(&started, "verification_uri_complete"))
            .await
            .into_ok_page();
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("name=\"password\""), "sign-in first: {page}");
        let (status, page) = decide(&mut browser, &started, "hesam", "allow").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Device connected"), "{page}");

        // Approved: redeemed at once, whatever the interval.
        let (status, tokens) = poll(&f, (&f.tv, None), device_code).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {tokens}");
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["scope"], "offline_access openid profile");
        let claims = verified_claims(&f.server.url, text(&tokens, "id_token"), &f.tv).await;
        assert!(claims.get("nonce").is_none(), "{claims}");
        let access = text(&tokens, "access_token").to_owned();
        assert_eq!(userinfo(&f, &access).await, StatusCode::OK);
        let (status, refreshed) = post(
            &f,
            "/token",
            (&f.tv, None),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", text(&tokens, "refresh_token")),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{refreshed}");

        // Redeemed once: presenting it again is invalid_grant, and what it
        // issued dies with it (its family is revoked).
        let (status, body) = poll(&f, (&f.tv, None), device_code).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant")),
            "{body}"
        );
        assert_eq!(userinfo(&f, &access).await, StatusCode::UNAUTHORIZED);
        assert_eq!(
            userinfo(&f, text(&refreshed, "access_token")).await,
            StatusCode::UNAUTHORIZED
        );

        // The code on the page is spent too.
        let (status, page) = decide(&mut browser, &started, "hesam", "allow").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("not waiting for approval"), "{page}");

        // The approval is remembered as consent, so the account page can
        // withdraw it.
        let consents = db
            .count(&format!(
                "SELECT COUNT(*) FROM consents WHERE client_id = '{}'",
                f.tv
            ))
            .await;
        assert_eq!(consents, 1);
    }
}

/// A small extension for a `(status, headers, body)` triple.
trait OkPage {
    fn into_ok_page(self) -> (StatusCode, String);
}

impl OkPage for (StatusCode, reqwest::header::HeaderMap, String) {
    fn into_ok_page(self) -> (StatusCode, String) {
        (self.0, self.2)
    }
}

#[tokio::test]
async fn denied_expired_foreign_and_malformed_requests_get_rfc_8628_errors() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[("PORTCULLIS_DEVICE_CODE_TTL", "5")]).await;
        let console = (f.console.0.as_str(), Some(f.console.1.as_str()));

        // Denied.
        let started = start(&f, "openid").await;
        let mut browser = Browser::new();
        let (status, page) = decide(&mut browser, &started, "hesam", "deny").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Request denied"), "{page}");
        let (status, body) = poll(&f, (&f.tv, None), text(&started, "device_code")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("access_denied")),
            "{kind:?}: {body}"
        );

        // Another client's device code: invalid_grant, and it stays usable
        // for its own client.
        let started = start(&f, "openid").await;
        let device_code = text(&started, "device_code");
        let (_, body) = poll(&f, console, device_code).await;
        assert_eq!(body["error"], "invalid_grant", "{body}");
        let (status, page) = decide(&mut browser, &started, "hesam", "allow").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let (status, body) = poll(&f, (&f.tv, None), device_code).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Expired: after its lifetime the code is expired_token, and the
        // page no longer offers it.
        let started = start(&f, "openid").await;
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        let (_, body) = poll(&f, (&f.tv, None), text(&started, "device_code")).await;
        assert_eq!(body["error"], "expired_token", "{body}");
        let (status, page) = decide(&mut browser, &started, "hesam", "allow").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");

        // Malformed and refused requests.
        let (_, body) = poll(&f, (&f.tv, None), "not-a-device-code").await;
        assert_eq!(body["error"], "invalid_grant", "{body}");
        let (_, body) = post(&f, "/token", (&f.tv, None), &[("grant_type", DEVICE_GRANT)]).await;
        assert_eq!(body["error"], "invalid_request", "{body}");
        let (status, body) = post(
            &f,
            "/device_authorization",
            (&f.tv, None),
            &[("scope", "openid admin")],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_scope")),
            "{body}"
        );
        let (status, body) = post(
            &f,
            "/device_authorization",
            (&f.console.0, Some("not the secret")),
            &[],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client")),
            "{body}"
        );
        let (web, web_secret) = f
            .server
            .create_client(&["--name", "web", "--grant-type", "client_credentials"])
            .await;
        let (status, body) =
            post(&f, "/device_authorization", (&web, Some(&web_secret)), &[]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unauthorized_client")),
            "{body}"
        );
        // Without a scope, the device asks for everything the client may have.
        let (status, all) = post(&f, "/device_authorization", console, &[]).await;
        assert_eq!(status, StatusCode::OK, "{all}");
    }
}

/// Fails if two parallel polls of an approved device code both get tokens
/// (a spend that is not one locked transaction), or if the tokens of the
/// one that won survive the replays of the others.
#[tokio::test]
async fn parallel_polls_of_an_approved_code_redeem_it_once() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        let mut browser = Browser::new();
        for round in 0..ROUNDS {
            let started = start(&f, "openid offline_access").await;
            let (status, page) = decide(&mut browser, &started, "hesam", "allow").await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let polls = (0..6).map(|_| {
                let (server, tv) = (f.server.url.clone(), f.tv.clone());
                let device_code = text(&started, "device_code").to_owned();
                async move {
                    post_at(
                        &server,
                        "/token",
                        (&tv, None),
                        &[("grant_type", DEVICE_GRANT), ("device_code", &device_code)],
                    )
                    .await
                }
            });
            let answers = together(polls).await;
            let won: Vec<&Value> = answers
                .iter()
                .filter(|(status, _)| *status == StatusCode::OK)
                .map(|(_, body)| body)
                .collect();
            assert_eq!(won.len(), 1, "{kind:?} round {round}: {answers:?}");
            for (status, body) in &answers {
                if *status != StatusCode::OK {
                    assert_eq!(body["error"], "invalid_grant", "{body}");
                }
            }
            // The others were replays: the winner's tokens are revoked.
            assert_eq!(
                userinfo(&f, text(won[0], "access_token")).await,
                StatusCode::UNAUTHORIZED,
                "round {round}"
            );
        }
    }
}

/// Fails if parallel decisions on one code are all recorded (the last
/// would win over an approval already shown as done).
#[tokio::test]
async fn parallel_decisions_on_one_code_decide_it_once() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        let mut browser = Browser::new();
        // Sign in once through the page.
        let first = start(&f, "openid").await;
        decide(&mut browser, &first, "hesam", "deny").await;
        for round in 0..ROUNDS {
            let started = start(&f, "openid").await;
            let (_, _, page) = browser
                .get(text(&started, "verification_uri_complete"))
                .await;
            let csrf = hidden(&page, "csrf");
            let code = hidden(&page, "user_code");
            let decisions = (0..6).map(|i| {
                let decision = if i % 2 == 0 { "allow" } else { "deny" };
                let url = format!("{}/device/decision", f.server.url);
                let cookie = browser.cookie_header();
                let (csrf, code) = (csrf.clone(), code.clone());
                async move {
                    let response = reqwest::Client::new()
                        .post(url)
                        .header("cookie", cookie)
                        .form(&[
                            ("csrf", csrf.as_str()),
                            ("user_code", code.as_str()),
                            ("decision", decision),
                        ])
                        .send()
                        .await
                        .unwrap();
                    (decision, response.status(), response.text().await.unwrap())
                }
            });
            let answers = together(decisions).await;
            let done: Vec<&str> = answers
                .iter()
                .filter(|(_, status, _)| *status == StatusCode::OK)
                .map(|(decision, _, _)| *decision)
                .collect();
            assert_eq!(done.len(), 1, "{kind:?} round {round}: {answers:?}");
            let (status, body) = poll(&f, (&f.tv, None), text(&started, "device_code")).await;
            if done[0] == "allow" {
                assert_eq!(status, StatusCode::OK, "{body}");
            } else {
                assert_eq!(body["error"], "access_denied", "{body}");
            }
        }
    }
}

/// Fails if more wrong codes than the per-account allowance (5) are looked
/// up when they arrive in parallel (a count read before it is written), or
/// if a throttled user can still find a right code.
#[tokio::test]
async fn parallel_wrong_user_codes_are_throttled() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        let started = start(&f, "openid").await;
        let mut browser = Browser::new();
        // Sign in through the page (a denied first code).
        let first = start(&f, "openid").await;
        decide(&mut browser, &first, "hesam", "deny").await;
        let (_, _, page) = browser.get(&format!("{}/device", f.server.url)).await;
        let csrf = hidden(&page, "csrf");
        let guesses = (0..24).map(|i| {
            let url = format!("{}/device", f.server.url);
            let cookie = browser.cookie_header();
            let csrf = csrf.clone();
            // Well-formed codes that are not the live one.
            let guess = format!("BBBB-BB{}", ["BC", "BD", "BF", "BG", "BH", "BJ"][i % 6]);
            async move {
                reqwest::Client::new()
                    .post(url)
                    .header("cookie", cookie)
                    .form(&[("csrf", csrf.as_str()), ("user_code", guess.as_str())])
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        });
        let statuses = together(guesses).await;
        let looked_up = statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count();
        let throttled = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!((looked_up, throttled), (5, 19), "{kind:?}: {statuses:?}");
        // The right code is refused to the throttled user too...
        let (status, page) = decide(&mut browser, &started, "hesam", "allow").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{page}");
        // ...but another user approves it.
        let (status, page) = decide(&mut Browser::new(), &started, "mina", "allow").await;
        assert_eq!(status, StatusCode::OK, "{page}");
    }
}

/// Fails if the device code is spent by a write that committed before the
/// family's first refresh token failed to insert.
#[tokio::test]
async fn a_database_failure_mid_redemption_leaves_the_device_code_usable() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        let started = start(&f, "openid offline_access").await;
        let (status, page) = decide(&mut Browser::new(), &started, "hesam", "allow").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        db.execute(&failing_inserts(&db, "refresh_tokens")).await;
        let (status, body) = poll(&f, (&f.tv, None), text(&started, "device_code")).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{kind:?}: {body}");
        db.execute(&healed(&db, "refresh_tokens")).await;
        let (status, body) = poll(&f, (&f.tv, None), text(&started, "device_code")).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {body}");
    }
}

/// `portcullis login` against the real server: it prints the URL and the
/// code, waits while the user approves in a browser, and prints the tokens.
#[tokio::test]
async fn portcullis_login_prints_tokens_once_the_user_approves() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        for (decision, client) in [("allow", &f.tv), ("deny", &f.tv)] {
            let mut child = tokio::process::Command::new(BIN)
                .args([
                    "login",
                    "--issuer",
                    &f.server.url,
                    "--client-id",
                    client,
                    "--scope",
                    "openid offline_access",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
            let mut complete = None;
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.starts_with("To sign in, open") {
                    assert!(line.contains("enter the code"), "{line}");
                }
                if let Some(url) = line.strip_prefix("or open ") {
                    complete = Some(url.to_owned());
                    break;
                }
            }
            let complete = complete.expect("portcullis login printed the link");
            let (status, page) = Browser::new()
                .decide_device(&complete, "hesam", PASSWORD, decision)
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let rest = tokio::spawn(async move {
                let mut rest = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    rest.push_str(&line);
                }
                rest
            });
            let out =
                tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
                    .await
                    .expect("portcullis login finished")
                    .unwrap();
            let stderr = rest.await.unwrap();
            if decision == "allow" {
                assert!(out.status.success(), "{kind:?}: {stderr}");
                let tokens: Value = serde_json::from_slice(&out.stdout).unwrap();
                assert!(tokens["access_token"].is_string(), "{tokens}");
                assert!(tokens["refresh_token"].is_string(), "{tokens}");
            } else {
                assert!(!out.status.success());
                assert!(stderr.contains("denied"), "{stderr}");
                assert!(out.stdout.is_empty());
            }
        }
    }
}

/// A person without an account opens the device link, creates one from the
/// sign-in page, and lands back on the device page with the code, to allow
/// it. Fails if the sign-up forgets where it started.
#[tokio::test]
async fn signing_up_from_the_device_page_comes_back_to_it() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        let started = start(&f, "openid").await;
        let mut browser = Browser::new();
        let (_, _, login) = browser
            .get(text(&started, "verification_uri_complete"))
            .await;
        let href = login
            .split("href=\"")
            .find(|rest| rest.starts_with("/signup") || rest.starts_with("&#x2f;signup"))
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("a sign-up link: {login}"))
            .replace("&#x2f;", "/")
            .replace("&#x2F;", "/")
            .replace("&amp;", "&");
        let (status, _, signup) = browser.get(&format!("{}{href}", f.server.url)).await;
        assert_eq!(status, StatusCode::OK, "{signup}");
        let (status, headers, page) = browser
            .post(
                &format!("{}/signup", f.server.url),
                &[
                    ("csrf", &hidden(&signup, "csrf")),
                    ("request", ""),
                    ("then", &hidden(&signup, "then")),
                    ("username", "newcomer"),
                    ("password", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{kind:?}: {page}");
        let location = headers["location"].to_str().unwrap();
        assert_eq!(
            location,
            format!("/device?user_code={}", text(&started, "user_code"))
        );
        let (status, page) = decide(&mut browser, &started, "newcomer", "allow").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let (status, tokens) = poll(&f, (&f.tv, None), text(&started, "device_code")).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
    }
}
