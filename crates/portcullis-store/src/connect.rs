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

/// Opens the database at `url`, runs pending migrations and returns the store.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, ConnectError> {
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
                .connect_with(options.clone())
                .await
                .map_err(|e| ConnectError::Connect(e.to_string()))?;
            sqlx::migrate!("./migrations/sqlite")
                .run(&writer)
                .await
                .map_err(|e| ConnectError::Migrate(e.to_string()))?;
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(|e| ConnectError::Connect(e.to_string()))?;
            Ok(Arc::new(SqliteStore { pool, writer }))
        }
        Backend::Postgres => {
            let options = PgConnectOptions::from_str(url).map_err(|_| ConnectError::BadUrl)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
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
