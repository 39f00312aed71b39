//! The Portcullis domain: clients, users, scopes, grants, access tokens, the
//! signing key ring, and the [`Store`] trait.
//!
//! Architecture invariant: nothing here speaks HTTP or SQL, reads the clock or
//! the environment. Time arrives as [`UnixTime`]; storage is behind [`Store`].

pub mod access_token;
pub mod admin;
pub mod authorization_request;
pub mod backchannel;
pub mod client;
pub mod client_document;
pub mod grant;
pub mod id_token;
pub mod introspection;
pub mod keyring;
pub mod liveness;
pub mod logout;
pub mod master_key;
pub mod password;
pub mod pkce;
pub mod random;
pub mod redirect_uri;
pub mod registration;
pub mod resource;
pub mod revocation;
pub mod scope;
pub mod secret;
pub mod session;
pub mod sign_in;
pub mod store;
pub mod throttle;
pub mod time;
pub mod token_error;
pub mod token_hash;
pub mod user;
pub mod userinfo;

pub use client::{Client, ClientId, GrantType, NewClient};
pub use keyring::{KeyRecord, KeyRing, RotationPlan};
pub use master_key::MasterKey;
pub use resource::Resource;
pub use scope::{Scope, ScopeSet};
pub use secret::{ClientSecret, SecretHash};
pub use store::{Store, StoreError};
pub use time::{Seconds, UnixTime};
pub use token_error::TokenError;
