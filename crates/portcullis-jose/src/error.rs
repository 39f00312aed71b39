//! The one error type of this crate.

/// What went wrong while creating keys, signing or verifying a token.
///
/// ```
/// use portcullis_jose::{Error, Verifier};
/// let err = Verifier::from_jwks(&Default::default()).unwrap_err();
/// assert!(matches!(err, Error::NoKeys));
/// ```
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The algorithm name is not one this crate signs or verifies with.
    #[error("unsupported algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// Key material could not be generated or parsed.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// The cryptographic library refused to sign.
    #[error("signing failed")]
    Signing,
    /// A key set with no usable key.
    #[error("the key set holds no usable key")]
    NoKeys,
    /// The token is not a compact JWS of three base64url parts with JSON header and claims.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm outside the allow-list (this includes `none`).
    #[error("algorithm `{0}` is not allowed")]
    AlgorithmNotAllowed(String),
    /// No key in the set matches the token's `kid` and algorithm.
    #[error("no key matches the token")]
    NoMatchingKey,
    /// The signature does not verify.
    #[error("invalid signature")]
    InvalidSignature,
    /// The header's `typ` is not the one required.
    #[error("unexpected token type")]
    WrongType,
    /// A claim the policy requires is absent or of the wrong JSON type.
    #[error("missing or malformed claim `{0}`")]
    MissingClaim(&'static str),
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not valid yet")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `iss` is not the expected issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` holds none of the accepted audiences.
    #[error("wrong audience")]
    WrongAudience,
}
