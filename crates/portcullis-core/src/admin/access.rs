//! Who may call the admin API: a bearer access token issued by this server
//! to a client holding the `portcullis:admin` scope, for the admin audience.

use portcullis_jose::Verifier;

use crate::liveness::{NotLive, check_access_token};
use crate::{ClientId, Store, StoreError, UnixTime};

/// The scope that grants the admin API.
pub const ADMIN_SCOPE: &str = "portcullis:admin";
/// The audience of admin API tokens.
pub const ADMIN_AUDIENCE: &str = "urn:portcullis:admin";

/// Why a bearer token does not open the admin API.
#[derive(Debug, thiserror::Error)]
pub enum AdminAccessError {
    /// Not a valid, unexpired access token of this issuer for the admin audience.
    #[error("the access token is not valid for the admin API")]
    InvalidToken,
    /// Valid, but without the admin scope.
    #[error("the access token lacks the portcullis:admin scope")]
    InsufficientScope,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The caller of an admin request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminCaller {
    /// The client the token was issued to.
    pub client_id: ClientId,
    /// The token's `jti`.
    pub jti: String,
}

/// Checks an admin API bearer token: live ([`check_access_token`]) for the
/// admin audience, with the admin scope.
pub async fn check(
    store: &dyn Store,
    verifier: &Verifier,
    issuer: &str,
    token: &str,
    now: UnixTime,
) -> Result<AdminCaller, AdminAccessError> {
    let live = match check_access_token(
        store,
        verifier,
        Some(issuer),
        Some(ADMIN_AUDIENCE),
        token,
        now,
    )
    .await
    {
        Ok(live) => live,
        Err(NotLive::Store(err)) => return Err(AdminAccessError::Store(err)),
        Err(NotLive::Invalid | NotLive::Revoked) => return Err(AdminAccessError::InvalidToken),
    };
    if !live.scope.iter().any(|s| s.as_str() == ADMIN_SCOPE) {
        return Err(AdminAccessError::InsufficientScope);
    }
    Ok(AdminCaller {
        client_id: live.client_id,
        jti: live.jti,
    })
}
