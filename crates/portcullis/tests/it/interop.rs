//! Relying-party libraries as they ship, from the registries, each
//! configured with the issuer, client id and secret only, running the code
//! flow through the real sign-in and consent pages (in Chromium, which CI
//! requires; with the testkit's cookie-keeping browser where Chromium is not
//! installed) and then doing what the
//! library does with the tokens (ID token validation, userinfo, refresh):
//! openid-client 6 (npm), pyoidc (`oic`) and requests-oauthlib (PyPI), and
//! Apache's mod_auth_openidc (Debian) in its default configuration. The
//! `openidconnect` crate has its own module. On both backends.
//!
//! Each library runs as a small program in `tests/interop/` that prints the
//! authorization URL, reads the callback URL on standard input, and prints
//! one JSON report. Needs Node.js with `npm ci` in
//! `tests/interop/openid-client`, Python with `oic` and `requests-oauthlib`,
//! and Debian's `apache2` and `libapache2-mod-auth-openidc` (all of which
//! `.ci/run` installs). Without them a test
//! says so and passes, unless `PORTCULLIS_TEST_REQUIRE_INTEROP=1` (CI).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use portcullis_testkit::browser::Browser;
use portcullis_testkit::{StoreKind, TestDatabase, TestServer, store_kinds};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop");
const CALLBACK: &str = "http://127.0.0.1:43210/callback";

/// Whether `program args`, run in `tests/interop/dir`, succeeds (the library
/// loads); if not, the test is skipped, or fails when interop is required.
fn present(what: &str, dir: &str, program: &str, args: &[&str]) -> bool {
    let present = std::process::Command::new(program)
        .args(args)
        .current_dir(Path::new(INTEROP).join(dir))
        .output()
        .is_ok_and(|out| out.status.success());
    if !present {
        let required =
            std::env::var_os("PORTCULLIS_TEST_REQUIRE_INTEROP").is_some_and(|v| v == "1");
        assert!(
            !required,
            "PORTCULLIS_TEST_REQUIRE_INTEROP=1 but {what} is not installed (see .ci/run)"
        );
        eprintln!("SKIPPED: {what} is not installed (see .ci/run)");
    }
    present
}

/// A server with alice and a confidential client for the code flow with
/// refresh tokens, redirecting to `callback`; returns it with the client's
/// id and secret.
async fn server_for_a_relying_party(
    db: &TestDatabase,
    callback: &str,
) -> (TestServer, String, String) {
    let server = TestServer::spawn(BIN.as_ref(), db, &[]).await;
    server
        .create_user(
            "alice",
            "down the rabbit hole",
            &["--email", "alice@example.com", "--name", "Alice Liddell"],
        )
        .await;
    let (id, secret) = server
        .create_client(&[
            "--name",
            "An app",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--redirect-uri",
            callback,
            "--scope",
            "openid profile email offline_access",
        ])
        .await;
    (server, id, secret)
}

/// Where a relying party's browser returns: an app page when Chromium
/// drives the sign-in (it must load something), else a fixed address.
pub(crate) async fn callback() -> String {
    if crate::real_browser::browser_present() {
        crate::real_browser::callback_app().await
    } else {
        CALLBACK.to_owned()
    }
}

/// Plays the person at `authorize`: signs alice in and allows, in Chromium
/// when it is installed (else the cookie-keeping browser); returns where the
/// browser landed, which must be `callback`.
pub(crate) async fn person_allows(authorize: &str, callback: &str) -> String {
    let landed = if crate::real_browser::browser_present() {
        crate::real_browser::sign_in_in_chromium(authorize, "alice", "down the rabbit hole").await
    } else {
        Browser::new()
            .authorize(authorize, "alice", "down the rabbit hole")
            .await
    };
    assert!(landed.starts_with(callback), "{landed}");
    landed
}

/// Runs the relying party `program script` (in `tests/interop/dir`) against
/// `server`: signs alice in at the URL it prints (in Chromium when it is
/// installed, else with the testkit's cookie-keeping browser), hands it the
/// callback, and returns its report.
async fn run_relying_party(
    kind: StoreKind,
    server: &TestServer,
    client: (&str, &str),
    callback: &str,
    (dir, program, script): (&str, &str, &str),
) -> Value {
    let mut rp = Command::new(program)
        .arg(script)
        .args([server.url.as_str(), client.0, client.1, callback])
        .current_dir(Path::new(INTEROP).join(dir))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run the relying party");
    let mut lines = BufReader::new(rp.stdout.take().unwrap()).lines();
    let authorize = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the relying party prints its authorization URL")
        .unwrap();
    let Some(authorize) = authorize else {
        let out = rp.wait_with_output().await.unwrap();
        panic!(
            "{kind:?} {script} stopped: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    assert!(
        authorize.starts_with(&format!("{}/authorize?", server.url)),
        "{authorize}"
    );
    let callback = person_allows(&authorize, callback).await;
    let mut stdin = rp.stdin.take().unwrap();
    stdin
        .write_all(format!("{callback}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let report = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the relying party reports")
        .unwrap();
    let out = rp.wait_with_output().await.unwrap();
    let Some(report) = report.filter(|_| out.status.success()) else {
        panic!(
            "{kind:?} {script} refused: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    serde_json::from_str(&report).unwrap()
}

/// The report of the relying party `program` (see [`run_relying_party`])
/// against a fresh server on each backend: `(issuer, client id, report)`.
async fn reports_of(program: (&str, &str, &str)) -> Vec<(String, String, Value)> {
    let mut reports = Vec::new();
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let callback = callback().await;
        let (server, id, secret) = server_for_a_relying_party(&db, &callback).await;
        let report = run_relying_party(kind, &server, (&id, &secret), &callback, program).await;
        reports.push((server.url.clone(), id, report));
        server.stop().await;
    }
    reports
}

/// Fails if openid-client refuses anything Portcullis answers (discovery,
/// the authorization response, the ID token, userinfo, the refresh), or if a
/// wrong secret reached it without its `invalid_client` code, which it reads
/// from the 401's challenge as node-oidc-provider sends it.
#[tokio::test]
async fn openid_client_signs_in_reads_userinfo_refreshes_and_names_a_wrong_secret() {
    let load = ["--input-type=module", "-e", "await import('openid-client')"];
    if !present("openid-client (npm ci)", "openid-client", "node", &load) {
        return;
    }
    for (issuer, id, report) in reports_of(("openid-client", "node", "rp.mjs")).await {
        assert_eq!(report["claims"]["iss"], issuer.as_str(), "{report}");
        assert_eq!(report["claims"]["aud"], id.as_str());
        let sub = report["claims"]["sub"].as_str().unwrap();
        assert_eq!(report["userinfo"]["sub"], sub);
        assert_eq!(report["userinfo"]["email"], "alice@example.com");
        assert_eq!(report["userinfo"]["name"], "Alice Liddell");
        assert_eq!(report["refreshed"]["has_access_token"], true);
        assert_eq!(report["refreshed"]["rotated"], true);
        assert_eq!(
            report["wrong_secret"]["error"], "invalid_client",
            "{report}"
        );
    }
}

/// Fails if openid-client cannot run the device grant against Portcullis
/// (discovery's device endpoint, the polling with `interval` and
/// `slow_down`, the ID token it validates) or cannot exchange the device's
/// access token with `genericGrantRequest` (RFC 8693's response fields).
#[tokio::test]
async fn openid_client_signs_a_device_in_and_exchanges_its_token() {
    use base64::Engine as _;
    let load = ["--input-type=module", "-e", "await import('openid-client')"];
    if !present("openid-client (npm ci)", "openid-client", "node", &load) {
        return;
    }
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(
            BIN.as_ref(),
            &db,
            &[("PORTCULLIS_DEVICE_POLL_INTERVAL", "1")],
        )
        .await;
        server
            .create_user("alice", "down the rabbit hole", &[])
            .await;
        let (tv, _) = server
            .create_client(&[
                "--name",
                "TV",
                "--public",
                "--grant-type",
                "device_code",
                "--grant-type",
                "refresh_token",
                "--scope",
                "openid offline_access",
                "--audience",
                "https://courses.example/api",
            ])
            .await;
        let (exchanger, secret) = server
            .create_client(&[
                "--name",
                "Courses API",
                "--grant-type",
                "token_exchange",
                "--grant-type",
                "client_credentials",
                "--scope",
                "openid",
                "--audience",
                "https://billing.example/api",
            ])
            .await;
        let mut program = Command::new("node")
            .arg("device.mjs")
            .args([&server.url, &tv, &exchanger, &secret])
            .arg("https://billing.example/api")
            .current_dir(Path::new(INTEROP).join("openid-client"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(program.stdout.take().unwrap()).lines();
        let complete = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("device.mjs prints its verification URI")
            .unwrap()
            .unwrap_or_default();
        assert!(
            complete.starts_with(&format!("{}/device?user_code=", server.url)),
            "{kind:?}: {complete}"
        );
        let (status, page) = Browser::new()
            .decide_device(&complete, "alice", "down the rabbit hole", "allow")
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{page}");
        let report = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("device.mjs reports")
            .unwrap();
        let out = program.wait_with_output().await.unwrap();
        let Some(report) = report.filter(|_| out.status.success()) else {
            panic!(
                "{kind:?} device.mjs refused: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let report: Value = serde_json::from_str(&report).unwrap();
        assert_eq!(report["claims"]["iss"], server.url.as_str(), "{report}");
        assert_eq!(report["claims"]["aud"], tv.as_str());
        assert_eq!(report["refresh_token"], true);
        let exchanged = &report["exchanged"];
        assert_eq!(
            exchanged["issued_token_type"],
            "urn:ietf:params:oauth:token-type:access_token"
        );
        assert_eq!(exchanged["token_type"], "bearer", "{report}");
        let payload = exchanged["access_token"]
            .as_str()
            .and_then(|t| t.split('.').nth(1))
            .unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["sub"], report["claims"]["sub"]);
        assert_eq!(claims["act"]["sub"], exchanger.as_str());
        assert_eq!(claims["aud"], "https://billing.example/api");
        server.stop().await;
    }
}

/// Fails if pyoidc with its defaults could not sign in: it sends no PKCE
/// (a confidential client's OpenID Connect request with a nonce needs none)
/// and asks userinfo by POST with the token in the form body (RFC 6750 2.2).
#[tokio::test]
async fn pyoidc_with_its_defaults_signs_in_reads_userinfo_by_post_and_refreshes() {
    if !present(
        "pyoidc (pip install oic)",
        "python",
        "python3",
        &["-c", "import oic"],
    ) {
        return;
    }
    for (issuer, _, report) in reports_of(("python", "python3", "rp_pyoidc.py")).await {
        assert_eq!(report["claims"]["iss"], issuer.as_str(), "{report}");
        let sub = report["claims"]["sub"].as_str().unwrap();
        assert_eq!(report["userinfo"]["sub"], sub);
        assert_eq!(report["userinfo"]["email"], "alice@example.com");
        assert_eq!(report["refreshed"]["has_access_token"], true);
    }
}

/// Fails if requests-oauthlib's code flow with PKCE, token fetch with the
/// secret, bearer userinfo call or refresh were refused.
#[tokio::test]
async fn requests_oauthlib_fetches_a_token_calls_userinfo_and_refreshes() {
    if !present(
        "requests-oauthlib (pip install requests-oauthlib)",
        "python",
        "python3",
        &["-c", "import requests_oauthlib"],
    ) {
        return;
    }
    for (_, _, report) in reports_of(("python", "python3", "rp_requests_oauthlib.py")).await {
        assert_eq!(report["token_type"], "Bearer", "{report}");
        assert_eq!(report["has_id_token"], true);
        assert_eq!(report["userinfo_status"], 200);
        assert_eq!(report["userinfo"]["email"], "alice@example.com");
        assert_eq!(report["refreshed"]["rotated"], true);
    }
}

const APACHE: &str = "/usr/sbin/apache2";
const APACHE_MODULES: &str = "/usr/lib/apache2/modules";

/// An Apache httpd in the foreground, stopped (SIGTERM, so its workers go
/// too) when dropped.
struct Apache {
    child: std::process::Child,
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Fails if Apache's mod_auth_openidc (Debian's package), configured with
/// nothing but the provider metadata URL, client id and secret (its default:
/// no PKCE, a nonce, `client_secret_basic`), could not sign a user in: it
/// must validate the ID token and fetch userinfo, then serve the protected
/// page. As a resource server it must let a live token through and refuse a
/// revoked one, by introspection.
#[tokio::test]
async fn apache_mod_auth_openidc_signs_a_user_in_and_guards_an_api_by_introspection() {
    if !apache_present() {
        return;
    }
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
        server
            .create_user(
                "alice",
                "down the rabbit hole",
                &["--email", "alice@example.com"],
            )
            .await;
        let site = apache_site(&server).await;
        let (svc_id, svc_secret) = server
            .create_client(&[
                "--name",
                "svc",
                "--grant-type",
                "client_credentials",
                "--scope",
                "read",
            ])
            .await;
        let (page, redirect, id) = (&site.page, &site.redirect, &site.client_id);
        let log = || site.log();
        let mut browser = Browser::new();
        // The browser meets Apache first (its state cookie), then our pages.
        let (status, headers, _) = browser.get(page).await;
        assert_eq!(status, reqwest::StatusCode::FOUND);
        let authorize = headers["location"].to_str().unwrap().to_owned();
        assert!(
            authorize.starts_with(&format!("{}/authorize?", server.url)),
            "{authorize}"
        );
        assert!(
            !authorize.contains("code_challenge"),
            "its default sends no PKCE: {authorize}"
        );
        let callback = browser
            .authorize(&authorize, "alice", "down the rabbit hole")
            .await;
        assert!(callback.starts_with(redirect.as_str()), "{callback}");
        let (status, headers, body) = browser.get(&callback).await;
        assert_eq!(
            status,
            reqwest::StatusCode::FOUND,
            "{kind:?}: {body}\n{}",
            log()
        );
        assert_eq!(headers["location"], page.as_str());
        let (status, _, body) = browser.get(page).await;
        assert_eq!(
            (status, body.as_str()),
            (reqwest::StatusCode::OK, "the protected page\n")
        );
        let (status, _, info) = browser.get(&format!("{redirect}?info=json")).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{info}");
        let info: Value = serde_json::from_str(&info).unwrap();
        assert_eq!(info["id_token"]["iss"], server.url.as_str(), "{info}");
        assert_eq!(info["id_token"]["aud"], id.as_str());
        // Its default scope is `openid` alone: userinfo names the subject.
        assert_eq!(info["userinfo"]["sub"], info["id_token"]["sub"], "{info}");
        assert!(info["id_token"]["sid"].is_string(), "{info}");

        // Back-channel logout: when alice's session ends here, Apache is
        // told, validates the logout token itself, and ends its own session:
        // the page sends the browser to sign in again.
        server.cli_ok(&["user", "sign-out", "alice"], "").await;
        let mut after = reqwest::StatusCode::OK;
        for _ in 0..100 {
            after = browser.get(page).await.0;
            if after == reqwest::StatusCode::FOUND {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            after,
            reqwest::StatusCode::FOUND,
            "{kind:?}: Apache still serves the page after the logout token\n{}",
            log()
        );
        let delivered = db
            .count(&format!(
                "SELECT COUNT(*) FROM logout_notices WHERE client_id = '{id}' \
                 AND delivered_at IS NOT NULL AND attempts = 1"
            ))
            .await;
        assert_eq!(delivered, 1, "Apache took the logout token at once");
        // Sign in again for what follows.
        let (_, headers, _) = browser.get(page).await;
        let authorize = headers["location"].to_str().unwrap().to_owned();
        let callback = browser
            .authorize(&authorize, "alice", "down the rabbit hole")
            .await;
        let (status, _, body) = browser.get(&callback).await;
        assert_eq!(status, reqwest::StatusCode::FOUND, "{body}\n{}", log());

        // As an OAuth 2.0 resource server by introspection (its only way
        // without an https jwks_uri): a live token passes, no token or a
        // revoked one is refused.
        let http = reqwest::Client::new();
        let token = || {
            let (http, url) = (http.clone(), format!("{}/token", server.url));
            let (id, secret) = (svc_id.clone(), svc_secret.clone());
            async move {
                let tokens: Value = http
                    .post(url)
                    .basic_auth(id, Some(secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                tokens["access_token"].as_str().unwrap().to_owned()
            }
        };
        let api = format!("{}/api/index.html", site.site);
        let live = token().await;
        let response = http.get(&api).bearer_auth(&live).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{}", log());
        assert_eq!(response.text().await.unwrap(), "the API\n");
        let response = http.get(&api).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
        let revoked = token().await;
        let response = http
            .post(format!("{}/revoke", server.url))
            .basic_auth(&svc_id, Some(&svc_secret))
            .form(&[("token", revoked.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let response = http.get(&api).bearer_auth(&revoked).send().await.unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::UNAUTHORIZED,
            "revoked"
        );
        server.stop().await;
    }
}

/// Apache with mod_auth_openidc, in front of `server`: as an OpenID Connect
/// relying party on `/protected` (its defaults: no PKCE, a nonce, scope
/// `openid`; its back channel registered for logout tokens), as an OAuth 2.0
/// resource server by introspection on `/api`,
/// and as the TLS proxy through which it introspects (mod_auth_openidc
/// introspects over https only, so Apache fronts Portcullis with a
/// certificate it is told to trust, as a deployment's proxy does).
pub(crate) struct ApacheSite {
    /// `http://127.0.0.1:PORT`.
    pub site: String,
    /// The relying party's redirect URI.
    pub redirect: String,
    /// The protected page (`the protected page` once signed in).
    pub page: String,
    /// The relying party's client id.
    pub client_id: String,
    dir: tempfile::TempDir,
    _apache: Apache,
}

impl ApacheSite {
    /// Apache's error log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

/// Whether Apache and mod_auth_openidc are installed (skip or fail as
/// [`present`] does).
pub(crate) fn apache_present() -> bool {
    let module = Path::new(APACHE_MODULES).join("mod_auth_openidc.so");
    present(
        "Apache with mod_auth_openidc (apt-get install apache2 libapache2-mod-auth-openidc)",
        "",
        "test",
        &["-x", APACHE, "-a", "-f", module.to_str().unwrap()],
    )
}

/// Starts an [`ApacheSite`] for `server`, registering its two clients.
pub(crate) async fn apache_site(server: &TestServer) -> ApacheSite {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (port, tls_port) = (free_port(), free_port());
    let site = format!("http://127.0.0.1:{port}");
    let redirect = format!("{site}/protected/redirect_uri");
    // Its back channel: the redirect URI with `logout=backchannel`.
    let back_channel = format!("{redirect}?logout=backchannel");
    let (id, secret) = server
        .create_client(&[
            "--name",
            "Apache",
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            &redirect,
            "--scope",
            "openid profile email",
            "--backchannel-logout-uri",
            &back_channel,
        ])
        .await;
    // As a resource server it asks /introspect with its own credentials.
    let (rs_id, rs_secret) = server
        .create_client(&["--name", "Apache API", "--grant-type", "client_credentials"])
        .await;
    // Apache's workers (www-data when started as root) must read the site.
    let dir = tempfile::Builder::new().prefix("apache").tempdir().unwrap();
    let www = dir.path().join("www/protected");
    let api = dir.path().join("www/api");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&api).unwrap();
    std::fs::write(www.join("index.html"), "the protected page\n").unwrap();
    std::fs::write(api.join("index.html"), "the API\n").unwrap();
    for path in [dir.path(), &dir.path().join("www"), &www, &api] {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // mod_auth_openidc introspects over https only: Apache also fronts
    // Portcullis with TLS, as a deployment's proxy does, with a
    // certificate it is told to trust (OIDCCABundlePath).
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(dir.path().join("key.pem"))
        .arg("-out")
        .arg(dir.path().join("cert.pem"))
        .output()
        .expect("run openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let backend = server.url.trim_start_matches("http://");
    let d = dir.path().display();
    let user = if root {
        "User www-data\nGroup www-data\n"
    } else {
        ""
    };
    let config = format!(
        "ServerRoot \"{d}\"\nServerName 127.0.0.1\nListen 127.0.0.1:{port}\n\
         PidFile {d}/httpd.pid\nErrorLog {d}/error.log\nLogLevel warn\n{user}\
         LoadModule mpm_event_module {APACHE_MODULES}/mod_mpm_event.so\n\
         LoadModule authn_core_module {APACHE_MODULES}/mod_authn_core.so\n\
         LoadModule authz_core_module {APACHE_MODULES}/mod_authz_core.so\n\
         LoadModule authz_user_module {APACHE_MODULES}/mod_authz_user.so\n\
         LoadModule auth_openidc_module {APACHE_MODULES}/mod_auth_openidc.so\n\
         DocumentRoot {d}/www\n\
         OIDCProviderMetadataURL {}/.well-known/openid-configuration\n\
         OIDCClientID {id}\nOIDCClientSecret {secret}\nOIDCRedirectURI {redirect}\n\
         OIDCCryptoPassphrase a-passphrase-for-this-test-only\n\
         OIDCInfoHook iat id_token userinfo\n\
         OIDCOAuthIntrospectionEndpoint https://127.0.0.1:{tls_port}/introspect\n\
         OIDCCABundlePath {d}/cert.pem\n\
         OIDCOAuthClientID {rs_id}\nOIDCOAuthClientSecret {rs_secret}\n\
         <Location /protected>\n  AuthType openid-connect\n  Require valid-user\n</Location>\n\
         <Location /api>\n  AuthType oauth20\n  Require valid-user\n</Location>\n\
         LoadModule ssl_module {APACHE_MODULES}/mod_ssl.so\n\
         LoadModule proxy_module {APACHE_MODULES}/mod_proxy.so\n\
         LoadModule proxy_http_module {APACHE_MODULES}/mod_proxy_http.so\n\
         Listen 127.0.0.1:{tls_port}\n\
         <VirtualHost 127.0.0.1:{tls_port}>\n  SSLEngine on\n\
         \x20 SSLCertificateFile {d}/cert.pem\n  SSLCertificateKeyFile {d}/key.pem\n\
         \x20 ProxyPass / http://{backend}/\n</VirtualHost>\n",
        server.url
    );
    let conf = dir.path().join("httpd.conf");
    std::fs::write(&conf, config).unwrap();
    let apache = Apache {
        child: std::process::Command::new(APACHE)
            .args(["-f", conf.to_str().unwrap(), "-DFOREGROUND"])
            .spawn()
            .expect("start apache"),
    };
    let page = format!("{site}/protected/index.html");
    let mut first = None;
    for _ in 0..100 {
        if let Ok(response) = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(&page)
            .send()
            .await
        {
            first = Some(response.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(first, Some(reqwest::StatusCode::FOUND), "Apache answers");
    ApacheSite {
        site,
        redirect,
        page,
        client_id: id,
        dir,
        _apache: apache,
    }
}
