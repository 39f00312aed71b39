//! Opening a database by URL, with migrations, for either backend.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use portcullis_core::Store;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::sql::{PostgresStore, SqliteStore};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:` URLs: an embedded file.
    Sqlite,
    /// `postgres:` or `postgresql:` URLs.
    Postgres,
}

impl Backend {
    /// The backend of `url`, if it is one we speak.
    pub fn of(url: &str) -> Option<Backend> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not a `sqlite:` or `postgres:` URL, or is malformed.
    #[error("unsupported or malformed database URL (expected sqlite:PATH or postgres://...)")]
    BadUrl,
    /// The database did not answer.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// Migrations failed (for instance a schema newer than this binary).
    #[error("cannot migrate the database: {0}")]
    Migrate(String),
}

/// How long a request waits for a database connection by default before it
/// fails (and is answered `503`): an outage must not hold requests for long.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Opens the database at `url`, runs pending migrations and returns the
/// store, waiting at most [`DEFAULT_TIMEOUT`] for a connection later on.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, ConnectError> {
    connect_with_timeout(url, DEFAULT_TIMEOUT).await
}

/// Like [`connect`], with `timeout` as the longest wait for a PostgreSQL
/// connection. SQLite, on the same machine, has no outage to wait out: its
/// requests queue for up to 5 s, or `timeout` if longer.
pub async fn connect_with_timeout(
    url: &str,
    timeout: Duration,
) -> Result<Arc<dyn Store>, ConnectError> {
    match Backend::of(url).ok_or(ConnectError::BadUrl)? {
        Backend::Sqlite => {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|_| ConnectError::BadUrl)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(timeout.max(Duration::from_secs(5)))
                .connect_with(options.clone())
                .await
                .map_err(|e| ConnectError::Connect(e.to_string()))?;
            sqlx::migrate!("./migrations/sqlite")
                .run(&writer)
                .await
                .map_err(|e| ConnectError::Migrate(e.to_string()))?;
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(timeout.max(Duration::from_secs(5)))
                .connect_with(options)
                .await
                .map_err(|e| ConnectError::Connect(e.to_string()))?;
            Ok(Arc::new(SqliteStore { pool, writer }))
        }
        Backend::Postgres => {
            let options = PgConnectOptions::from_str(url).map_err(|_| ConnectError::BadUrl)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(timeout)
                .connect_with(options)
                .await
                .map_err(|e| ConnectError::Connect(e.to_string()))?;
            sqlx::migrate!("./migrations/postgres")
                .run(&pool)
                .await
                .map_err(|e| ConnectError::Migrate(e.to_string()))?;
            Ok(Arc::new(PostgresStore {
                writer: pool.clone(),
                pool,
            }))
        }
    }
}
