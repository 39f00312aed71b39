//! Who may call the admin API: a bearer access token issued by this server
//! to a client holding the `portcullis:admin` scope, for the admin audience.

use portcullis_jose::{ClaimsPolicy, Verifier};
use serde_json::Value;

use crate::access_token::TYP;
use crate::{ClientId, UnixTime};

/// The scope that grants the admin API.
pub const ADMIN_SCOPE: &str = "portcullis:admin";
/// The audience of admin API tokens.
pub const ADMIN_AUDIENCE: &str = "urn:portcullis:admin";

/// Why a bearer token does not open the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdminAccessError {
    /// Not a valid, unexpired access token of this issuer for the admin audience.
    #[error("the access token is not valid for the admin API")]
    InvalidToken,
    /// Valid, but without the admin scope.
    #[error("the access token lacks the portcullis:admin scope")]
    InsufficientScope,
}

/// The caller of an admin request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminCaller {
    /// The client the token was issued to.
    pub client_id: ClientId,
    /// The token's `jti`, to check against the deny list.
    pub jti: String,
}

/// Checks an admin API bearer token (signature, `typ`, issuer, audience,
/// times, scope). The caller still checks the `jti` against the deny list.
pub fn check(
    verifier: &Verifier,
    issuer: &str,
    token: &str,
    now: UnixTime,
) -> Result<AdminCaller, AdminAccessError> {
    let policy = ClaimsPolicy::new(issuer, [ADMIN_AUDIENCE])
        .leeway(0)
        .require_type(TYP);
    let verified = verifier
        .verify(token, &policy, now.0)
        .map_err(|_| AdminAccessError::InvalidToken)?;
    let claims = verified.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let (Some(client), Some(jti)) = (text("client_id").and_then(ClientId::parse), text("jti"))
    else {
        return Err(AdminAccessError::InvalidToken);
    };
    if !text("scope").is_some_and(|s| s.split(' ').any(|s| s == ADMIN_SCOPE)) {
        return Err(AdminAccessError::InsufficientScope);
    }
    Ok(AdminCaller {
        client_id: client,
        jti: jti.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_jose::{Algorithm, SigningKey};
    use serde_json::json;

    #[test]
    fn only_admin_scoped_tokens_for_the_admin_audience_pass() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let verifier = Verifier::from_jwks(&key.public_jwks()).unwrap();
        let token = |aud: &str, scope: &str| {
            key.sign_jwt(
                TYP,
                &json!({"iss": "https://id", "aud": aud, "client_id": "ops", "jti": "j",
                                      "scope": scope, "sub": "ops", "exp": 100, "iat": 1}),
            )
            .unwrap()
        };
        let ok = check(
            &verifier,
            "https://id",
            &token(ADMIN_AUDIENCE, "a portcullis:admin"),
            UnixTime(5),
        );
        assert_eq!(ok.unwrap().client_id.as_str(), "ops");
        assert_eq!(
            check(
                &verifier,
                "https://id",
                &token(ADMIN_AUDIENCE, "a"),
                UnixTime(5)
            ),
            Err(AdminAccessError::InsufficientScope)
        );
        assert_eq!(
            check(
                &verifier,
                "https://id",
                &token("https://api", ADMIN_SCOPE),
                UnixTime(5)
            ),
            Err(AdminAccessError::InvalidToken)
        );
        assert_eq!(
            check(
                &verifier,
                "https://id",
                &token(ADMIN_AUDIENCE, ADMIN_SCOPE),
                UnixTime(100)
            ),
            Err(AdminAccessError::InvalidToken)
        );
    }
}
