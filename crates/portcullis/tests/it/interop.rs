//! Relying-party libraries as they ship, from the registries, each
//! configured with the issuer, client id and secret only, running the code
//! flow through the real sign-in and consent pages and then doing what the
//! library does with the tokens (ID token validation, userinfo, refresh):
//! openid-client 6 (npm), pyoidc (`oic`) and requests-oauthlib (PyPI). The
//! `openidconnect` crate has its own module. On both backends.
//!
//! Each library runs as a small program in `tests/interop/` that prints the
//! authorization URL, reads the callback URL on standard input, and prints
//! one JSON report. Needs Node.js with `npm ci` in
//! `tests/interop/openid-client`, and Python with `oic` and
//! `requests-oauthlib` (all of which `.ci/run` installs). Without them a test
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
/// refresh tokens; returns it with the client's id and secret.
async fn server_for_a_relying_party(db: &TestDatabase) -> (TestServer, String, String) {
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
            CALLBACK,
            "--scope",
            "openid profile email offline_access",
        ])
        .await;
    (server, id, secret)
}

/// Runs the relying party `program script` (in `tests/interop/dir`) against
/// `server`: signs alice in at the URL it prints, hands it the callback,
/// and returns its report.
async fn run_relying_party(
    kind: StoreKind,
    server: &TestServer,
    client: (&str, &str),
    dir: &str,
    program: &str,
    script: &str,
) -> Value {
    let mut rp = Command::new(program)
        .arg(script)
        .args([server.url.as_str(), client.0, client.1, CALLBACK])
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
    let callback = Browser::new()
        .authorize(&authorize, "alice", "down the rabbit hole")
        .await;
    assert!(callback.starts_with(CALLBACK), "{callback}");
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
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let (server, id, secret) = server_for_a_relying_party(&db).await;
        let report = run_relying_party(
            kind,
            &server,
            (&id, &secret),
            "openid-client",
            "node",
            "rp.mjs",
        )
        .await;
        assert_eq!(report["claims"]["iss"], server.url.as_str(), "{report}");
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
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let (server, id, secret) = server_for_a_relying_party(&db).await;
        let report = run_relying_party(
            kind,
            &server,
            (&id, &secret),
            "python",
            "python3",
            "rp_pyoidc.py",
        )
        .await;
        assert_eq!(report["claims"]["iss"], server.url.as_str(), "{report}");
        let sub = report["claims"]["sub"].as_str().unwrap();
        assert_eq!(report["userinfo"]["sub"], sub);
        assert_eq!(report["userinfo"]["email"], "alice@example.com");
        assert_eq!(report["refreshed"]["has_access_token"], true);
        server.stop().await;
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
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let (server, id, secret) = server_for_a_relying_party(&db).await;
        let report = run_relying_party(
            kind,
            &server,
            (&id, &secret),
            "python",
            "python3",
            "rp_requests_oauthlib.py",
        )
        .await;
        assert_eq!(report["token_type"], "Bearer", "{report}");
        assert_eq!(report["has_id_token"], true);
        assert_eq!(report["userinfo_status"], 200);
        assert_eq!(report["userinfo"]["email"], "alice@example.com");
        assert_eq!(report["refreshed"]["rotated"], true);
        server.stop().await;
    }
}
