//! Administrative use cases, shared by the CLI and (later) the admin API.

pub mod clients;
pub mod keys;
pub mod registration;
pub mod tokens;
pub mod users;
