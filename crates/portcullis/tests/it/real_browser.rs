//! A real browser goes through the pages as a person would: Debian's
//! Chromium, driven over WebDriver by chromedriver, signs up from the sign-in
//! page, consents, lands on the app's callback with a code (which the app
//! exchanges), changes the password on the account page, signs out, and signs
//! in again. The browser enforces what the server only declares (the CSP's
//! `form-action`, `SameSite` cookies), so this is where a wrong header shows.
//!
//! Each page's screenshot goes to `target/screenshots/`; with
//! `PORTCULLIS_TEST_UPDATE_SCREENSHOTS=1` also to `docs/screenshots/`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's packages
//! `chromium` and `chromium-driver`, which `.ci/run` installs). Without them
//! the test says so and passes, unless `PORTCULLIS_TEST_REQUIRE_BROWSER=1` (CI).

use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use portcullis_testkit::id_token::verified_claims;
use portcullis_testkit::{StoreKind, TestDatabase, TestServer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// chromedriver on a free port of 127.0.0.1, stopped when dropped.
struct Driver {
    url: String,
    _child: Child,
}

impl Driver {
    async fn start() -> Driver {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(response) = reqwest::get(format!("{url}/status")).await
                && response.status().is_success()
            {
                return Driver { url, _child: child };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer on port {port}");
    }

    async fn browser(&self, profile: &Path) -> Client {
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--window-size=720,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

/// The app's callback: answers every request with a small page, as an app would.
pub(crate) async fn callback_app() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                let _ = stream.read(&mut buffer).await;
                let body = "<!doctype html><title>Courses App</title>\
                    <body style=\"font:16px system-ui;padding:2rem\">\
                    <h1>Courses App</h1><p>Signed in: the app received an authorization code \
                    and exchanges it for tokens.</p></body>";
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

/// Saves the current page as `name.png`.
async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs = vec![root.join("target/screenshots")];
    if std::env::var_os("PORTCULLIS_TEST_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        dirs.push(root.join("docs/screenshots"));
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    }
}

async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks what `css` selects, then waits until the page says `expect`
/// (a click that submits a form returns before the next page is there).
async fn click(browser: &Client, css: &str, expect: &str) -> String {
    let target = browser.find(Locator::Css(css)).await.unwrap();
    target.click().await.unwrap();
    wait_for_text(browser, expect).await
}

/// Waits until the page's text holds `expect`, and returns that text.
async fn wait_for_text(browser: &Client, expect: &str) -> String {
    let mut text = String::new();
    for _ in 0..100 {
        if let Ok(body) = browser.find(Locator::Css("body")).await
            && let Ok(now) = body.text().await
        {
            text = now;
            if text.contains(expect) {
                return text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never said {expect:?}; it says: {text}");
}

pub(crate) fn browser_present() -> bool {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        let required =
            std::env::var_os("PORTCULLIS_TEST_REQUIRE_BROWSER").is_some_and(|v| v == "1");
        assert!(
            !required,
            "PORTCULLIS_TEST_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!("SKIPPED: no {CHROMIUM} or {CHROMEDRIVER}; install chromium and chromium-driver");
    }
    present
}

#[tokio::test]
async fn a_person_signs_up_consents_and_changes_their_password_in_chromium() {
    if !browser_present() {
        return;
    }
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    let callback = callback_app().await;
    let (client_id, client_secret) = server
        .create_client(&[
            "--name",
            "Courses App",
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            &callback,
            "--scope",
            "openid profile email",
        ])
        .await;
    let authorize = format!(
        "{}/authorize?{}",
        server.url,
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", client_id.as_str()),
                ("redirect_uri", callback.as_str()),
                ("scope", "openid profile email"),
                ("state", "st-7"),
                ("nonce", "nonce-7"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
            .finish()
    );

    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;

    // The app sends the person to sign in; they have no account yet.
    browser.goto(&authorize).await.unwrap();
    wait_for_text(&browser, "to continue to Courses App").await;
    screenshot(&browser, "1-sign-in").await;
    click(&browser, "a[href^='/signup']", "Create an account").await;

    // Sign-up: the first attempt has mismatched passwords.
    fill(&browser, "#username", "hatter").await;
    fill(&browser, "#name", "Mad Hatter").await;
    fill(&browser, "#email", "hatter@example.com").await;
    fill(&browser, "#password", "tea party time").await;
    fill(&browser, "#confirm", "tea party tome").await;
    click(&browser, "button[type=submit]", "The two passwords differ.").await;
    fill(&browser, "#password", "tea party time").await;
    fill(&browser, "#confirm", "tea party time").await;
    screenshot(&browser, "2-sign-up").await;
    let text = click(&browser, "button[type=submit]", "Allow Courses App?").await;

    // Consent, in plain words.
    assert!(text.contains("See your email address"), "{text}");
    screenshot(&browser, "3-consent").await;
    click(
        &browser,
        "button[value=allow]",
        "received an authorization code",
    )
    .await;

    // Back at the app with a code, which it exchanges.
    let landed = browser.current_url().await.unwrap();
    assert!(landed.as_str().starts_with(&callback), "{landed}");
    let pairs: Vec<(String, String)> = landed.query_pairs().into_owned().collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("state").as_deref(), Some("st-7"));
    assert_eq!(get("iss").as_deref(), Some(server.url.as_str()));
    screenshot(&browser, "4-callback").await;
    let tokens: Value = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", get("code").unwrap().as_str()),
            ("redirect_uri", callback.as_str()),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"));
    let claims = verified_claims(&server.url, id_token, &client_id).await;
    assert_eq!(claims["nonce"], "nonce-7");

    // The account page shows what the provider knows; the password changes.
    let account = format!("{}/account", server.url);
    browser.goto(&account).await.unwrap();
    let text = wait_for_text(&browser, "Your account").await;
    assert!(
        text.contains("hatter@example.com") && text.contains("Mad Hatter"),
        "{text}"
    );
    screenshot(&browser, "5-account").await;
    fill(&browser, "#current", "tea party time").await;
    fill(&browser, "#new", "why is a raven like a writing desk").await;
    fill(&browser, "#confirm", "why is a raven like a writing desk").await;
    let changed = "Your password was changed";
    click(&browser, "form[action='/account/password'] button", changed).await;
    screenshot(&browser, "6-password-changed").await;
    click(
        &browser,
        "form[action='/logout'] button",
        "You are signed out",
    )
    .await;

    // The old password no longer works; the new one does, and consent is remembered.
    browser.goto(&authorize).await.unwrap();
    wait_for_text(&browser, "to continue to Courses App").await;
    fill(&browser, "#username", "hatter").await;
    fill(&browser, "#password", "tea party time").await;
    let refused = "The username or password is not right.";
    click(&browser, "button[type=submit]", refused).await;
    screenshot(&browser, "7-sign-in-refused").await;
    fill(&browser, "#password", "why is a raven like a writing desk").await;
    click(
        &browser,
        "button[type=submit]",
        "received an authorization code",
    )
    .await;
    let landed = browser.current_url().await.unwrap();
    assert!(landed.as_str().starts_with(&callback), "{landed}");

    browser.close().await.unwrap();
    server.stop().await;
}

/// A device signs in: `portcullis login` prints the device page and a code;
/// a person opens the page in Chromium, signs in, types the code (in lower
/// case, without its dash), sees the client and what it asks for, and
/// allows; `portcullis login` then prints the tokens. Fails if the sign-in
/// does not come back to the device page, or any page breaks in a browser.
#[tokio::test]
async fn a_person_approves_a_device_in_chromium() {
    use tokio::io::AsyncBufReadExt as _;
    if !browser_present() {
        return;
    }
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(
        BIN.as_ref(),
        &db,
        &[("PORTCULLIS_DEVICE_POLL_INTERVAL", "1")],
    )
    .await;
    server
        .create_user("hatter", "why is a raven like a writing desk", &[])
        .await;
    let (tv, _) = server
        .create_client(&[
            "--name",
            "Living room TV",
            "--public",
            "--grant-type",
            "device_code",
            "--scope",
            "openid profile",
        ])
        .await;
    let mut device = Command::new(BIN)
        .args(["login", "--issuer", &server.url, "--client-id", &tv])
        .args(["--scope", "openid profile"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(device.stderr.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    let (page, code) = first
        .strip_prefix("To sign in, open ")
        .and_then(|rest| rest.split_once(" and enter the code "))
        .unwrap_or_else(|| panic!("{first}"));
    assert_eq!(page, format!("{}/device", server.url));

    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    browser.goto(page).await.unwrap();
    wait_for_text(&browser, "to continue to a device").await;
    fill(&browser, "#username", "hatter").await;
    fill(&browser, "#password", "why is a raven like a writing desk").await;
    click(
        &browser,
        "button[type=submit]",
        "Enter the code your device shows",
    )
    .await;
    fill(
        &browser,
        "#user_code",
        &code.replace('-', "").to_lowercase(),
    )
    .await;
    screenshot(&browser, "8-device-code").await;
    let text = click(
        &browser,
        "button[type=submit]",
        "Allow Living room TV on your device?",
    )
    .await;
    assert!(
        text.contains(code) && text.contains("See your name"),
        "{text}"
    );
    screenshot(&browser, "9-device-confirm").await;
    click(&browser, "button[value=allow]", "Device connected").await;
    browser.close().await.unwrap();

    let out = tokio::time::timeout(Duration::from_secs(60), device.wait_with_output())
        .await
        .expect("portcullis login finished")
        .unwrap();
    assert!(out.status.success());
    let tokens: Value = serde_json::from_slice(&out.stdout).unwrap();
    let claims = verified_claims(&server.url, tokens["id_token"].as_str().unwrap(), &tv).await;
    assert!(claims["sub"].is_string(), "{claims}");
    server.stop().await;
}

/// A person opens a page that Apache's mod_auth_openidc protects, in
/// Chromium: Apache sends them to the sign-in page, they sign in and allow,
/// and Apache, having validated the ID token, serves the page. Fails if any
/// step of that round trip broke for a real browser (cookies across the two
/// sites, the redirects, the forms).
#[tokio::test]
async fn apache_mod_auth_openidc_signs_a_person_in_through_chromium() {
    if !browser_present() || !crate::interop::apache_present() {
        return;
    }
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    server
        .create_user("alice", "down the rabbit hole", &[])
        .await;
    let site = crate::interop::apache_site(&server).await;
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;

    browser.goto(&site.page).await.unwrap();
    wait_for_text(&browser, "to continue to Apache").await;
    fill(&browser, "#username", "alice").await;
    fill(&browser, "#password", "down the rabbit hole").await;
    click(&browser, "button[type=submit]", "Allow Apache?").await;
    click(&browser, "button[value=allow]", "the protected page").await;
    let landed = browser.current_url().await.unwrap();
    assert_eq!(landed.as_str(), site.page, "{}", site.log());
    browser.close().await.unwrap();
}

/// Opens `authorize` in Chromium, signs in as `username` and allows the
/// consent page; returns the URL the browser lands on (the client's
/// callback, which must be a [`callback_app`]). For the interop tests, whose
/// relying parties print the URL and read the callback back.
pub(crate) async fn sign_in_in_chromium(authorize: &str, username: &str, password: &str) -> String {
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    browser.goto(authorize).await.unwrap();
    wait_for_text(&browser, "to continue to").await;
    fill(&browser, "#username", username).await;
    fill(&browser, "#password", password).await;
    click(&browser, "button[type=submit]", "Allow").await;
    click(
        &browser,
        "button[value=allow]",
        "received an authorization code",
    )
    .await;
    let landed = browser.current_url().await.unwrap().to_string();
    browser.close().await.unwrap();
    landed
}
