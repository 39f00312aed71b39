//! The SHA-256 of a code or an opaque token: the only form in which codes,
//! refresh tokens, sessions and throttle keys are stored or compared.

use aws_lc_rs::digest::{SHA256, digest};

/// The SHA-256 of a code or an opaque token, the only form stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// The hash of `token`.
    pub fn of(token: &str) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        TokenHash(out)
    }

    /// Reads a stored hash.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(TokenHash)
    }
}
