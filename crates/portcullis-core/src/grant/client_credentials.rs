//! The client credentials grant (RFC 6749 section 4.4) with resource
//! indicators (RFC 8707) and scope narrowing.

use crate::access_token::AccessTokenGrant;
use crate::grant::{GrantError, Grants, Issuance, TokenPolicy};
use crate::{Client, GrantType, Resource, ScopeSet, TokenError, UnixTime};

/// A parsed client credentials request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentialsRequest {
    /// The requested scope, if the parameter was present.
    pub scope: Option<ScopeSet>,
    /// The requested resources (the `resource` parameter may repeat).
    pub resources: Vec<Resource>,
}

impl ClientCredentialsRequest {
    /// Parses the `scope` and `resource` parameters.
    pub fn parse(scope: Option<&str>, resources: &[&str]) -> Result<Self, TokenError> {
        let scope = scope
            .map(|s| {
                ScopeSet::parse(s).ok_or_else(|| {
                    TokenError::InvalidScope("the scope parameter is malformed".into())
                })
            })
            .transpose()?;
        Ok(ClientCredentialsRequest {
            scope,
            resources: Resource::parse_all(resources)?,
        })
    }
}

/// The client credentials grant: an access token for the client itself.
pub fn issue(
    grants: &Grants<'_>,
    client: &Client,
    request: ClientCredentialsRequest,
    now: UnixTime,
) -> Result<Issuance, GrantError> {
    Ok(Issuance {
        issued_token_type: None,
        access: Some(grant(client, request, grants.policy, now)?),
        id_token: None,
        refresh_token: None,
    })
}

/// Decides the token for an authenticated `client`.
///
/// The scope is the requested one when the client may have all of it
/// (otherwise `invalid_scope`), or everything the client may have when no
/// scope is requested. The audience is the requested resources when the client
/// may address each (otherwise `invalid_target`), else the client's configured
/// audiences, else the issuer.
pub fn grant(
    client: &Client,
    request: ClientCredentialsRequest,
    policy: &TokenPolicy,
    now: UnixTime,
) -> Result<AccessTokenGrant, TokenError> {
    if !client.allows(GrantType::ClientCredentials) {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the client_credentials grant",
        ));
    }
    let scope = match request.scope {
        None => client.scopes.clone(),
        Some(requested) => {
            if let Some(extra) = requested
                .iter()
                .find(|s| !client.scopes.iter().any(|a| a == *s))
            {
                return Err(TokenError::InvalidScope(format!(
                    "scope `{}` is not allowed for this client",
                    extra.as_str()
                )));
            }
            requested
        }
    };
    let audiences = Resource::audiences(client, &request.resources, &policy.issuer, false)?;
    Ok(AccessTokenGrant::new(
        &policy.issuer,
        client.id.as_str(),
        &client.id,
        &audiences,
        scope,
        now,
        policy.access_token_lifetime,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientId, Seconds};

    fn client(scopes: &str, audiences: &[&str]) -> Client {
        Client {
            id: ClientId::parse("svc").unwrap(),
            name: "svc".into(),
            secret_hash: None,
            grant_types: vec![GrantType::ClientCredentials],
            scopes: ScopeSet::parse(scopes).unwrap(),
            audiences: audiences
                .iter()
                .map(|a| Resource::parse(a).unwrap())
                .collect(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            require_pkce: false,
            allow_impersonation: false,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            created_at: UnixTime(0),
        }
    }

    fn policy() -> TokenPolicy {
        TokenPolicy {
            issuer: "https://id.example".into(),
            access_token_lifetime: Seconds(300),
            refresh_token_lifetime: Seconds(3000),
            refresh_reuse_interval: Seconds(0),
        }
    }

    fn request(scope: Option<&str>, resources: &[&str]) -> ClientCredentialsRequest {
        ClientCredentialsRequest::parse(scope, resources).unwrap()
    }

    #[test]
    fn no_scope_requested_grants_all_allowed_scopes() {
        let grant = grant(
            &client("a b", &[]),
            request(None, &[]),
            &policy(),
            UnixTime(1),
        )
        .unwrap();
        assert_eq!(grant.claims.scope, "a b");
        assert_eq!(grant.claims.sub, "svc");
        assert_eq!(grant.claims.aud, vec!["https://id.example".to_owned()]);
        assert_eq!(grant.claims.exp, 301);
    }

    #[test]
    fn a_narrower_scope_is_granted_as_asked() {
        let grant = grant(
            &client("a b", &[]),
            request(Some("b"), &[]),
            &policy(),
            UnixTime(1),
        )
        .unwrap();
        assert_eq!(grant.claims.scope, "b");
    }

    #[test]
    fn a_wider_scope_is_invalid_scope() {
        let err = grant(
            &client("a", &[]),
            request(Some("a admin"), &[]),
            &policy(),
            UnixTime(1),
        )
        .unwrap_err();
        assert_eq!(err.code(), "invalid_scope");
        assert!(err.description().contains("admin"));
    }

    #[test]
    fn resources_must_be_among_the_clients_audiences() {
        let c = client("a", &["https://api.one", "https://api.two"]);
        let ok = grant(
            &c,
            request(None, &["https://api.two"]),
            &policy(),
            UnixTime(1),
        )
        .unwrap();
        assert_eq!(ok.claims.aud, vec!["https://api.two".to_owned()]);
        let all = grant(&c, request(None, &[]), &policy(), UnixTime(1)).unwrap();
        assert_eq!(all.claims.aud.len(), 2);
        let err = grant(&c, request(None, &["https://evil"]), &policy(), UnixTime(1)).unwrap_err();
        assert_eq!(err.code(), "invalid_target");
    }

    #[test]
    fn malformed_parameters_are_refused_with_their_own_codes() {
        assert_eq!(
            ClientCredentialsRequest::parse(Some("a\"b"), &[])
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
        assert_eq!(
            ClientCredentialsRequest::parse(None, &["not a uri"])
                .unwrap_err()
                .code(),
            "invalid_target"
        );
    }

    #[test]
    fn a_client_without_the_grant_is_unauthorized() {
        let mut c = client("a", &[]);
        c.grant_types.clear();
        let err = grant(&c, request(None, &[]), &policy(), UnixTime(1)).unwrap_err();
        assert_eq!(err.code(), "unauthorized_client");
    }
}
