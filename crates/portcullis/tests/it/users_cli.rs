//! `portcullis user ...` as an administrator runs it, on both backends:
//! passwords only through standard input, stored only as Argon2id hashes.

use std::io::Write as _;
use std::process::{Command, Stdio};

use portcullis_core::password::Password;
use portcullis_testkit::{TestDatabase, store_kinds};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// Runs the CLI on `db` with `stdin`; returns (exit code, stdout, stderr).
fn cli(db: &TestDatabase, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("PORTCULLIS_DATA_DIR", db.dir.path())
        .env("PORTCULLIS_DATABASE_URL", &db.url)
        .env("PORTCULLIS_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn an_administrator_manages_users_from_the_command_line() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let (code, stdout, stderr) = cli(
            &db,
            &[
                "user",
                "create",
                "--username",
                "Alice",
                "--email",
                "alice@example.com",
                "--name",
                "Alice Liddell",
                "--password-stdin",
                "--json",
            ],
            "down the rabbit hole\n",
        );
        assert_eq!(code, 0, "{kind:?}: {stderr}");
        let created: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(created["username"], "Alice");
        assert_eq!(created["email"], "alice@example.com");
        assert_eq!(created["status"], "active");
        let sub = created["sub"].as_str().unwrap().to_owned();
        assert!(!stdout.contains("argon2"), "no hash is printed");

        // The stored hash is Argon2id with OWASP's parameters, and only the hash.
        let store = portcullis_store::connect(&db.url).await.unwrap();
        let stored = store.user_by_username("alice").await.unwrap().unwrap();
        assert!(
            stored
                .password_hash
                .as_str()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        assert!(!stored.password_hash.as_str().contains("rabbit"));
        assert!(
            stored
                .password_hash
                .verify(&Password::presented("down the rabbit hole"))
        );

        // Usernames are unique regardless of case.
        let (code, _, stderr) = cli(
            &db,
            &["user", "create", "--username", "ALICE", "--password-stdin"],
            "another password\n",
        );
        assert_eq!(code, 1);
        assert_eq!(stderr.trim(), "portcullis: the username `ALICE` is taken");

        let (code, stdout, _) = cli(&db, &["user", "list", "--json"], "");
        assert_eq!(code, 0);
        let list: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["sub"], sub.as_str());

        // A new password replaces the old one.
        let (code, _, stderr) = cli(
            &db,
            &["user", "set-password", "alice", "--password-stdin"],
            "through the looking glass\n",
        );
        assert_eq!(code, 0, "{stderr}");
        let stored = store.user_by_username("alice").await.unwrap().unwrap();
        assert!(
            stored
                .password_hash
                .verify(&Password::presented("through the looking glass"))
        );
        assert!(
            !stored
                .password_hash
                .verify(&Password::presented("down the rabbit hole"))
        );

        let (code, _, _) = cli(&db, &["user", "disable", "alice"], "");
        assert_eq!(code, 0);
        let (_, stdout, _) = cli(&db, &["user", "show", "Alice", "--json"], "");
        let shown: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(shown["status"], "disabled");
        assert_eq!(shown["sub"], sub.as_str(), "the sub never changes");

        let (code, _, _) = cli(&db, &["user", "delete", "alice"], "");
        assert_eq!(code, 0);
        let (code, _, stderr) = cli(&db, &["user", "show", "alice"], "");
        assert_eq!(code, 1);
        assert_eq!(stderr.trim(), "portcullis: no user `alice`");
    }
}

#[tokio::test]
async fn bad_input_is_refused_with_one_clear_line_and_nothing_stored() {
    let db = TestDatabase::new(portcullis_testkit::StoreKind::Sqlite).await;
    type Case<'a> = (Vec<&'a str>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--username", "bob"],
            "short\n",
            "at least 8 characters",
        ),
        (
            vec!["--username", "bob"],
            "",
            "no password on standard input",
        ),
        (
            vec!["--username", "bob"],
            "bob the builder\n",
            "the password must not be or contain the username",
        ),
        (
            vec!["--username", "bob"],
            "iloveyou\n",
            "the password is too easy to guess",
        ),
        (
            vec!["--username", "bob smith"],
            "long enough pw\n",
            "a username has 1 to 64 characters",
        ),
        (
            vec!["--username", "bob", "--email", "bob"],
            "long enough pw\n",
            "not of the form name@domain",
        ),
    ];
    for (extra, stdin, message) in cases {
        let mut args = vec!["user", "create", "--password-stdin"];
        args.extend(&extra);
        let (code, stdout, stderr) = cli(&db, &args, stdin);
        assert_eq!(code, 1, "{extra:?}: {stderr}");
        assert_eq!(stdout, "");
        assert!(
            stderr.starts_with("portcullis: ") && stderr.contains(message),
            "{extra:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    // There is no way to pass a password on the command line.
    let (code, _, stderr) = cli(
        &db,
        &["user", "create", "--username", "bob", "--password", "x"],
        "",
    );
    assert_eq!(code, 2, "{stderr}");
    let (code, _, _) = cli(
        &db,
        &["user", "create", "--username", "bob"],
        "a good password\n",
    );
    assert_eq!(code, 2, "--password-stdin is required");

    let (_, stdout, _) = cli(&db, &["user", "list", "--json"], "");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap(),
        serde_json::json!([])
    );
}

#[tokio::test]
async fn an_administrator_signs_a_user_out_and_withdraws_grants() {
    use portcullis_testkit::browser::Browser;
    const CALLBACK: &str = "http://127.0.0.1:43210/callback";
    let db = TestDatabase::new(portcullis_testkit::StoreKind::Sqlite).await;
    let server = portcullis_testkit::TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    server
        .create_user("alice", "down the rabbit hole", &[])
        .await;
    let (client, _) = server
        .create_client(&[
            "--name",
            "Web",
            "--public",
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            CALLBACK,
            "--scope",
            "openid",
        ])
        .await;
    let authorize = format!(
        "{}/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        server.url,
        form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
    );
    let mut browser = Browser::new();
    browser
        .authorize(&authorize, "alice", "down the rabbit hole")
        .await;

    let listed = server.cli_ok(&["user", "grants", "alice"], "").await;
    assert!(listed.contains(&client), "{listed}");
    server
        .cli_ok(&["user", "grants", "ALICE", "--revoke", &client], "")
        .await;
    assert!(
        !server
            .cli_ok(&["user", "grants", "alice"], "")
            .await
            .contains(&client)
    );
    let (ok, _, err) = server
        .cli(&["user", "grants", "alice", "--revoke", &client])
        .await;
    assert!(!ok && err.contains("has not allowed"), "{err}");
    let (_, _, page) = browser.get(&authorize).await;
    assert!(page.contains("Allow"), "consent is asked again");

    server.cli_ok(&["user", "sign-out", "alice"], "").await;
    let (_, _, page) = browser.get(&authorize).await;
    assert!(page.contains("name=\"password\""), "signed out: {page}");
    server.stop().await;
}

/// Runs the CLI on `db` with only `env` besides the database; returns
/// (exit code, stdout, stderr).
fn cli_env(db: &TestDatabase, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("PORTCULLIS_DATA_DIR", db.dir.path())
        .env("PORTCULLIS_DATABASE_URL", &db.url)
        .env_remove("PORTCULLIS_LOG")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Fails if a command printed log lines (PostgreSQL's notices, colour
/// codes) around its output, or if an unknown `PORTCULLIS_*` variable, as
/// deploy scripts set them, stopped it instead of being named once.
#[tokio::test]
async fn commands_print_their_output_and_one_warning_for_a_stranger_variable() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        // Twice: the second run meets migrations already applied, where
        // PostgreSQL says "already exists, skipping".
        for _ in 0..2 {
            let (code, stdout, stderr) = cli_env(&db, &[], &["user", "list", "--json"]);
            assert_eq!(code, 0, "{stderr}");
            assert_eq!(stdout.trim(), "[]");
            assert_eq!(stderr, "", "{kind:?}: nothing but the output");
        }
        let (code, stdout, stderr) = cli_env(
            &db,
            &[
                ("PORTCULLIS_BIN", "/opt/portcullis"),
                ("PORTCULLIS_ISUER", "x"),
            ],
            &["user", "list", "--json"],
        );
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout.trim(), "[]");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("WARN")
                && stderr
                    .contains("PORTCULLIS_BIN, PORTCULLIS_ISUER (did you mean PORTCULLIS_ISSUER?)"),
            "{stderr}"
        );
        assert!(
            !stderr.contains('\u{1b}'),
            "no colour into a pipe: {stderr:?}"
        );
        // An unknown key in a configuration file stays an error.
        let file = db.dir.path().join("portcullis.toml");
        std::fs::write(&file, "bin = \"/opt/portcullis\"\n").unwrap();
        let (code, stdout, stderr) = cli_env(
            &db,
            &[("PORTCULLIS_CONFIG", file.to_str().unwrap())],
            &["user", "list"],
        );
        assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
        assert!(
            stderr.contains("unknown field") && stderr.contains("bin"),
            "{stderr}"
        );
    }
}
