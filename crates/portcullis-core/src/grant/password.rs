//! The resource owner password credentials grant (RFC 6749 section 4.3), for
//! clients that opted in only: RFC 9700 says it MUST NOT be used, but the
//! tutorials Portcullis replaces rely on it.

use crate::access_token::AccessTokenGrant;
use crate::grant::{GrantError, Grants, Issuance, id_token_for, live_until, refresh_token};
use crate::password::Password;
use crate::sign_in::SignInRefused;
use crate::store::FamilyRecord;
use crate::token_hash::TokenHash;
use crate::{Client, GrantType, Resource, ScopeSet, TokenError, UnixTime, random};

/// A token request with a user's password.
#[derive(Debug)]
pub struct PasswordRequest {
    /// The account name as typed (required once the client may use the grant).
    pub username: Option<String>,
    /// The password.
    pub password: Option<Password>,
    /// The requested scope, if any.
    pub scope: Option<ScopeSet>,
    /// The requested resources (RFC 8707).
    pub resources: Vec<Resource>,
    /// The caller's address, for throttling.
    pub address: String,
}

/// The password grant: the client's opt-in and scope, then the password
/// sign-in use case, then a family of its own with its first refresh token.
pub async fn issue(
    grants: &Grants<'_>,
    client: &Client,
    request: PasswordRequest,
    now: UnixTime,
) -> Result<Issuance, GrantError> {
    let scope = check_request(client, request.scope)?;
    let missing = |name: &str| TokenError::InvalidRequest(format!("{name} is missing"));
    let username = request.username.ok_or_else(|| missing("username"))?;
    let password = request.password.ok_or_else(|| missing("password"))?;
    let policy = grants.policy;
    let user = match grants
        .sign_in
        .sign_in(&username, password, &request.address, now)
        .await
    {
        Ok(user) => user,
        Err(SignInRefused::Throttled(_)) => {
            return Err(
                TokenError::InvalidGrant("too many failed sign-ins; try again later").into(),
            );
        }
        Err(SignInRefused::Wrong) => return Err(GrantError::WrongPassword),
        Err(SignInRefused::Store(err)) => return Err(err.into()),
    };
    let family = TokenHash::of(&random::token::<32>());
    let access = AccessTokenGrant::for_user(
        policy,
        client,
        &user.id,
        scope.clone(),
        &request.resources,
        Some(&family),
        now,
    )?;
    let refresh = refresh_token::offered(client, &scope).then(|| {
        refresh_token::first_of_family(
            family,
            &client.id,
            &user.id,
            scope.clone(),
            now,
            now,
            policy.refresh_token_lifetime,
        )
    });
    let record = FamilyRecord {
        family,
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        created_at: now,
        live_until: live_until(&access, refresh.as_ref()),
    };
    grants
        .store
        .start_family(&record, refresh.as_ref().map(|r| &r.record))
        .await?;
    Ok(Issuance {
        issued_token_type: None,
        id_token: id_token_for(client, &user.id, &access.scope, now, None),
        access: Some(access),
        refresh_token: refresh.map(|r| r.token),
    })
}

/// Checks what can be checked before the password: the client's opt-in and
/// the scope. Returns the scope to grant (the requested one, or everything
/// the client may have).
pub fn check_request(client: &Client, scope: Option<ScopeSet>) -> Result<ScopeSet, TokenError> {
    if !client.allows(GrantType::Password) {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the password grant",
        ));
    }
    match scope {
        None => Ok(client.scopes.clone()),
        Some(requested) => {
            if requested.is_subset_of(&client.scopes) {
                Ok(requested)
            } else {
                Err(TokenError::InvalidScope(
                    "the scope exceeds what this client may ask for".into(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientId, UnixTime};

    fn client(grants: Vec<GrantType>) -> Client {
        Client {
            id: ClientId::parse("legacy").unwrap_or_else(|| unreachable!()),
            name: "legacy".into(),
            secret_hash: None,
            grant_types: grants,
            scopes: ScopeSet::parse("openid profile").unwrap_or_default(),
            audiences: vec![],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            require_pkce: false,
            allow_impersonation: false,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            created_at: UnixTime(0),
        }
    }

    #[test]
    fn only_opted_in_clients_and_only_their_scopes() {
        let opted = client(vec![GrantType::Password]);
        assert_eq!(
            check_request(&opted, None).map(|s| s.to_string()),
            Ok("openid profile".into())
        );
        assert_eq!(
            check_request(&opted, ScopeSet::parse("openid")).map(|s| s.to_string()),
            Ok("openid".into())
        );
        assert!(matches!(
            check_request(&opted, ScopeSet::parse("admin")),
            Err(TokenError::InvalidScope(_))
        ));
        let other = client(vec![GrantType::AuthorizationCode]);
        assert!(matches!(
            check_request(&other, None),
            Err(TokenError::UnauthorizedClient(_))
        ));
    }
}
