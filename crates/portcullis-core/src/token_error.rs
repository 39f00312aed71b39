//! The token endpoint's error set (RFC 6749 section 5.2, RFC 8707 section 2).

/// Why the token endpoint refuses a request. The server turns each into the
/// RFC 6749 JSON error with its status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Missing, repeated or malformed parameter, or an unsupported request shape.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// Client authentication failed (unknown client, wrong secret, no authentication).
    #[error("invalid_client: {0}")]
    InvalidClient(&'static str),
    /// The grant (code, refresh token, credentials) is invalid.
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    /// The client may not use this grant type.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(&'static str),
    /// The server does not implement this grant type.
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    /// The requested scope is invalid, unknown or exceeds what the client may have.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// The requested resource is invalid or not one the client may address (RFC 8707).
    #[error("invalid_target: {0}")]
    InvalidTarget(String),
    /// A device authorization the user has not decided yet (RFC 8628 3.5).
    #[error("authorization_pending: {0}")]
    AuthorizationPending(&'static str),
    /// A device client polling faster than its interval (RFC 8628 3.5); the
    /// interval grows by 5 seconds.
    #[error("slow_down: {0}")]
    SlowDown(&'static str),
    /// A device code past its lifetime (RFC 8628 3.5).
    #[error("expired_token: {0}")]
    ExpiredToken(&'static str),
    /// The user denied the device authorization (RFC 8628 3.5).
    #[error("access_denied: {0}")]
    AccessDenied(&'static str),
}

impl TokenError {
    /// The registered error code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::InvalidClient(_) => "invalid_client",
            TokenError::InvalidGrant(_) => "invalid_grant",
            TokenError::UnauthorizedClient(_) => "unauthorized_client",
            TokenError::UnsupportedGrantType(_) => "unsupported_grant_type",
            TokenError::InvalidScope(_) => "invalid_scope",
            TokenError::InvalidTarget(_) => "invalid_target",
            TokenError::AuthorizationPending(_) => "authorization_pending",
            TokenError::SlowDown(_) => "slow_down",
            TokenError::ExpiredToken(_) => "expired_token",
            TokenError::AccessDenied(_) => "access_denied",
        }
    }

    /// A sentence for `error_description`, safe to show to the client.
    pub fn description(&self) -> String {
        match self {
            TokenError::InvalidRequest(d)
            | TokenError::UnsupportedGrantType(d)
            | TokenError::InvalidScope(d)
            | TokenError::InvalidTarget(d) => d.clone(),
            TokenError::InvalidClient(d)
            | TokenError::InvalidGrant(d)
            | TokenError::UnauthorizedClient(d)
            | TokenError::AuthorizationPending(d)
            | TokenError::SlowDown(d)
            | TokenError::ExpiredToken(d)
            | TokenError::AccessDenied(d) => (*d).to_owned(),
        }
    }
}
