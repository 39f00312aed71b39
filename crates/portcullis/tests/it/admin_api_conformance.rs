//! The admin API held to its own OpenAPI document by schemathesis (from
//! PyPI), an independent client generating requests from the document: on
//! both backends, no 5xx, no status the document does not list, no response
//! off its schema, no schema-violating request accepted, and no schema-valid
//! one refused (but for the one allowance written, with its reason, in
//! `tests/schemathesis.toml`). Bounded: a fixed seed and number of examples.
//!
//! Needs `schemathesis` on the PATH (`pip install schemathesis`, which
//! `.ci/run` does). Without it the test says so and passes, unless
//! `PORTCULLIS_TEST_REQUIRE_SCHEMATHESIS=1` (CI).

use std::time::Duration;

use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use serde_json::Value;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");

async fn schemathesis_present() -> bool {
    let present = Command::new("schemathesis")
        .arg("--version")
        .output()
        .await
        .is_ok_and(|out| out.status.success());
    if !present {
        let required =
            std::env::var_os("PORTCULLIS_TEST_REQUIRE_SCHEMATHESIS").is_some_and(|v| v == "1");
        assert!(
            !required,
            "PORTCULLIS_TEST_REQUIRE_SCHEMATHESIS=1 but schemathesis is not on the PATH \
             (pip install schemathesis)"
        );
        eprintln!("SKIPPED: schemathesis is not installed (pip install schemathesis)");
    }
    present
}

/// Fails on any 5xx, undocumented status, response off its schema, or
/// request the document and the server judge differently, as schemathesis
/// reports them (the report is printed).
#[tokio::test]
async fn schemathesis_finds_the_admin_api_true_to_its_document() {
    if !schemathesis_present().await {
        return;
    }
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        // Generated passwords are random text: with the estimator off they
        // create users, so the user operations are exercised past creation.
        let server =
            TestServer::spawn(BIN.as_ref(), &db, &[("PORTCULLIS_PASSWORD_MIN_SCORE", "0")]).await;
        let created: Value = serde_json::from_str(
            &server
                .cli_ok(&["admin-client", "create", "--json"], "")
                .await,
        )
        .unwrap();
        let tokens: Value = reqwest::Client::new()
            .post(format!("{}/token", server.url))
            .basic_auth(
                created["client_id"].as_str().unwrap(),
                created["client_secret"].as_str(),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bearer = format!(
            "Authorization: Bearer {}",
            tokens["access_token"].as_str().unwrap()
        );
        let run = Command::new("schemathesis")
            .args(["--config-file", CONFIG, "run"])
            .arg(format!("{}/admin/v1/openapi.json", server.url))
            .args(["--header", &bearer])
            .args(["--checks", "all", "--max-examples", "40", "--seed", "1"])
            // One worker: this Python's parser is not safe across threads.
            .args(["--workers", "1", "--no-color"])
            // Its cache of findings lives with the test's database, not in the tree.
            .current_dir(db.dir.path())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(600), run)
            .await
            .expect("schemathesis finishes")
            .expect("schemathesis runs");
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{kind:?}: schemathesis found problems:\n{report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Every operation of the document was tried.
        let operations = report
            .lines()
            .find_map(|line| line.trim().strip_prefix("Operations:"))
            .map(|counts| counts.split_whitespace().collect::<Vec<_>>());
        assert!(
            matches!(operations.as_deref(), Some([n, "selected", "/", m, "total"]) if n == m && *n != "0"),
            "{report}"
        );
        server.stop().await;
    }
}
