//! openid-client 6 (npm), the Node relying-party library most apps use, as
//! it ships: configured with the issuer, client id and secret only, it runs
//! the code flow with PKCE and a nonce through the real sign-in and consent
//! pages, validates the ID token its own way, reads userinfo, refreshes, and
//! reports a wrong client secret as `invalid_client` (read from the 401's
//! challenge, as node-oidc-provider sends it). On both backends.
//!
//! Needs Node.js and `npm install` in `tests/interop/openid-client` (which
//! `.ci/run` does). Without them the test says so and passes, unless
//! `PORTCULLIS_TEST_REQUIRE_INTEROP=1` (CI).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use portcullis_testkit::browser::Browser;
use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const RP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/openid-client");
const CALLBACK: &str = "http://127.0.0.1:43210/callback";

fn library_present() -> bool {
    let present = Path::new(RP).join("node_modules/openid-client").is_dir()
        && std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success());
    if !present {
        let required =
            std::env::var_os("PORTCULLIS_TEST_REQUIRE_INTEROP").is_some_and(|v| v == "1");
        assert!(
            !required,
            "PORTCULLIS_TEST_REQUIRE_INTEROP=1 but node or {RP}/node_modules is missing (npm install there)"
        );
        eprintln!("SKIPPED: openid-client is not installed (cd {RP} && npm install)");
    }
    present
}

/// Fails if openid-client refuses anything Portcullis answers (discovery,
/// the authorization response, the ID token, userinfo, the refresh), or if a
/// wrong secret reached it without its `invalid_client` code.
#[tokio::test]
async fn openid_client_signs_in_reads_userinfo_refreshes_and_names_a_wrong_secret() {
    if !library_present() {
        return;
    }
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
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
                "Node app",
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
        let mut rp = Command::new("node")
            .arg("rp.mjs")
            .args([server.url.as_str(), &id, &secret, CALLBACK])
            .current_dir(RP)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run node");
        let mut lines = BufReader::new(rp.stdout.take().unwrap()).lines();
        let next = async |lines: &mut tokio::io::Lines<_>| {
            tokio::time::timeout(Duration::from_secs(60), lines.next_line())
                .await
                .expect("openid-client answers")
                .unwrap()
        };
        let Some(authorize) = next(&mut lines).await else {
            let out = rp.wait_with_output().await.unwrap();
            panic!(
                "{kind:?}: openid-client stopped: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        assert!(
            authorize.starts_with(&format!("{}/authorize?", server.url)),
            "{authorize}"
        );
        let mut browser = Browser::new();
        let callback = browser
            .authorize(&authorize, "alice", "down the rabbit hole")
            .await;
        assert!(callback.starts_with(CALLBACK), "{callback}");
        let mut stdin = rp.stdin.take().unwrap();
        stdin
            .write_all(format!("{callback}\n").as_bytes())
            .await
            .unwrap();
        drop(stdin);
        let Some(report) = next(&mut lines).await else {
            let out = rp.wait_with_output().await.unwrap();
            panic!(
                "{kind:?}: openid-client refused: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let report: Value = serde_json::from_str(&report).unwrap();
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
        assert!(rp.wait().await.unwrap().success());
        server.stop().await;
    }
}
