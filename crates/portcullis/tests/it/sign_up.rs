//! The sign-up page: people create their own account from the sign-in page
//! and continue to the app signed in; bad input is refused with the form kept;
//! the page can be turned off; one address cannot create accounts without end.
//! Through real HTTP on a real server, on both backends.

use portcullis_testkit::browser::{Browser, hidden, param, query_of};
use portcullis_testkit::{StoreKind, TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CALLBACK: &str = "http://127.0.0.1:43210/callback";

struct Setup {
    _db: TestDatabase,
    server: TestServer,
    client_id: String,
}

async fn setup(kind: StoreKind, settings: &[(&str, &str)]) -> Setup {
    let db = TestDatabase::new(kind).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, settings).await;
    let (client_id, _) = server
        .create_client(&[
            "--name",
            "Courses SPA",
            "--public",
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            CALLBACK,
            "--scope",
            "openid profile email",
        ])
        .await;
    Setup {
        _db: db,
        server,
        client_id,
    }
}

fn authorize_url(setup: &Setup) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", setup.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid profile email"),
            ("state", "s-42"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    format!("{}/authorize?{query}", setup.server.url)
}

/// The `href` of the link whose text is `text`, with `&#38;` decoded.
fn link(html: &str, text: &str) -> String {
    let end = html
        .find(&format!("\">{text}</a>"))
        .unwrap_or_else(|| panic!("no link {text} in {html}"));
    let start = html[..end].rfind("href=\"").unwrap() + 6;
    html[start..end].replace("&#38;", "&").replace("&amp;", "&")
}

/// The sign-up form's fields, with the page's hidden fields.
fn signup_form<'a>(
    html: &str,
    username: &'a str,
    password: &'a str,
    confirm: &'a str,
) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", hidden(html, "csrf")),
        ("request", hidden(html, "request")),
        ("username", username.to_owned()),
        ("name", "Mad Hatter".to_owned()),
        ("email", "hatter@example.com".to_owned()),
        ("password", password.to_owned()),
        ("confirm", confirm.to_owned()),
    ]
}

async fn post(browser: &mut Browser, url: &str, form: &[(&str, String)]) -> (StatusCode, String) {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, html) = browser.post(url, &form).await;
    (status, html)
}

#[tokio::test]
async fn people_create_an_account_and_continue_to_the_app() {
    for kind in store_kinds() {
        let setup = setup(kind, &[]).await;
        let mut browser = Browser::new();
        let (status, _, login) = browser.get(&authorize_url(&setup)).await;
        assert_eq!(status, StatusCode::OK, "{login}");
        let href = link(&login, "Create one");
        assert!(href.starts_with("/signup?response_type=code&"), "{href}");

        let (status, headers, page) = browser.get(&format!("{}{href}", setup.server.url)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Create an account") && page.contains("Courses SPA"));
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            csp.contains("form-action 'self' http://127.0.0.1:43210"),
            "{csp}"
        );
        assert_eq!(headers["x-frame-options"], "DENY");
        let url = format!("{}/signup", setup.server.url);

        // Refusals keep what was typed, except the password.
        let refusals = [
            (
                "hatter",
                "tea party time",
                "tea party tome",
                "The two passwords differ.",
            ),
            ("hatter", "short", "short", "at least 8 characters"),
            (
                "hatter",
                "I am the Hatter",
                "I am the Hatter",
                "The password must not be or contain the username or the email address.",
            ),
            (
                "march.hare",
                "hatter says hi",
                "hatter says hi",
                "must not be or contain the username or the email address",
            ),
            (
                "hatter",
                "password1",
                "password1",
                "The password is too easy to guess. This is a very common password.",
            ),
            (
                "mad hatter",
                "tea party time",
                "tea party time",
                "A username has",
            ),
        ];
        for (username, password, confirm, message) in refusals {
            let form = signup_form(&page, username, password, confirm);
            let (status, html) = post(&mut browser, &url, &form).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{kind:?}: {html}");
            assert!(html.contains(message), "{message}: {html}");
            assert!(html.contains("value=\"Mad Hatter\""), "{html}");
            assert!(!html.contains(password), "the password is never sent back");
        }
        let mut form = signup_form(&page, "hatter", "tea party time", "tea party time");
        form[4].1 = "not an address".to_owned();
        let (status, html) = post(&mut browser, &url, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            html.contains("The email address is not of the form"),
            "{html}"
        );

        // Without the CSRF cookie's twin in the form, nothing is created.
        let mut forged = signup_form(&page, "hatter", "tea party time", "tea party time");
        forged[0].1 = "x".repeat(43);
        let (status, _) = post(&mut browser, &url, &forged).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The account is created, the browser signed in, and the flow goes on.
        let form = signup_form(&page, "Hatter", "tea party time", "tea party time");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, headers, consent) = browser.post(&url, &form).await;
        assert_eq!(status, StatusCode::OK, "{consent}");
        assert!(consent.contains("Allow Courses SPA?"), "{consent}");
        let cookie = headers[SET_COOKIE].to_str().unwrap();
        assert!(
            cookie.starts_with("portcullis_session=") && cookie.contains("Max-Age=43200"),
            "{cookie}"
        );
        let (status, headers, _) = browser
            .post(
                &format!("{}/consent", setup.server.url),
                &[
                    ("csrf", &hidden(&consent, "csrf")),
                    ("request", &hidden(&consent, "request")),
                    ("decision", "allow"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let pairs = query_of(headers[LOCATION].to_str().unwrap());
        assert_eq!(param(&pairs, "state"), Some("s-42"));
        let code = param(&pairs, "code").unwrap();

        let http = reqwest::Client::new();
        let tokens: Value = http
            .post(format!("{}/token", setup.server.url))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CALLBACK),
                ("client_id", &setup.client_id),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let info: Value = http
            .get(format!("{}/userinfo", setup.server.url))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["preferred_username"], "Hatter", "{info}");
        assert_eq!(info["name"], "Mad Hatter");
        assert_eq!(info["email"], "hatter@example.com");
        assert_eq!(info["email_verified"], false, "nobody verified it");

        // Usernames are unique regardless of case.
        let mut other = Browser::new();
        let (_, _, page) = other.get(&format!("{}/signup", setup.server.url)).await;
        let form = signup_form(&page, "HATTER", "another password", "another password");
        let (status, html) = post(&mut other, &url, &form).await;
        assert_eq!(status, StatusCode::CONFLICT, "{html}");
        assert!(html.contains("That username is taken"), "{html}");

        // Without a request, a sign-up lands on the account page.
        let form = signup_form(&page, "dormouse", "treacle well", "treacle well");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, headers, _) = other.post(&url, &form).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[LOCATION], "/account");
        let (_, _, account) = other.get(&format!("{}/account", setup.server.url)).await;
        assert!(account.contains("dormouse"), "{account}");

        let listed = setup.server.cli_ok(&["user", "list"], "").await;
        assert!(
            listed.contains("Hatter") && listed.contains("dormouse"),
            "{listed}"
        );
        setup.server.stop().await;
    }
}

#[tokio::test]
async fn sign_up_can_be_turned_off() {
    let setup = setup(StoreKind::Sqlite, &[("PORTCULLIS_SIGNUP", "false")]).await;
    let mut browser = Browser::new();
    let (status, _, login) = browser.get(&authorize_url(&setup)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        login.contains("Sign in") && !login.contains("/signup"),
        "{login}"
    );
    let url = format!("{}/signup", setup.server.url);
    let (status, _, page) = browser.get(&url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Accounts cannot be created here"), "{page}");
    let form = signup_form(&login, "hatter", "tea party time", "tea party time");
    let (status, _) = post(&mut browser, &url, &form).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let listed = setup.server.cli_ok(&["user", "list"], "").await;
    assert!(!listed.contains("hatter"), "{listed}");
    setup.server.stop().await;
}

#[tokio::test]
async fn one_address_cannot_create_accounts_without_end() {
    let setup = setup(StoreKind::Sqlite, &[("PORTCULLIS_SESSION_TTL", "90m")]).await;
    let url = format!("{}/signup", setup.server.url);
    let mut browser = Browser::new();
    let (_, _, page) = browser.get(&url).await;
    for i in 0..10 {
        let name = format!("card{i}");
        let form = signup_form(&page, &name, "off with their heads", "off with their heads");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, headers, html) = browser.post(&url, &form).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{i}: {html}");
        // The session lasts as long as the setting says.
        let cookie = headers[SET_COOKIE].to_str().unwrap();
        assert!(cookie.contains("Max-Age=5400"), "{cookie}");
    }
    let form = signup_form(
        &page,
        "card10",
        "off with their heads",
        "off with their heads",
    );
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, headers, html) = browser.post(&url, &form).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{html}");
    assert!(html.contains("Too many accounts"), "{html}");
    let wait: u64 = headers[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    let listed = setup.server.cli_ok(&["user", "list"], "").await;
    assert!(
        listed.contains("card9") && !listed.contains("card10"),
        "{listed}"
    );
    setup.server.stop().await;
}

/// Fails if probing sign-up for taken names were free: each taken name
/// spends one of the address's 50 sign-in attempts in the window.
#[tokio::test]
async fn probing_for_taken_names_spends_the_address_attempts() {
    for kind in store_kinds() {
        let setup = setup(kind, &[]).await;
        setup
            .server
            .create_user("alice", "down the rabbit hole", &[])
            .await;
        let mut browser = Browser::new();
        let url = format!("{}/signup", setup.server.url);
        let (_, _, page) = browser.get(&url).await;
        let form = signup_form(&page, "alice", "tea party time", "tea party time");
        let mut statuses = Vec::new();
        for _ in 0..51 {
            statuses.push(post(&mut browser, &url, &form).await.0);
        }
        assert!(
            statuses[..50].iter().all(|s| *s == StatusCode::CONFLICT),
            "{kind:?}: {statuses:?}"
        );
        assert_eq!(statuses[50], StatusCode::TOO_MANY_REQUESTS, "{kind:?}");
        // The address is spent for sign-in too.
        let (status, _, _) = browser
            .post(
                &format!("{}/login", setup.server.url),
                &[
                    ("csrf", &hidden(&page, "csrf")),
                    ("request", ""),
                    ("username", "alice"),
                    ("password", "down the rabbit hole"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{kind:?}");
    }
}
