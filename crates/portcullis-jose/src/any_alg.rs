//! Signing with any JOSE algorithm from a PEM private key or a shared secret,
//! and reading a token without verifying it: the tools of `portcullis jwt`.
//!
//! The server's token path does not use this module: it signs with
//! [`SigningKey`](crate::SigningKey), parsed once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm as JwtAlg, AlgorithmFamily, EncodingKey, Header};
use serde_json::{Map, Value};

use crate::{Error, strict_json};

/// A JSON object: a JOSE header or a claim set.
pub type JsonObject = Map<String, Value>;

/// Parses a JOSE algorithm name, refusing `none`.
///
/// ```
/// use portcullis_jose::parse_any_algorithm;
/// assert!(parse_any_algorithm("PS512").is_ok());
/// assert!(parse_any_algorithm("none").is_err());
/// ```
pub fn parse_any_algorithm(name: &str) -> Result<JwtAlg, Error> {
    name.parse::<JwtAlg>()
        .map_err(|_| Error::UnsupportedAlgorithm(name.to_owned()))
}

/// Signs `claims` with `alg` and a PEM private key (PKCS#8, or PKCS#1 for
/// RSA, or SEC1 for EC).
///
/// ```
/// use portcullis_jose::{encode_with_pem, parse_any_algorithm};
/// let alg = parse_any_algorithm("HS256")?;
/// assert!(encode_with_pem(alg, b"-----BEGIN PRIVATE KEY-----", &serde_json::json!({})).is_err());
/// # Ok::<(), portcullis_jose::Error>(())
/// ```
pub fn encode_with_pem(alg: JwtAlg, pem: &[u8], claims: &Value) -> Result<String, Error> {
    let key = match alg.family() {
        AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem),
        AlgorithmFamily::Ec => EncodingKey::from_ec_pem(pem),
        AlgorithmFamily::Ed => EncodingKey::from_ed_pem(pem),
        AlgorithmFamily::Hmac => {
            return Err(Error::InvalidKey(
                "HMAC algorithms take a secret, not a PEM key",
            ));
        }
    }
    .map_err(|_| Error::InvalidKey("not a PEM private key of this algorithm's type"))?;
    encode(alg, &key, claims)
}

/// Signs `claims` with an HMAC algorithm and a shared secret.
///
/// ```
/// use portcullis_jose::{encode_with_secret, parse_any_algorithm};
/// let token = encode_with_secret(parse_any_algorithm("HS256")?, b"secret", &serde_json::json!({"sub": "a"}))?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<(), portcullis_jose::Error>(())
/// ```
pub fn encode_with_secret(alg: JwtAlg, secret: &[u8], claims: &Value) -> Result<String, Error> {
    if alg.family() != AlgorithmFamily::Hmac {
        return Err(Error::InvalidKey(
            "a shared secret signs only HS256, HS384 or HS512",
        ));
    }
    encode(alg, &EncodingKey::from_secret(secret), claims)
}

fn encode(alg: JwtAlg, key: &EncodingKey, claims: &Value) -> Result<String, Error> {
    let mut header = Header::new(alg);
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(&header, claims, key).map_err(|_| Error::Signing)
}

/// Reads a token's header and claims WITHOUT verifying anything.
///
/// ```
/// use portcullis_jose::decode_unverified;
/// let (header, claims) = decode_unverified("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig")?;
/// assert_eq!(header["alg"], "HS256");
/// assert_eq!(claims["sub"], "a");
/// # Ok::<(), portcullis_jose::Error>(())
/// ```
pub fn decode_unverified(token: &str) -> Result<(JsonObject, JsonObject), Error> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(claims), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed("a JWS has three parts"));
    };
    let part = |text: &str, what: &'static str| {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| Error::Malformed(what))?;
        strict_json::object(&bytes).ok_or(Error::Malformed(what))
    };
    Ok((
        part(header, "the header is not a base64url JSON object")?,
        part(claims, "the claims are not a base64url JSON object")?,
    ))
}
