//! The JWS algorithms Portcullis signs with.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A JWS algorithm for which [`SigningKey`](crate::SigningKey) can generate
/// keys and sign. `none` and the HMAC family are deliberately absent.
///
/// ```
/// use portcullis_jose::Algorithm;
/// let alg: Algorithm = "ES256".parse()?;
/// assert_eq!(alg, Algorithm::ES256);
/// assert_eq!(alg.to_string(), "ES256");
/// assert!("none".parse::<Algorithm>().is_err());
/// # Ok::<(), portcullis_jose::Error>(())
/// ```
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA-2048 keys.
    RS256,
    /// RSASSA-PSS with SHA-256, RSA-2048 keys.
    PS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

impl Algorithm {
    /// Every signing algorithm, in the order discovery documents list them.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];

    /// The JOSE name (`"RS256"`, `"EdDSA"`, ...).
    ///
    /// ```
    /// assert_eq!(portcullis_jose::Algorithm::EdDSA.as_str(), "EdDSA");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::PS256 => "PS256",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// The same algorithm as `jsonwebtoken` names it.
    ///
    /// ```
    /// use portcullis_jose::Algorithm;
    /// assert_eq!(Algorithm::PS256.to_jsonwebtoken(), jsonwebtoken::Algorithm::PS256);
    /// ```
    pub const fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
            Algorithm::PS256 => jsonwebtoken::Algorithm::PS256,
            Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
            Algorithm::ES384 => jsonwebtoken::Algorithm::ES384,
            Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Algorithm::ALL
            .into_iter()
            .find(|alg| alg.as_str() == s)
            .ok_or_else(|| Error::UnsupportedAlgorithm(s.to_owned()))
    }
}
