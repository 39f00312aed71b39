//! The implicit responses of `/authorize` (OIDC Core 3.2.2.5), for clients
//! registered for them: an access token and/or an ID token, never a refresh
//! token. Decided here like every other grant; the server signs the result
//! with the same function as `/token`'s.

use crate::access_token::AccessTokenGrant;
use crate::authorization_request::{AuthorizationRequest, ResponseType};
use crate::grant::{IdTokenFor, Issuance, TokenPolicy};
use crate::user::User;
use crate::{Client, TokenError, UnixTime, userinfo};

/// What an implicit response for `user`, who authenticated at `auth_time`,
/// carries. An ID token without an access token carries the user's claims
/// itself, since nothing could fetch them from `/userinfo`.
pub fn decide(
    policy: &TokenPolicy,
    client: &Client,
    user: &User,
    request: &AuthorizationRequest,
    auth_time: UnixTime,
    now: UnixTime,
) -> Result<Issuance, TokenError> {
    let access = matches!(
        request.response_type,
        ResponseType::Token | ResponseType::IdTokenToken
    )
    .then(|| {
        AccessTokenGrant::for_user(
            policy,
            client,
            &user.id,
            request.scope.clone(),
            &[],
            None,
            now,
        )
    })
    .transpose()?;
    let id_token = request.response_type.has_id_token().then(|| IdTokenFor {
        user: user.id.clone(),
        client: client.id.clone(),
        auth_time,
        nonce: request.nonce.clone(),
        user_claims: access
            .is_none()
            .then(|| userinfo::claims(user, &request.scope)),
    });
    Ok(Issuance {
        access,
        id_token,
        refresh_token: None,
    })
}
