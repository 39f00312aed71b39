//! Test utilities: a fresh database per test on SQLite or PostgreSQL, and a
//! real `portcullis serve` process on `127.0.0.1:0`.
//!
//! PostgreSQL is used when `PORTCULLIS_TEST_DATABASE_URL` is set; each test
//! gets its own database, dropped at the end.

pub mod browser;
pub mod cluster;
pub mod id_token;
#[cfg(feature = "server")]
mod in_process;
#[cfg(feature = "server")]
pub use in_process::InProcessServer;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sqlx::Connection as _;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "PORTCULLIS_TEST_DATABASE_URL";

/// A storage backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `PORTCULLIS_TEST_DATABASE_URL`.
    Postgres,
}

/// SQLite always; PostgreSQL too when `PORTCULLIS_TEST_DATABASE_URL` is set.
pub fn store_kinds() -> Vec<StoreKind> {
    let mut kinds = vec![StoreKind::Sqlite];
    if std::env::var_os(POSTGRES_ENV).is_some() {
        kinds.push(StoreKind::Postgres);
    }
    kinds
}

/// A database that exists for one test, with a data directory beside it.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to give to the server or the store.
    pub url: String,
    /// A temporary data directory (the SQLite file lives here).
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates an empty database of `kind`.
    pub async fn new(kind: StoreKind) -> Self {
        match kind {
            StoreKind::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                TestDatabase {
                    url: format!("sqlite:{}", dir.path().join("portcullis.db").display()),
                    dir,
                    postgres: None,
                }
            }
            StoreKind::Postgres => {
                let admin_url = std::env::var(POSTGRES_ENV).expect("PORTCULLIS_TEST_DATABASE_URL");
                Self::on_postgres(&admin_url).await
            }
        }
    }

    /// Creates an empty database on the PostgreSQL server of `admin_url`.
    pub async fn on_postgres(admin_url: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let name = format!("portcullis_test_{}", random_suffix());
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} does not answer: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        TestDatabase {
            url: with_database(admin_url, &name),
            dir,
            postgres: Some((admin_url.to_owned(), name)),
        }
    }
}

impl TestDatabase {
    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Runs `sql` (one or more statements) on this database beside the
    /// server, e.g. to inject a fault with a trigger.
    pub async fn execute(&self, sql: &str) {
        if self.is_postgres() {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    /// The single integer `sql` selects, read beside the server.
    pub async fn count(&self, sql: &str) -> i64 {
        if self.is_postgres() {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        }
    }

    /// Makes a PostgreSQL database disappear under a running server
    /// (its connections are ended), as in an outage. `false` for SQLite.
    pub async fn vanish(&self) -> bool {
        let Some((admin_url, name)) = &self.postgres else {
            return false;
        };
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("PostgreSQL answers");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .expect("drop test database");
        true
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs outside any runtime guarantee: use a thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await
                    .ok()
                })
            })
            .join();
        }
    }
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// Replaces the database name (the path) of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A running `portcullis serve` process.
#[derive(Debug)]
pub struct TestServer {
    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// The environment given to the server, to give to CLI commands too.
    pub env: Vec<(String, String)>,
    binary: PathBuf,
    child: Child,
}

impl TestServer {
    /// Starts `binary serve` on `127.0.0.1:0` over `db`, with extra
    /// `PORTCULLIS_*` settings, and waits until it listens.
    pub async fn spawn(binary: &Path, db: &TestDatabase, settings: &[(&str, &str)]) -> Self {
        Self::spawn_with(binary, db, settings, Stdio::inherit()).await
    }

    /// Like [`TestServer::spawn`], with the server's log (standard error)
    /// written to `log`.
    pub async fn spawn_logging(
        binary: &Path,
        db: &TestDatabase,
        settings: &[(&str, &str)],
        log: &Path,
    ) -> Self {
        let file = std::fs::File::create(log).expect("create the log file");
        Self::spawn_with(binary, db, settings, Stdio::from(file)).await
    }

    async fn spawn_with(
        binary: &Path,
        db: &TestDatabase,
        settings: &[(&str, &str)],
        stderr: Stdio,
    ) -> Self {
        let mut env = vec![
            (
                "PORTCULLIS_DATA_DIR".to_owned(),
                db.dir.path().display().to_string(),
            ),
            ("PORTCULLIS_DATABASE_URL".to_owned(), db.url.clone()),
            ("PORTCULLIS_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("PORTCULLIS_LOG".to_owned(), "warn".to_owned()),
        ];
        for (k, v) in settings {
            env.retain(|(key, _)| key != k);
            env.push(((*k).to_owned(), (*v).to_owned()));
        }
        let mut child = Command::new(binary)
            .arg("serve")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("start portcullis serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(url) = line.strip_prefix("portcullis listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("portcullis serve exited before listening");
        })
        .await
        .expect("portcullis serve did not start within 60 s");
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        TestServer {
            url,
            env,
            binary: binary.to_owned(),
            child,
        }
    }

    /// Runs the CLI with this server's environment; returns (status, stdout, stderr).
    pub async fn cli(&self, args: &[&str]) -> (bool, String, String) {
        run_cli(&self.binary, &self.env, args).await
    }

    /// Runs the CLI with this server's environment and `stdin` as its
    /// input; returns (status, stdout, stderr).
    pub async fn cli_with_stdin(&self, args: &[&str], stdin: &str) -> (bool, String, String) {
        use tokio::io::AsyncWriteExt as _;
        let mut child = Command::new(&self.binary)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run portcullis");
        let mut input = child.stdin.take().expect("stdin is piped");
        input
            .write_all(stdin.as_bytes())
            .await
            .expect("write stdin");
        drop(input);
        let out = child.wait_with_output().await.expect("run portcullis");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs the CLI like [`Self::cli_with_stdin`] and fails the test unless it succeeds.
    pub async fn cli_ok(&self, args: &[&str], stdin: &str) -> String {
        let (ok, stdout, stderr) = self.cli_with_stdin(args, stdin).await;
        assert!(ok, "{args:?} failed: {stderr}");
        stdout
    }

    /// Creates a user with the CLI (`user create --username NAME
    /// --password-stdin` plus `args`).
    pub async fn create_user(&self, username: &str, password: &str, args: &[&str]) {
        let mut all = vec!["user", "create", "--username", username, "--password-stdin"];
        all.extend_from_slice(args);
        self.cli_ok(&all, &format!("{password}\n")).await;
    }

    /// Registers a client with the CLI (`client create ... --json`) and
    /// returns its `(client_id, client_secret)`; the secret is empty for a
    /// public client.
    pub async fn create_client(&self, args: &[&str]) -> (String, String) {
        let mut all = vec!["client", "create", "--json"];
        all.extend_from_slice(args);
        let (ok, stdout, stderr) = self.cli(&all).await;
        assert!(ok, "client create failed: {stderr}");
        let created: serde_json::Value =
            serde_json::from_str(&stdout).expect("client create --json prints JSON");
        let id = created["client_id"].as_str().expect("a client_id");
        let secret = created["client_secret"].as_str().unwrap_or_default();
        (id.to_owned(), secret.to_owned())
    }

    /// Asks the server to stop as an orchestrator does (SIGTERM) and waits
    /// for it to exit; returns whether it exited successfully.
    pub async fn terminate(mut self) -> bool {
        if let Some(pid) = self.child.id() {
            let sent = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await
                .expect("run kill");
            assert!(sent.success(), "kill -TERM {pid}");
        }
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the server exits within 30 s of SIGTERM")
            .expect("wait for the server")
            .success()
    }

    /// Stops the server (SIGKILL: nothing may depend on a clean exit).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Runs `binary args` with `env`; returns (success, stdout, stderr).
pub async fn run_cli(
    binary: &Path,
    env: &[(String, String)],
    args: &[&str],
) -> (bool, String, String) {
    let out = Command::new(binary)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .await
        .expect("run portcullis");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_keeping_host_and_query() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://h/test?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
