//! Registering clients for people: public and confidential clients with
//! redirect URIs, the grants RFC 9700 discourages behind a warning, and every
//! contradictory registration refused, on both backends.

use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

#[tokio::test]
async fn public_and_confidential_clients_for_sign_in() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;

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
                "https://spa.example/callback",
                "--redirect-uri",
                "http://127.0.0.1/callback",
                "--post-logout-redirect-uri",
                "https://spa.example/",
                "--scope",
                "openid profile email offline_access",
                "--json",
            ])
            .await;
        assert!(ok, "{kind:?}: {stderr}");
        let spa: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(spa["client_type"], "public");
        assert_eq!(spa["token_endpoint_auth_method"], "none");
        assert_eq!(
            spa.get("client_secret"),
            None,
            "a public client has no secret"
        );
        assert_eq!(
            spa["redirect_uris"],
            serde_json::json!(["https://spa.example/callback", "http://127.0.0.1/callback"])
        );
        assert_eq!(
            spa["post_logout_redirect_uris"],
            serde_json::json!(["https://spa.example/"])
        );
        let spa_id = spa["client_id"].as_str().unwrap();

        let (ok, stdout, _) = server.cli(&["client", "show", spa_id]).await;
        assert!(ok);
        assert!(stdout.contains("type:          public"), "{stdout}");
        assert!(stdout.contains("https://spa.example/callback http://127.0.0.1/callback"));

        let (ok, _, stderr) = server.cli(&["client", "rotate-secret", spa_id]).await;
        assert!(!ok);
        assert!(stderr.contains("is public: it has no secret"), "{stderr}");

        // A public client cannot authenticate at the token endpoint with a secret it lacks.
        let response = reqwest::Client::new()
            .post(format!("{}/token", server.url))
            .basic_auth(spa_id, Some(""))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);

        let (ok, stdout, stderr) = server
            .cli(&[
                "client",
                "create",
                "--name",
                "Courses web",
                "--grant-type",
                "authorization_code",
                "--redirect-uri",
                "https://courses.example/oidc/callback",
                "--json",
            ])
            .await;
        assert!(ok, "{stderr}");
        let web: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(web["client_type"], "confidential");
        assert!(web["client_secret"].as_str().unwrap().len() >= 32);
        server.stop().await;
    }
}

#[tokio::test]
async fn discouraged_grants_warn_and_contradictions_are_refused() {
    let db = TestDatabase::new(portcullis_testkit::StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;

    let (ok, _, stderr) = server
        .cli(&[
            "client",
            "create",
            "--name",
            "legacy",
            "--grant-type",
            "password",
        ])
        .await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("warning: the password grant"), "{stderr}");
    let (ok, _, stderr) = server
        .cli(&[
            "client",
            "create",
            "--name",
            "old SPA",
            "--public",
            "--grant-type",
            "implicit",
            "--redirect-uri",
            "https://old.example/cb",
        ])
        .await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("warning: the implicit grant"), "{stderr}");

    type Case<'a> = (Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--grant-type", "authorization_code"],
            "need at least one redirect URI",
        ),
        (
            vec![
                "--grant-type",
                "authorization_code",
                "--redirect-uri",
                "http://app.example/cb",
            ],
            "use https",
        ),
        (
            vec![
                "--grant-type",
                "authorization_code",
                "--redirect-uri",
                "https://app.example/cb#x",
            ],
            "has a fragment",
        ),
        (
            vec![
                "--grant-type",
                "authorization_code",
                "--redirect-uri",
                "https://*.app.example/cb",
            ],
            "wildcard",
        ),
        (
            vec!["--public", "--grant-type", "client_credentials"],
            "cannot use client_credentials",
        ),
        (
            vec!["--grant-type", "refresh_token"],
            "refresh_token needs authorization_code, password, the device grant or token exchange",
        ),
        (
            vec![
                "--grant-type",
                "client_credentials",
                "--redirect-uri",
                "https://app.example/cb",
            ],
            "redirect URIs are only for clients with authorization_code or implicit",
        ),
        (
            vec!["--grant-type", "magic"],
            "unsupported grant type `magic`",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["client", "create", "--name", "bad"];
        args.extend(&extra);
        let (ok, stdout, stderr) = server.cli(&args).await;
        assert!(!ok, "{extra:?}");
        assert_eq!(stdout, "");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    // An id that starts with a hyphen is an id, not an option.
    let (ok, _, stderr) = server.cli(&["client", "show", "-Xyz"]).await;
    assert!(!ok);
    assert!(stderr.contains("no client with id `-Xyz`"), "{stderr}");

    let (_, stdout, _) = server.cli(&["client", "list", "--json"]).await;
    let list: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "nothing refused was stored"
    );

    // Discovery lists exactly the grants the token endpoint serves.
    let discovery: Value = reqwest::get(format!("{}/.well-known/openid-configuration", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "password",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "implicit"
        ])
    );
    server.stop().await;
}
