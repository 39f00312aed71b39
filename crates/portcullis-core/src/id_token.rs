//! ID tokens (OIDC Core section 2 and 3.1.3.6).

use aws_lc_rs::digest::{self, SHA256, SHA384, SHA512};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_jose::Algorithm;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::user::UserId;
use crate::{ClientId, Seconds, UnixTime};

/// The claims of an ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The user.
    pub sub: String,
    /// The client.
    pub aud: String,
    /// Expiry.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// When the user authenticated.
    pub auth_time: i64,
    /// The authorization request's nonce.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Half of the hash of the access token issued with it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The authorized party: the client.
    pub azp: String,
    /// The browser session it was issued in (Back-Channel Logout 2.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The user's claims, when no access token can fetch them from userinfo
    /// (the implicit `id_token` response, OIDC Core 5.4).
    #[serde(flatten)]
    pub user_claims: Map<String, Value>,
}

/// Who and what an ID token speaks of.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The user.
    pub user: &'a UserId,
    /// The client (the audience).
    pub client: &'a ClientId,
    /// When the user authenticated.
    pub auth_time: UnixTime,
    /// The authorization request's nonce (none on a refresh).
    pub nonce: Option<&'a str>,
    /// The browser session, when it was issued through one.
    pub sid: Option<&'a str>,
}

impl IdTokenClaims {
    /// The ID token for `subject`, issued with `access_token` (if any), to be
    /// signed with `alg`.
    pub fn new(
        issuer: &str,
        subject: Subject<'_>,
        access_token: Option<&str>,
        alg: Algorithm,
        now: UnixTime,
        lifetime: Seconds,
    ) -> Self {
        IdTokenClaims {
            iss: issuer.to_owned(),
            sub: subject.user.as_str().to_owned(),
            aud: subject.client.as_str().to_owned(),
            exp: (now + lifetime).0,
            iat: now.0,
            auth_time: subject.auth_time.0,
            nonce: subject.nonce.map(str::to_owned),
            at_hash: access_token.map(|token| half_hash(alg, token)),
            azp: subject.client.as_str().to_owned(),
            sid: subject.sid.map(str::to_owned),
            user_claims: Map::new(),
        }
    }

    /// Adds the user's claims (other than `sub`, which is there already).
    pub fn with_user_claims(mut self, mut claims: Map<String, Value>) -> Self {
        claims.remove("sub");
        self.user_claims = claims;
        self
    }
}

/// `at_hash`/`c_hash`: base64url of the left half of the hash the signing
/// algorithm uses (SHA-512 for Ed25519).
///
/// ```
/// use portcullis_core::id_token::half_hash;
/// use portcullis_jose::Algorithm;
/// // OIDC Core A.3: the at_hash of access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
/// assert_eq!(half_hash(Algorithm::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
/// ```
pub fn half_hash(alg: Algorithm, token: &str) -> String {
    let which = match alg {
        Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 => &SHA256,
        Algorithm::ES384 => &SHA384,
        Algorithm::EdDSA => &SHA512,
    };
    let hash = digest::digest(which, token.as_bytes());
    let bytes = hash.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}
