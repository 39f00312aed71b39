//! Proof Key for Code Exchange (RFC 7636), S256 only: `plain` gives no
//! protection against a leaked authorization request and is refused.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a PKCE parameter is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceRejected {
    /// `code_challenge_method` other than `S256` (including `plain`).
    #[error("code_challenge_method must be S256")]
    Method,
    /// A challenge that is not the base64url of a SHA-256 digest.
    #[error("code_challenge must be 43 base64url characters (a SHA-256 digest)")]
    Challenge,
    /// A verifier outside RFC 7636 section 4.1's alphabet or length.
    #[error("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")]
    Verifier,
}

/// Whether an authorization request for a code must carry a PKCE challenge.
/// Always for a public client and for a client registered with
/// `require_pkce`; for a confidential client's OpenID Connect request (scope
/// `openid`) with a `nonce`, PKCE may be left out: the nonce in the ID token
/// binds the code to the session, as RFC 9700 2.1.1 allows and
/// node-oidc-provider does. Which relying parties need this: those without
/// PKCE (passport-openidconnect, mod_auth_openidc by default).
///
/// ```
/// use portcullis_core::pkce::pkce_required;
/// assert!(pkce_required(true, false, true));   // public: always
/// assert!(!pkce_required(false, false, true)); // confidential, openid + nonce
/// assert!(pkce_required(false, false, false)); // confidential, plain OAuth
/// assert!(pkce_required(false, true, true));   // confidential, required by its registration
/// ```
pub fn pkce_required(public: bool, require_pkce: bool, openid_with_nonce: bool) -> bool {
    public || require_pkce || !openid_with_nonce
}

/// A code challenge received with an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Parses `code_challenge` and `code_challenge_method` (absent means
    /// `plain` in RFC 7636, which is refused).
    ///
    /// ```
    /// use portcullis_core::pkce::{CodeChallenge, PkceRejected};
    /// let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    /// assert!(CodeChallenge::parse(challenge, Some("S256")).is_ok());
    /// assert_eq!(CodeChallenge::parse(challenge, Some("plain")), Err(PkceRejected::Method));
    /// assert_eq!(CodeChallenge::parse(challenge, None), Err(PkceRejected::Method));
    /// ```
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, PkceRejected> {
        if method != Some("S256") {
            return Err(PkceRejected::Method);
        }
        let decoded = URL_SAFE_NO_PAD
            .decode(challenge)
            .map_err(|_| PkceRejected::Challenge)?;
        if challenge.len() != 43 || decoded.len() != 32 {
            return Err(PkceRejected::Challenge);
        }
        Ok(CodeChallenge(challenge.to_owned()))
    }

    /// A challenge read back from storage.
    pub fn from_stored(text: String) -> Self {
        CodeChallenge(text)
    }

    /// The challenge, for storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` is the one this challenge was made from
    /// (`BASE64URL(SHA256(verifier)) == challenge`, compared in constant time).
    pub fn verify(&self, verifier: &str) -> Result<(), PkceRejected> {
        let valid = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !valid {
            return Err(PkceRejected::Verifier);
        }
        let computed = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
        verify_slices_are_equal(computed.as_bytes(), self.0.as_bytes())
            .map_err(|_| PkceRejected::Verifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_verifies() {
        let challenge =
            CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(challenge.verify(VERIFIER), Ok(()));
    }

    #[test]
    fn a_wrong_or_malformed_verifier_is_refused() {
        let challenge =
            CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap_or_else(|e| panic!("{e}"));
        let mut other = VERIFIER.to_owned();
        other.replace_range(0..1, "e");
        assert_eq!(challenge.verify(&other), Err(PkceRejected::Verifier));
        assert_eq!(challenge.verify("short"), Err(PkceRejected::Verifier));
        assert_eq!(
            challenge.verify(&"a".repeat(129)),
            Err(PkceRejected::Verifier)
        );
        let with_space = format!("{} ", &VERIFIER[..43]);
        assert_eq!(challenge.verify(&with_space), Err(PkceRejected::Verifier));
        // The challenge itself is not a verifier for itself.
        assert_eq!(challenge.verify(CHALLENGE), Err(PkceRejected::Verifier));
    }

    #[test]
    fn malformed_challenges_are_refused() {
        for bad in [
            "",
            "abc",
            &format!("{CHALLENGE}A"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
        ] {
            assert_eq!(
                CodeChallenge::parse(bad, Some("S256")),
                Err(PkceRejected::Challenge),
                "{bad}"
            );
        }
        assert_eq!(
            CodeChallenge::parse(CHALLENGE, Some("s256")),
            Err(PkceRejected::Method)
        );
    }
}
