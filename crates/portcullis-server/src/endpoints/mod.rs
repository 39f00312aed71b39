//! One module per endpoint.

pub(crate) mod account;
pub(crate) mod authorize;
pub(crate) mod discovery;
pub(crate) mod health;
pub(crate) mod introspect;
pub(crate) mod jwks;
pub(crate) mod logout;
pub(crate) mod register;
pub(crate) mod revoke;
pub(crate) mod signup;
pub(crate) mod token;
pub(crate) mod userinfo;
