//! What operators watch: Prometheus metrics, request ids, JSON logs that
//! never carry a secret, and a graceful stop on SIGTERM.

use std::time::Duration;

use portcullis_testkit::{StoreKind, TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

async fn metrics(server: &TestServer) -> String {
    let response = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    response.text().await.unwrap()
}

/// The value of the sample line that starts with `series`, if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .map(|line| line[series.len()..].trim().parse().unwrap())
}

async fn token(server: &TestServer, form: &[(&str, &str)], auth: (&str, &str)) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .basic_auth(auth.0, Some(auth.1))
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn metrics_count_requests_tokens_and_failed_sign_ins() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
        server
            .create_user("hesam", "correct horse battery", &[])
            .await;
        let (svc, svc_secret) = server
            .create_client(&["--name", "svc", "--grant-type", "client_credentials"])
            .await;
        let (app, app_secret) = server
            .create_client(&["--name", "app", "--grant-type", "password"])
            .await;

        for _ in 0..3 {
            reqwest::get(format!("{}/healthz", server.url))
                .await
                .unwrap();
        }
        let cc = [("grant_type", "client_credentials")];
        assert_eq!(
            token(&server, &cc, (&svc, &svc_secret)).await,
            StatusCode::OK
        );
        assert_eq!(
            token(&server, &cc, (&svc, &svc_secret)).await,
            StatusCode::OK
        );
        assert_eq!(
            token(&server, &cc, (&svc, "wrong")).await,
            StatusCode::UNAUTHORIZED
        );
        let wrong_password = [
            ("grant_type", "password"),
            ("username", "hesam"),
            ("password", "not it at all"),
        ];
        assert_eq!(
            token(&server, &wrong_password, (&app, &app_secret)).await,
            StatusCode::BAD_REQUEST
        );

        let text = metrics(&server).await;
        let get = |series: &str| {
            sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"))
        };
        assert_eq!(
            get(r#"portcullis_http_requests_total{endpoint="/healthz",status="200"}"#),
            3.0
        );
        assert_eq!(
            get(r#"portcullis_http_requests_total{endpoint="/token",status="401"}"#),
            1.0
        );
        assert_eq!(
            get(
                r#"portcullis_token_requests_total{grant_type="client_credentials",outcome="issued"}"#
            ),
            2.0
        );
        assert_eq!(
            get(
                r#"portcullis_token_requests_total{grant_type="client_credentials",outcome="invalid_client"}"#
            ),
            1.0
        );
        assert_eq!(
            get(
                r#"portcullis_token_requests_total{grant_type="password",outcome="invalid_grant"}"#
            ),
            1.0
        );
        assert_eq!(get("portcullis_login_failures_total"), 1.0);
        assert_eq!(
            get(r#"portcullis_http_request_duration_seconds_count{endpoint="/token"}"#),
            4.0
        );
        assert!(get(r#"portcullis_db_pool_connections{state="idle"}"#) >= 0.0);
        assert!(!text.contains(&svc_secret) && !text.contains("hesam"));
        server.stop().await;
    }
}

#[tokio::test]
async fn every_request_has_an_id_and_json_logs_keep_secrets_out() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let log = db.dir.path().join("server.log");
    let server = TestServer::spawn_logging(
        BIN.as_ref(),
        &db,
        &[
            ("PORTCULLIS_LOG_FORMAT", "json"),
            ("PORTCULLIS_LOG", "debug,sqlx=warn"),
        ],
        &log,
    )
    .await;
    server
        .create_user("hesam", "correct horse battery", &[])
        .await;
    let (app, app_secret) = server
        .create_client(&["--name", "app", "--grant-type", "password"])
        .await;

    let response = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .header("x-request-id", "trace-me-42")
        .basic_auth(&app, Some(&app_secret))
        .form(&[
            ("grant_type", "password"),
            ("username", "hesam"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    let body: Value = response.json().await.unwrap();
    let access_token = body["access_token"].as_str().unwrap().to_owned();
    let generated = reqwest::get(format!("{}/healthz", server.url))
        .await
        .unwrap();
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(id.len() >= 16, "{id}");
    // Leave the server a moment to write its lines, then stop it cleanly.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.terminate().await);

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        lines.iter().any(|l| l.to_string().contains("trace-me-42")),
        "the request id is in the log:\n{text}"
    );
    assert!(lines.iter().any(|l| l.to_string().contains(&id)));
    for secret in [
        app_secret.as_str(),
        "correct horse battery",
        access_token.as_str(),
    ] {
        assert!(!text.contains(secret), "a secret reached the log:\n{text}");
    }
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    let address = server.url.trim_start_matches("http://").to_owned();
    // A request whose body is still on its way when the stop is asked for.
    let body = "grant_type=client_credentials";
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = tokio::spawn(server.terminate());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !stopping.is_finished(),
        "the server waits for the request in flight"
    );
    stream.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the request got its answer: {answer}"
    );
    assert!(
        stopping.await.unwrap(),
        "then the server exits with success"
    );
    // New connections are no longer accepted.
    assert!(tokio::net::TcpStream::connect(&address).await.is_err());
}

/// Fails if one client holding an unfinished request could keep a stopping
/// server alive until the orchestrator's SIGKILL: after `shutdown_timeout`
/// the connection is closed and the process exits with success.
#[tokio::test]
async fn sigterm_completes_within_the_shutdown_deadline_despite_an_unfinished_request() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server =
        TestServer::spawn(BIN.as_ref(), &db, &[("PORTCULLIS_SHUTDOWN_TIMEOUT", "1s")]).await;
    let address = server.url.trim_start_matches("http://").to_owned();
    // Headers started and never finished, as a slow or stuck client sends them.
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(format!("POST /token HTTP/1.1\r\nHost: {address}\r\nContent-Le").as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(server.terminate().await, "the server exits with success");
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
}

/// Fails if slow-header or idle keep-alive connections were kept open (the
/// measured failure: 500 of them at 1 byte/s held every file descriptor),
/// or if connections beyond `max_connections` were refused instead of
/// waiting their turn.
#[tokio::test]
async fn slow_and_idle_connections_are_closed_and_normal_requests_still_pass() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(
        BIN.as_ref(),
        &db,
        &[
            ("PORTCULLIS_HEADER_READ_TIMEOUT", "1s"),
            ("PORTCULLIS_MAX_CONNECTIONS", "4"),
        ],
    )
    .await;
    let address = server.url.trim_start_matches("http://").to_owned();
    // Four clients trickle their headers a byte at a time: every slot is taken.
    let mut slow = Vec::new();
    for _ in 0..4 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHo")
            .await
            .unwrap();
        slow.push(stream);
    }
    let trickle = tokio::spawn(async move {
        let mut closed = 0;
        for stream in &mut slow {
            // Keep trickling until the server hangs up on it.
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if stream.write_all(b"s").await.is_err() {
                    break;
                }
                let mut byte = [0u8; 1];
                match tokio::time::timeout(Duration::from_millis(10), stream.read(&mut byte)).await
                {
                    Ok(Ok(0)) | Ok(Err(_)) => break,
                    Ok(Ok(_)) => {
                        // The server answered (408 or similar) before closing.
                        let mut rest = Vec::new();
                        let _ = stream.read_to_end(&mut rest).await;
                        break;
                    }
                    Err(_) => {}
                }
            }
            closed += 1;
        }
        closed
    });
    // A normal client waits for a slot, then gets its answer.
    let response = tokio::time::timeout(
        Duration::from_secs(30),
        reqwest::get(format!("{}/healthz", server.url)),
    )
    .await
    .expect("the request is served once the slow connections are cut")
    .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(30), trickle)
            .await
            .expect("the slow connections are closed")
            .unwrap(),
        4
    );
    // An idle kept-alive connection is closed too.
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    idle.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), idle.read_to_end(&mut answer))
        .await
        .expect("the idle connection is closed")
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}

/// Fails if a request whose body never finishes could hold its handler (and
/// its database connection, throttle reservation or Argon2 slot) for as long
/// as the client likes: after `request_timeout` it is answered 408.
#[tokio::test]
async fn a_request_whose_body_never_finishes_is_answered_408_after_request_timeout() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server =
        TestServer::spawn(BIN.as_ref(), &db, &[("PORTCULLIS_REQUEST_TIMEOUT", "1s")]).await;
    let address = server.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /token HTTP/1.1\r\nHost: {address}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: 100\r\n\r\ngrant_type=cl"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(30), stream.read_exact(&mut answer))
        .await
        .expect("the unfinished request is answered")
        .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 408");
    let response = reqwest::get(format!("{}/healthz", server.url))
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}

/// Fails if start-up left the open-file limit where it found it, or let
/// `max_connections` exceed what that limit allows.
#[tokio::test]
async fn start_up_raises_the_open_file_limit_and_keeps_connections_below_it() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let log = db.dir.path().join("server.log");
    let server = TestServer::spawn_logging(
        BIN.as_ref(),
        &db,
        &[
            ("PORTCULLIS_LOG", "info"),
            ("PORTCULLIS_LOG_FORMAT", "json"),
            ("PORTCULLIS_MAX_CONNECTIONS", "1000000"),
        ],
        &log,
    )
    .await;
    let hard_limit: u64 = {
        let out = std::process::Command::new("sh")
            .args(["-c", "ulimit -Hn"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(u64::MAX)
    };
    server.stop().await;
    let text = std::fs::read_to_string(&log).unwrap();
    let line: Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["open_files"].is_u64())
        .unwrap_or_else(|| panic!("no open-file figure in the log:\n{text}"));
    let open_files = line["open_files"].as_u64().unwrap();
    let max = line["max_connections"].as_u64().unwrap();
    assert!(max < open_files, "{line}");
    if hard_limit < 1_000_064 {
        assert_eq!(
            open_files, hard_limit,
            "the soft limit is raised to the hard one: {line}"
        );
    }
}

/// Fails if `serve` wrote terminal colour codes into a log file (journald
/// and log collectors showed `\x1b[2m…\x1b[32m INFO`).
#[tokio::test]
async fn pretty_logs_into_a_file_carry_no_colour_codes() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let log = db.dir.path().join("server.log");
    let server =
        TestServer::spawn_logging(BIN.as_ref(), &db, &[("PORTCULLIS_LOG", "info")], &log).await;
    let response = reqwest::get(format!("{}/healthz", server.url))
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    server.stop().await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(" INFO "),
        "pretty lines were written:\n{text}"
    );
    assert!(!text.contains('\u{1b}'), "{text:?}");
}
