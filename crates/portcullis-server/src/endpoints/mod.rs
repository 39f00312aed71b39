//! One module per JSON endpoint (the HTML pages are in `pages`). Endpoints
//! never import one another.

pub(crate) mod device_authorization;
pub(crate) mod discovery;
pub(crate) mod health;
pub(crate) mod introspect;
pub(crate) mod jwks;
pub(crate) mod metrics;
pub(crate) mod register;
pub(crate) mod revoke;
pub(crate) mod token;
pub(crate) mod userinfo;
