//! The rules that must hold once, under parallel requests, crashes and
//! database failures, through real HTTP on both backends: a code is redeemed
//! once, a refresh token rotates once and its replay ends the family (with
//! successors stored concurrently), a refused or failed request spends
//! nothing, and every token of a dead family, client or grant is dead at
//! `/userinfo` and `/introspect`.

use portcullis_testkit::browser::{Browser, PKCE_VERIFIER, authorize_url};
use portcullis_testkit::cluster::PrivateCluster;
use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const PASSWORD: &str = "correct horse battery";
const CALLBACK: &str = "http://127.0.0.1:43210/callback";
/// Rounds of each race: with two requests at once the losing interleaving
/// showed in most rounds before rotation was one transaction.
const ROUNDS: usize = 12;

struct Fixture {
    server: TestServer,
    /// A confidential client with the password and refresh grants.
    app: (String, String),
    /// A public client for the code flow.
    spa: String,
    /// Another confidential client, to introspect with.
    other: (String, String),
}

async fn fixture(db: &TestDatabase, settings: &[(&str, &str)]) -> Fixture {
    let server = TestServer::spawn(BIN.as_ref(), db, settings).await;
    server.create_user("hesam", PASSWORD, &[]).await;
    let grants = [
        "--grant-type",
        "password",
        "--grant-type",
        "refresh_token",
        "--scope",
        "openid profile offline_access",
        "--audience",
        "https://courses.example/api",
    ];
    let app = server
        .create_client(&[&["--name", "app"][..], &grants].concat())
        .await;
    let other = server
        .create_client(&[&["--name", "other"][..], &grants].concat())
        .await;
    let (spa, _) = server
        .create_client(&[
            "--name",
            "spa",
            "--public",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--redirect-uri",
            CALLBACK,
            "--scope",
            "openid profile offline_access",
        ])
        .await;
    Fixture {
        server,
        app,
        spa,
        other,
    }
}

async fn token(f: &Fixture, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/token", f.server.url))
        .basic_auth(&f.app.0, Some(&f.app.1))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Signs hesam in with the password grant: (access token, refresh token).
async fn sign_in(f: &Fixture, extra: &[(&str, &str)]) -> (String, String) {
    let mut form = vec![
        ("grant_type", "password"),
        ("username", "hesam"),
        ("password", PASSWORD),
        ("scope", "openid profile offline_access"),
    ];
    form.extend_from_slice(extra);
    let (status, body) = token(f, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(f: &Fixture, token_text: &str) -> (StatusCode, Value) {
    token(
        f,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", token_text),
        ],
    )
    .await
}

async fn userinfo(f: &Fixture, access: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/userinfo", f.server.url))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
}

/// What another client's introspection says of `token`: `active`.
async fn active(f: &Fixture, token_text: &str) -> bool {
    let response = reqwest::Client::new()
        .post(format!("{}/introspect", f.server.url))
        .basic_auth(&f.other.0, Some(&f.other.1))
        .form(&[("token", token_text)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["active"] == true
}

/// A code for the SPA, signed in and consented in a browser.
async fn code(f: &Fixture, browser: &mut Browser) -> String {
    let url = authorize_url(
        &f.server.url,
        &f.spa,
        CALLBACK,
        "openid profile offline_access",
        &[],
    );
    browser.authorization_code(&url, "hesam", PASSWORD).await
}

async fn redeem(f: &Fixture, code_text: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/token", f.server.url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code_text),
            ("redirect_uri", CALLBACK),
            ("client_id", &f.spa),
            ("code_verifier", PKCE_VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Fails if a refresh that lost the race to its twin still left the
/// winner's successor alive (the successor was stored after the replay's
/// revocation), or if two refreshes of one token both succeeded.
#[tokio::test]
async fn parallel_refreshes_of_one_token_leave_at_most_one_winner_and_a_dead_family() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        for round in 0..ROUNDS {
            let (_, presented) = sign_in(&f, &[]).await;
            let (a, b) = tokio::join!(refresh(&f, &presented), refresh(&f, &presented));
            let winners: Vec<&Value> = [&a, &b]
                .into_iter()
                .filter(|(status, _)| *status == StatusCode::OK)
                .map(|(_, body)| body)
                .collect();
            assert!(winners.len() <= 1, "{kind:?} round {round}: {a:?} {b:?}");
            for (status, body) in [&a, &b] {
                if *status != StatusCode::OK {
                    assert_eq!(body["error"], "invalid_grant", "{body}");
                }
            }
            // Two presentations of one token: whatever the interleaving, the
            // second is a replay, and nothing the winner got still works.
            for winner in winners {
                let successor = winner["refresh_token"].as_str().unwrap();
                let (status, body) = refresh(&f, successor).await;
                assert_eq!(
                    status,
                    StatusCode::BAD_REQUEST,
                    "{kind:?} round {round}: the winner's successor outlived the replay: {body}"
                );
                let access = winner["access_token"].as_str().unwrap();
                assert_eq!(userinfo(&f, access).await, StatusCode::UNAUTHORIZED);
                assert!(!active(&f, access).await);
            }
        }
    }
}

/// Fails if two redemptions of one code both succeeded, or if the tokens
/// of the winning redemption survived the replay.
#[tokio::test]
async fn parallel_redemptions_of_one_code_leave_at_most_one_winner_and_dead_tokens() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        let mut browser = Browser::new();
        for round in 0..ROUNDS {
            let code_text = code(&f, &mut browser).await;
            let (a, b) = tokio::join!(redeem(&f, &code_text), redeem(&f, &code_text));
            let winners: Vec<&Value> = [&a, &b]
                .into_iter()
                .filter(|(status, _)| *status == StatusCode::OK)
                .map(|(_, body)| body)
                .collect();
            assert!(winners.len() <= 1, "{kind:?} round {round}: {a:?} {b:?}");
            for winner in winners {
                let access = winner["access_token"].as_str().unwrap();
                assert_eq!(
                    userinfo(&f, access).await,
                    StatusCode::UNAUTHORIZED,
                    "{kind:?} round {round}: an access token from a replayed code still works"
                );
                assert!(!active(&f, access).await);
                let successor = winner["refresh_token"].as_str().unwrap();
                let response = reqwest::Client::new()
                    .post(format!("{}/token", f.server.url))
                    .form(&[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", successor),
                        ("client_id", &f.spa),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            }
        }
    }
}

/// Fails if a request refused before issuance (a wider scope, a wrong PKCE
/// verifier) spent the token or the code.
#[tokio::test]
async fn a_refused_request_leaves_the_refresh_token_and_the_code_usable() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        let (_, presented) = sign_in(&f, &[]).await;
        let (status, body) = token(
            &f,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &presented),
                ("scope", "openid profile offline_access email"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_scope", "{body}");
        let (status, body) = refresh(&f, &presented).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {body}");

        let mut browser = Browser::new();
        let code_text = code(&f, &mut browser).await;
        let response = reqwest::Client::new()
            .post(format!("{}/token", f.server.url))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code_text),
                ("redirect_uri", CALLBACK),
                ("client_id", &f.spa),
                (
                    "code_verifier",
                    "not-the-verifier-not-the-verifier-not-the-v",
                ),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let (status, body) = redeem(&f, &code_text).await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {body}");
    }
}

/// The SQL that makes the next insert into `table` fail, as a full disk or
/// a failing database would, half-way through a rotation or a redemption.
pub(crate) fn failing_inserts(db: &TestDatabase, table: &str) -> String {
    if db.is_postgres() {
        format!(
            "CREATE FUNCTION fail_insert() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER fail_insert BEFORE INSERT ON {table} \
             FOR EACH ROW EXECUTE FUNCTION fail_insert();"
        )
    } else {
        format!(
            "CREATE TRIGGER fail_insert BEFORE INSERT ON {table} \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        )
    }
}

pub(crate) fn healed(db: &TestDatabase, table: &str) -> String {
    if db.is_postgres() {
        format!("DROP TRIGGER fail_insert ON {table}; DROP FUNCTION fail_insert();")
    } else {
        "DROP TRIGGER fail_insert;".to_owned()
    }
}

/// Fails if the token was spent by a write that committed before the
/// successor's insert failed (two writes instead of one transaction).
#[tokio::test]
async fn a_database_failure_mid_rotation_or_redemption_leaves_the_token_usable() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        let (_, presented) = sign_in(&f, &[]).await;
        db.execute(&failing_inserts(&db, "refresh_tokens")).await;
        let (status, body) = refresh(&f, &presented).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{kind:?}: {body}");
        assert_eq!(body["error"], "temporarily_unavailable", "{body}");
        db.execute(&healed(&db, "refresh_tokens")).await;
        let (status, body) = refresh(&f, &presented).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{kind:?}: the retry after recovery: {body}"
        );

        let mut browser = Browser::new();
        let code_text = code(&f, &mut browser).await;
        db.execute(&failing_inserts(&db, "token_families")).await;
        let (status, _) = redeem(&f, &code_text).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{kind:?}");
        db.execute(&healed(&db, "token_families")).await;
        let (status, body) = redeem(&f, &code_text).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{kind:?}: the retry after recovery: {body}"
        );
    }
}

/// How a busy client's refresh loop ended.
#[derive(Debug, PartialEq)]
enum LoopEnd {
    /// The connection failed or the answer was cut off mid-way.
    CutOff,
    /// An answer without a new refresh token: its status and body.
    Refused(StatusCode, String),
}

/// A client that refreshes in a loop, as busy clients do, until a refresh
/// gives no new token: the last token it received, and how the loop ended.
fn busy_client(
    url: String,
    app: (String, String),
    mut current: String,
) -> tokio::task::JoinHandle<(String, LoopEnd)> {
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        loop {
            let sent = http
                .post(&url)
                .basic_auth(&app.0, Some(&app.1))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", current.as_str()),
                ])
                .send()
                .await;
            let Ok(response) = sent else {
                return (current, LoopEnd::CutOff);
            };
            let status = response.status();
            let Ok(body) = response.json::<Value>().await else {
                return (current, LoopEnd::CutOff);
            };
            match body["refresh_token"].as_str() {
                Some(next) => current = next.to_owned(),
                None => return (current, LoopEnd::Refused(status, body.to_string())),
            }
        }
    })
}

/// Fails if a crash between the spend and the successor's insert left a
/// family with no usable token, or if a client whose response was lost
/// could not carry on within `refresh_reuse_interval`.
#[tokio::test]
async fn kill_9_during_a_burst_of_refreshes_leaves_every_family_usable() {
    const FAMILIES: usize = 40;
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let settings = [("PORTCULLIS_REFRESH_REUSE_INTERVAL", "5m")];
        let f = fixture(&db, &settings).await;
        let mut tokens = Vec::new();
        for _ in 0..FAMILIES {
            tokens.push(sign_in(&f, &[]).await.1);
        }
        // Each family refreshes in a loop, as busy clients do, until the
        // server dies under them; each remembers the last token it received.
        let url = format!("{}/token", f.server.url);
        let burst: Vec<_> = tokens
            .iter()
            .map(|first| busy_client(url.clone(), f.app.clone(), first.clone()))
            .collect();
        // Kill once the burst is well under way (every family rotated about
        // once), however fast this machine rotates.
        let started = std::time::Instant::now();
        while db
            .count("SELECT COUNT(*) FROM refresh_tokens WHERE used_at IS NOT NULL")
            .await
            < FAMILIES as i64
        {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "{kind:?}: the burst never got going"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let Fixture {
            server,
            app,
            other,
            spa,
        } = f;
        server.stop().await;
        let mut latest = Vec::new();
        for task in burst {
            let (known, ended) = task.await.unwrap();
            // Before the kill every refresh succeeds; the kill only cuts them off.
            assert_eq!(
                ended,
                LoopEnd::CutOff,
                "{kind:?}: a refresh was refused while the server ran"
            );
            latest.push(known);
        }
        let rotations = db
            .count("SELECT COUNT(*) FROM refresh_tokens WHERE used_at IS NOT NULL")
            .await;
        assert!(
            rotations >= FAMILIES as i64,
            "{kind:?}: the burst was under way when the server was killed ({rotations} rotations)"
        );
        // No family may be live with every token of it spent.
        let stranded = db
            .count(
                "SELECT COUNT(*) FROM token_families f WHERE f.revoked_at IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM refresh_tokens t WHERE t.family = f.family \
                  AND t.used_at IS NULL AND t.revoked_at IS NULL)",
            )
            .await;
        assert_eq!(stranded, 0, "{kind:?}: families spent without a successor");
        let f = Fixture {
            server: TestServer::spawn(BIN.as_ref(), &db, &settings).await,
            app,
            other,
            spa,
        };
        for (n, known) in latest.iter().enumerate() {
            let (status, body) = refresh(&f, known).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{kind:?}: family {n} cannot carry on after the crash: {body}"
            );
        }
    }
}

/// Fails if any of the four endpoints that ask "is this token live?"
/// answers differently for a deleted client's or a revoked grant's token.
#[tokio::test]
async fn tokens_of_a_deleted_client_or_a_revoked_family_are_dead_at_userinfo_and_introspection() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;

        // Revoking the refresh token ends the access tokens issued with it.
        let (access, refresh_token) = sign_in(&f, &[]).await;
        assert_eq!(userinfo(&f, &access).await, StatusCode::OK);
        assert!(active(&f, &access).await);
        let response = reqwest::Client::new()
            .post(format!("{}/revoke", f.server.url))
            .basic_auth(&f.app.0, Some(&f.app.1))
            .form(&[("token", refresh_token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(userinfo(&f, &access).await, StatusCode::UNAUTHORIZED);
        assert!(!active(&f, &access).await);

        // Deleting the client ends its tokens everywhere at once.
        let (access, _) = sign_in(&f, &[]).await;
        assert_eq!(userinfo(&f, &access).await, StatusCode::OK);
        f.server.cli_ok(&["client", "delete", &f.app.0], "").await;
        assert_eq!(userinfo(&f, &access).await, StatusCode::UNAUTHORIZED);
        assert!(!active(&f, &access).await);
    }
}

/// Fails if `/userinfo` answers a token whose audience is another API.
#[tokio::test]
async fn userinfo_takes_only_tokens_meant_for_this_issuer() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        let (for_api, _) = sign_in(&f, &[("resource", "https://courses.example/api")]).await;
        let response = reqwest::Client::new()
            .get(format!("{}/userinfo", f.server.url))
            .bearer_auth(&for_api)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("invalid_token"), "{challenge}");
        // The API's token is still good for the API.
        assert!(active(&f, &for_api).await);
        // Without a resource, an openid token is for this issuer too.
        let (for_us, _) = sign_in(&f, &[]).await;
        assert_eq!(userinfo(&f, &for_us).await, StatusCode::OK);
    }
}

/// Fails if a refresh cut off by a database outage spent its token (the
/// retry after recovery would be refused and end the sign-in), or if any
/// refresh was refused rather than failed while the database was down.
#[tokio::test]
async fn a_postgresql_outage_during_a_burst_of_refreshes_loses_no_sign_in() {
    const FAMILIES: usize = 20;
    if std::env::var_os(portcullis_testkit::POSTGRES_ENV).is_none() {
        eprintln!("skipped: PostgreSQL is not configured for the tests");
        return;
    }
    let Some(cluster) = PrivateCluster::start() else {
        return;
    };
    let db = TestDatabase::on_postgres(&cluster.url).await;
    // The interval covers the one case a transaction cannot: a commit whose
    // answer the outage swallowed.
    let settings = [("PORTCULLIS_REFRESH_REUSE_INTERVAL", "5m")];
    let f = fixture(&db, &settings).await;
    let mut tokens = Vec::new();
    for _ in 0..FAMILIES {
        tokens.push(sign_in(&f, &[]).await.1);
    }
    let url = format!("{}/token", f.server.url);
    let burst: Vec<_> = tokens
        .iter()
        .map(|first| busy_client(url.clone(), f.app.clone(), first.clone()))
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    cluster.crash();
    let mut latest = Vec::new();
    for task in burst {
        let (known, ended) = task.await.unwrap();
        assert!(
            matches!(&ended, LoopEnd::Refused(StatusCode::SERVICE_UNAVAILABLE, _)),
            "a refresh was refused, not failed, during the outage: {ended:?}"
        );
        latest.push(known);
    }
    // While the database is down: what needs it fails fast with a 503 to
    // retry; what does not keeps answering.
    let http = reqwest::Client::new();
    for path in [
        "/jwks.json",
        "/.well-known/openid-configuration",
        "/healthz",
    ] {
        let response = http
            .get(format!("{}{path}", f.server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{path} during the outage"
        );
    }
    let response = http
        .get(format!("{}/readyz", f.server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = refresh(&f, &latest[0]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "temporarily_unavailable");
    let response = http
        .post(format!("{}/token", f.server.url))
        .basic_auth(&f.app.0, Some(&f.app.1))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &latest[0]),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "1");
    cluster.resume();
    for (n, known) in latest.iter().enumerate() {
        // The pool finds its connections dead after the restart: 503s until
        // it has new ones, then the refresh must go through.
        let mut outcome = refresh(&f, known).await;
        for _ in 0..50 {
            if outcome.0 != StatusCode::SERVICE_UNAVAILABLE {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            outcome = refresh(&f, known).await;
        }
        assert_eq!(
            outcome.0,
            StatusCode::OK,
            "family {n} was lost to the outage: {}",
            outcome.1
        );
    }
}

/// Fails if the throttle were read before the password check and counted
/// after it: then every one of the parallel guesses reaches Argon2 (and a
/// right guess among them signs in).
#[tokio::test]
async fn parallel_guesses_reach_the_password_check_at_most_the_limit() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db, &[]).await;
        // The password grant: 30 wrong passwords at once for one account.
        let guesses: Vec<_> = (0..30)
            .map(|n| {
                let (url, app) = (format!("{}/token", f.server.url), f.app.clone());
                tokio::spawn(async move {
                    let response = reqwest::Client::new()
                        .post(url)
                        .basic_auth(&app.0, Some(&app.1))
                        .form(&[
                            ("grant_type", "password"),
                            ("username", "hesam"),
                            ("password", &format!("wrong guess {n}")),
                        ])
                        .send()
                        .await
                        .unwrap();
                    let body: Value = response.json().await.unwrap();
                    body["error_description"].as_str().unwrap_or("").to_owned()
                })
            })
            .collect();
        let mut checked = 0;
        for guess in guesses {
            let description = guess.await.unwrap();
            if description.contains("not right") {
                checked += 1;
            } else {
                assert!(description.contains("too many"), "{description}");
            }
        }
        assert!(
            (1..=5).contains(&checked),
            "{kind:?}: {checked} guesses reached the check"
        );
        // The account is paused now, even for the right password.
        let (status, body) = token(
            &f,
            &[
                ("grant_type", "password"),
                ("username", "hesam"),
                ("password", PASSWORD),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{kind:?}: {body}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("too many")
        );

        // The sign-in page: 30 parallel posts for another account.
        f.server.create_user("dora", PASSWORD, &[]).await;
        let mut browser = Browser::new();
        let url = authorize_url(&f.server.url, &f.spa, CALLBACK, "openid", &[]);
        let (_, _, page) = browser.get(&url).await;
        let (csrf, request) = (
            portcullis_testkit::browser::hidden(&page, "csrf"),
            portcullis_testkit::browser::hidden(&page, "request"),
        );
        let cookie = browser.cookie_header();
        let posts: Vec<_> = (0..30)
            .map(|n| {
                let (url, csrf, request, cookie) = (
                    format!("{}/login", f.server.url),
                    csrf.clone(),
                    request.clone(),
                    cookie.clone(),
                );
                tokio::spawn(async move {
                    reqwest::Client::builder()
                        .redirect(reqwest::redirect::Policy::none())
                        .build()
                        .unwrap()
                        .post(url)
                        .header("cookie", cookie)
                        .form(&[
                            ("csrf", csrf.as_str()),
                            ("request", request.as_str()),
                            ("username", "dora"),
                            ("password", &format!("wrong guess {n}")),
                        ])
                        .send()
                        .await
                        .unwrap()
                        .status()
                })
            })
            .collect();
        let mut checked = 0;
        for post in posts {
            match post.await.unwrap() {
                StatusCode::UNAUTHORIZED => checked += 1,
                StatusCode::TOO_MANY_REQUESTS => {}
                other => panic!("{kind:?}: {other}"),
            }
        }
        assert!(
            (1..=5).contains(&checked),
            "{kind:?}: {checked} sign-in posts reached the check"
        );
    }
}

/// Fails if `/readyz` only read: a database that cannot write (a full disk,
/// a read-only replica) must take the server out of rotation.
#[tokio::test]
async fn readyz_fails_while_the_database_cannot_write() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
        let ready = || async {
            reqwest::get(format!("{}/readyz", server.url))
                .await
                .unwrap()
                .status()
        };
        assert_eq!(ready().await, StatusCode::OK, "{kind:?}");
        db.execute(&failing_inserts(&db, "store_events")).await;
        assert_eq!(ready().await, StatusCode::SERVICE_UNAVAILABLE, "{kind:?}");
        db.execute(&healed(&db, "store_events")).await;
        assert_eq!(ready().await, StatusCode::OK, "{kind:?}");
    }
}
