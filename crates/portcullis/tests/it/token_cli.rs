//! `portcullis token client-credentials`: the client side of the CLI against
//! a running server, found by discovery, with both authentication methods.

use portcullis_testkit::{StoreKind, TestDatabase, TestServer, run_cli};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const API: &str = "https://courses.example/api";

#[tokio::test]
async fn a_token_from_the_cli_verifies_against_the_issuer() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    let (id, secret) = server
        .create_client(&[
            "--name",
            "worker",
            "--grant-type",
            "client_credentials",
            "--scope",
            "courses:read courses:write",
            "--audience",
            API,
        ])
        .await;
    // Only the client's own environment: no server settings are needed.
    let env = vec![("PORTCULLIS_CLIENT_SECRET".to_owned(), secret.clone())];
    let bin = BIN.as_ref();

    for auth in ["basic", "post"] {
        let (ok, stdout, stderr) = run_cli(
            bin,
            &env,
            &[
                "token",
                "client-credentials",
                "--issuer",
                &server.url,
                "--client-id",
                &id,
                "--scope",
                "courses:read",
                "--resource",
                API,
                "--auth",
                auth,
            ],
        )
        .await;
        assert!(ok, "{auth}: {stderr}");
        let response: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(response["token_type"], "Bearer");
        assert_eq!(response["scope"], "courses:read");
        let token = response["access_token"].as_str().unwrap();

        let (ok, stdout, stderr) = run_cli(
            bin,
            &[],
            &[
                "jwt",
                "verify",
                "--issuer",
                &server.url,
                "--audience",
                API,
                token,
            ],
        )
        .await;
        assert!(ok, "{auth}: {stderr}");
        let verified: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(verified["claims"]["client_id"], id.as_str());
        assert_eq!(verified["claims"]["scope"], "courses:read");
    }

    // --raw prints the token alone, for `curl -H "Authorization: Bearer $(...)"`.
    let token_endpoint = format!("{}/token", server.url);
    let (ok, stdout, stderr) = run_cli(
        bin,
        &env,
        &[
            "token",
            "client-credentials",
            "--token-endpoint",
            &token_endpoint,
            "--client-id",
            &id,
            "--raw",
        ],
    )
    .await;
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim().split('.').count(), 3, "{stdout}");
    assert_eq!(stdout.lines().count(), 1);
    server.stop().await;
}

#[tokio::test]
async fn provider_errors_are_one_clear_line() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    let (id, secret) = server
        .create_client(&[
            "--name",
            "worker",
            "--grant-type",
            "client_credentials",
            "--scope",
            "a",
        ])
        .await;
    let bin = BIN.as_ref();
    let issuer = server.url.clone();
    let with_secret = |s: &str| vec![("PORTCULLIS_CLIENT_SECRET".to_owned(), s.to_owned())];
    type Case<'a> = (Vec<(String, String)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (with_secret("wrong"), vec![], "portcullis: invalid_client: "),
        (
            with_secret(&secret),
            vec!["--scope", "b"],
            "portcullis: invalid_scope: ",
        ),
        (vec![], vec![], "portcullis: no client secret"),
    ];
    for (env, extra, expected) in cases {
        let mut args = vec![
            "token",
            "client-credentials",
            "--issuer",
            &issuer,
            "--client-id",
            &id,
        ];
        args.extend(extra);
        let (ok, stdout, stderr) = run_cli(bin, &env, &args).await;
        assert!(!ok);
        assert_eq!(stdout, "");
        assert!(stderr.starts_with(expected), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            !stderr.contains(&secret),
            "the secret never reaches the output"
        );
    }

    // The issuer as users paste it, with a trailing slash.
    let (ok, _, stderr) = run_cli(
        bin,
        &with_secret(&secret),
        &[
            "token",
            "client-credentials",
            "--issuer",
            &format!("{issuer}/"),
            "--client-id",
            &id,
        ],
    )
    .await;
    assert!(ok, "a trailing slash is the same issuer: {stderr}");
    server.stop().await;

    // A provider that is down: a clear line, not a hang.
    let (ok, _, stderr) = run_cli(
        bin,
        &with_secret(&secret),
        &[
            "token",
            "client-credentials",
            "--issuer",
            &issuer,
            "--client-id",
            &id,
        ],
    )
    .await;
    assert!(!ok);
    assert!(
        stderr.starts_with("portcullis: no discovery document"),
        "{stderr}"
    );
}
