//! The implicit responses of `/authorize` (OIDC Core 3.2.2.5), for clients
//! registered for them: an access token and/or an ID token, never a refresh
//! token. Decided here like every other grant; the server signs the result
//! with the same function as `/token`'s.

use crate::access_token::AccessTokenGrant;
use crate::authorization_request::{AuthorizationRequest, ResponseType};
use crate::grant::{GrantError, Grants, IdTokenFor, Issuance};
use crate::store::FamilyRecord;
use crate::token_hash::TokenHash;
use crate::user::User;
use crate::{Client, UnixTime, random, userinfo};

/// What an implicit response for `user`, who authenticated at `auth_time`
/// in the session `sid`, carries. An access token starts a family of its own, so withdrawing the
/// consent or revoking the grant ends it like any other. An ID token without
/// an access token carries the user's claims itself, since nothing could
/// fetch them from `/userinfo`.
pub async fn issue(
    grants: &Grants<'_>,
    client: &Client,
    user: &User,
    request: &AuthorizationRequest,
    (auth_time, sid): (UnixTime, String),
    now: UnixTime,
) -> Result<Issuance, GrantError> {
    let with_access = matches!(
        request.response_type,
        ResponseType::Token | ResponseType::IdTokenToken
    );
    let access = if with_access {
        let family = TokenHash::of(&random::token::<32>());
        let access = AccessTokenGrant::for_user(
            grants.policy,
            client,
            &user.id,
            request.scope.clone(),
            &[],
            Some(&family),
            now,
        )?;
        let record = FamilyRecord {
            family,
            client_id: client.id.clone(),
            user_id: user.id.clone(),
            created_at: now,
            live_until: UnixTime(access.claims.exp),
        };
        grants.store.start_family(&record, None).await?;
        Some(access)
    } else {
        None
    };
    let id_token = request.response_type.has_id_token().then(|| IdTokenFor {
        user: user.id.clone(),
        client: client.id.clone(),
        auth_time,
        nonce: request.nonce.clone(),
        sid: Some(sid),
        user_claims: access
            .is_none()
            .then(|| userinfo::claims(user, &request.scope)),
    });
    Ok(Issuance {
        issued_token_type: None,
        access,
        id_token,
        refresh_token: None,
    })
}
