//! The Portcullis HTTP server: endpoints, configuration, start-up.
//!
//! Architecture invariant: handlers parse HTTP, call `portcullis-core`, and
//! turn the outcome into a response; protocol rules live in core, and only
//! [`error`] turns errors into responses.

mod admin_api;
mod backchannel;
mod bearer;
mod client_address;
mod client_auth;
mod client_cache;
mod client_documents;
mod clock;
mod cookies;
mod endpoints;
mod error;
mod form;
mod issuance;
mod maintenance;
mod metrics;
mod pages;
mod router;
mod signing_keys;
mod state;

pub mod password_work;
pub mod settings;
pub mod startup;

pub use clock::system_now;
pub use settings::{RawSettings, Settings, SettingsError};
