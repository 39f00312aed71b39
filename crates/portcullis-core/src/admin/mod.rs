//! Administrative use cases, shared by the CLI and the admin API.

pub mod access;
pub mod clients;
pub mod grants;
pub mod keys;
pub mod registration;
pub mod tokens;
pub mod users;
