//! Grants at the token endpoint, one module each.

pub mod authorization_code;
pub mod client_credentials;
pub mod password;
pub mod refresh_token;
