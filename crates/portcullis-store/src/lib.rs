//! The Portcullis [`Store`](portcullis_core::Store) on sqlx, for embedded
//! SQLite (the default) and PostgreSQL.
//!
//! The SQL is written once (`$N` placeholders, `ON CONFLICT`, portable types)
//! in [`sql`] and instantiated for both databases by one macro; what differs
//! per dialect is connection set-up and the migrations, side by side in
//! `migrations/sqlite` and `migrations/postgres`.

mod connect;
mod rows;
mod sql;

pub use connect::{Backend, ConnectError, DEFAULT_TIMEOUT, connect, connect_with_timeout};
