//! The resource owner password credentials grant (RFC 6749 section 4.3), for
//! clients that opted in only: RFC 9700 says it MUST NOT be used, but the
//! tutorials Portcullis replaces rely on it.

use crate::{Client, GrantType, ScopeSet, TokenError};

/// Checks what can be checked before the password: the client's opt-in and
/// the scope. Returns the scope to grant (the requested one, or everything
/// the client may have).
pub fn check_request(client: &Client, scope: Option<&str>) -> Result<ScopeSet, TokenError> {
    if !client.allows(GrantType::Password) {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the password grant",
        ));
    }
    match scope {
        None => Ok(client.scopes.clone()),
        Some(text) => {
            let requested = ScopeSet::parse(text)
                .ok_or_else(|| TokenError::InvalidScope("the scope is malformed".into()))?;
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
            check_request(&opted, Some("openid")).map(|s| s.to_string()),
            Ok("openid".into())
        );
        assert!(matches!(
            check_request(&opted, Some("admin")),
            Err(TokenError::InvalidScope(_))
        ));
        let other = client(vec![GrantType::AuthorizationCode]);
        assert!(matches!(
            check_request(&other, None),
            Err(TokenError::UnauthorizedClient(_))
        ));
    }
}
