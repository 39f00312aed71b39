//! Keys, JWK/JWKS, JWS signing and verification, and JWT claims validation.
//!
//! This crate does no I/O and never reads the clock: callers pass the current
//! time in Unix seconds, so every rule is testable with a fixed time.
//!
//! Signing uses [`aws-lc-rs`](aws_lc_rs) key pairs parsed once ([`SigningKey`]);
//! verification and JWK handling use [`jsonwebtoken`] ([`Verifier`]).
//!
//! ```
//! use portcullis_jose::{Algorithm, ClaimsPolicy, SigningKey, Verifier};
//! use serde_json::json;
//!
//! let key = SigningKey::generate(Algorithm::ES256)?;
//! let token = key.sign_jwt("at+jwt", &json!({
//!     "iss": "https://issuer.example", "aud": "https://api.example",
//!     "sub": "svc", "iat": 1_000, "exp": 2_000,
//! }))?;
//!
//! let verifier = Verifier::from_jwks(&key.public_jwks())?;
//! let policy = ClaimsPolicy::new("https://issuer.example", ["https://api.example"]);
//! let verified = verifier.verify(&token, &policy, 1_500)?;
//! assert_eq!(verified.claims["sub"], "svc");
//! # Ok::<(), portcullis_jose::Error>(())
//! ```

#![deny(missing_docs)]

mod algorithm;
mod any_alg;
mod b64;
mod claims;
mod error;
mod signing_key;
mod strict_json;
mod verifier;

pub use algorithm::Algorithm;
pub use any_alg::{
    JsonObject, decode_unverified, encode_with_pem, encode_with_secret, parse_any_algorithm,
};
pub use claims::ClaimsPolicy;
pub use error::Error;
pub use jsonwebtoken::Algorithm as AnyAlgorithm;
pub use jsonwebtoken::jwk::{Jwk, JwkSet};
pub use signing_key::{Pkcs8Der, SigningKey};
pub use verifier::{Verified, Verifier};
