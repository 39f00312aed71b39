//! Checking ID tokens as an app would, with an independent JOSE library
//! (`jsonwebtoken`) and the issuer's published JWKS.

#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;

/// The claims of `id_token` after verifying its signature against
/// `issuer`'s JWKS and its `iss`, `aud` (`client_id`) and `exp`; fails the
/// test otherwise.
pub async fn verified_claims(issuer: &str, id_token: &str, client_id: &str) -> Value {
    let jwks: JwkSet = reqwest::get(format!("{issuer}/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"), "an ID token is typ JWT");
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[client_id]);
    jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

/// The `at_hash` of an access token signed with a SHA-256 algorithm
/// (RS256, PS256, ES256): the left half of its SHA-256, base64url.
pub fn at_hash_sha256(access_token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}
