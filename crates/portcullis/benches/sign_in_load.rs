//! Load benchmark of the sign-in grants at `/token`: authorization-code
//! exchanges and refresh-token rotations per second, each request with its own
//! single-use code or refresh token from a batch prepared beforehand, on
//! SQLite and (when `PORTCULLIS_TEST_DATABASE_URL` is set) PostgreSQL.
//!
//! The server runs the release binary pinned to core 0 (`taskset`, when
//! present); this load generator should run on core 1 (see
//! `bench/sign-in-throughput.sh`). Prints Markdown rows.
//!
//! ```sh
//! BATCH=4000 CONNECTIONS=16 cargo bench -p portcullis --bench sign_in_load
//! ```

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portcullis_testkit::browser::{Browser, hidden, param, query_of};
use portcullis_testkit::{StoreKind, TestDatabase, store_kinds};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CALLBACK: &str = "http://127.0.0.1:43210/callback";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The server process, pinned to core 0 when `taskset` exists.
async fn start_server(db: &TestDatabase) -> (Child, String, Vec<(String, String)>) {
    let env = vec![
        (
            "PORTCULLIS_DATA_DIR".to_owned(),
            db.dir.path().display().to_string(),
        ),
        ("PORTCULLIS_DATABASE_URL".to_owned(), db.url.clone()),
        ("PORTCULLIS_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("PORTCULLIS_LOG".to_owned(), "warn".to_owned()),
    ];
    let taskset = std::path::Path::new("/usr/bin/taskset").exists();
    let mut command = if taskset {
        let mut c = Command::new("/usr/bin/taskset");
        c.args(["-c", "0", BIN]);
        c
    } else {
        Command::new(BIN)
    };
    let mut child = command
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next_line().await.unwrap().expect("server output");
        if let Some(url) = line.strip_prefix("portcullis listening on ") {
            break url.trim().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url, env)
}

async fn cli(env: &[(String, String)], args: &[&str], stdin: &str) -> String {
    use tokio::io::AsyncWriteExt as _;
    let mut child = Command::new(BIN)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Signs in once, consents, then asks `/authorize` `count` times: consent is
/// remembered, so each answer is a redirect with a fresh code.
async fn prepare_codes(url: &str, client_id: &str, count: usize) -> Vec<String> {
    let authorize = format!(
        "{url}/authorize?{}",
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", CALLBACK),
                ("scope", "openid profile offline_access"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
            .finish()
    );
    let mut browser = Browser::new();
    let (_, _, login) = browser.get(&authorize).await;
    let (_, _, consent) = browser
        .post(
            &format!("{url}/login"),
            &[
                ("csrf", &hidden(&login, "csrf")),
                ("request", &hidden(&login, "request")),
                ("username", "alice"),
                ("password", "down the rabbit hole"),
            ],
        )
        .await;
    browser
        .post(
            &format!("{url}/consent"),
            &[
                ("csrf", &hidden(&consent, "csrf")),
                ("request", &hidden(&consent, "request")),
                ("decision", "allow"),
            ],
        )
        .await;
    let mut codes = Vec::with_capacity(count);
    for _ in 0..count {
        let (status, headers, _) = browser.get(&authorize).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let pairs = query_of(headers[LOCATION].to_str().unwrap());
        codes.push(param(&pairs, "code").unwrap().to_owned());
    }
    codes
}

/// Sends one `/token` form per item of `batch` over `connections`
/// concurrent connections; returns (requests/s, p50, p99, the JSON answers).
async fn hammer(
    url: &str,
    connections: usize,
    batch: Vec<Vec<(&'static str, String)>>,
) -> (f64, Duration, Duration, Vec<Value>) {
    let total = batch.len();
    let queue = Arc::new(Mutex::new(batch));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (queue, http, token_url) = (queue.clone(), http.clone(), format!("{url}/token"));
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let Some(form) = queue.lock().unwrap().pop() else {
                    break;
                };
                let sent = Instant::now();
                let response = http.post(&token_url).form(&form).send().await.unwrap();
                let status = response.status();
                let body: Value = response.json().await.unwrap();
                assert_eq!(status, StatusCode::OK, "{body}");
                seen.push((sent.elapsed(), body));
            }
            seen
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut answers = Vec::with_capacity(total);
    for task in tasks {
        for (latency, body) in task.await.unwrap() {
            latencies.push(latency);
            answers.push(body);
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (
        total as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.99),
        answers,
    )
}

fn row(backend: &str, what: &str, n: usize, c: usize, result: &(f64, Duration, Duration)) {
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!(
        "| {backend} | {what} | {n} | {c} | {:.0} | {} | {} |",
        result.0,
        ms(result.1),
        ms(result.2)
    );
}

#[tokio::main]
async fn main() {
    let batch_size = env_number("BATCH", 4000);
    let connections = env_number("CONNECTIONS", 16);
    println!("| backend | grant | requests | connections | requests/s | p50 | p99 |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for kind in store_kinds() {
        let backend = match kind {
            StoreKind::Sqlite => "SQLite",
            StoreKind::Postgres => "PostgreSQL",
        };
        let db = TestDatabase::new(kind).await;
        let (mut server, url, env) = start_server(&db).await;
        cli(
            &env,
            &["user", "create", "--username", "alice", "--password-stdin"],
            "down the rabbit hole\n",
        )
        .await;
        let created: Value = serde_json::from_str(
            &cli(
                &env,
                &[
                    "client",
                    "create",
                    "--json",
                    "--name",
                    "bench",
                    "--public",
                    "--grant-type",
                    "authorization_code",
                    "--grant-type",
                    "refresh_token",
                    "--redirect-uri",
                    CALLBACK,
                    "--scope",
                    "openid profile offline_access",
                ],
                "",
            )
            .await,
        )
        .unwrap();
        let client_id = created["client_id"].as_str().unwrap().to_owned();

        // Codes live 60 s: prepare them, then redeem them at once.
        let codes = prepare_codes(&url, &client_id, batch_size).await;
        let forms = codes
            .into_iter()
            .map(|code| {
                vec![
                    ("grant_type", "authorization_code".to_owned()),
                    ("code", code),
                    ("redirect_uri", CALLBACK.to_owned()),
                    ("client_id", client_id.clone()),
                    ("code_verifier", VERIFIER.to_owned()),
                ]
            })
            .collect();
        let (rps, p50, p99, answers) = hammer(&url, connections, forms).await;
        row(
            backend,
            "authorization_code (+ ID and refresh token)",
            batch_size,
            connections,
            &(rps, p50, p99),
        );

        // Each exchange gave a refresh token: rotate each once.
        let forms = answers
            .iter()
            .map(|a| {
                vec![
                    ("grant_type", "refresh_token".to_owned()),
                    (
                        "refresh_token",
                        a["refresh_token"].as_str().unwrap().to_owned(),
                    ),
                    ("client_id", client_id.clone()),
                ]
            })
            .collect();
        let (rps, p50, p99, _) = hammer(&url, connections, forms).await;
        row(
            backend,
            "refresh_token (rotation + ID token)",
            batch_size,
            connections,
            &(rps, p50, p99),
        );
        let _ = server.kill().await;
    }
}
