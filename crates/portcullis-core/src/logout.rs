//! OpenID Connect RP-initiated logout 1.0: which client asks, whether its
//! `id_token_hint` is one of ours, and where the browser may be sent back.
//!
//! The browser goes back only to a `post_logout_redirect_uri` registered for
//! the client, matched exactly; a request that cannot be tied to a client
//! signs out and stays on this server.

use portcullis_jose::{ClaimsPolicy, Verifier};
use serde_json::Value;

use crate::{Client, ClientId, UnixTime};

/// How long past its `exp` an ID token is still accepted as a hint: relying
/// parties log out with the ID token they got at sign-in, often expired.
pub const HINT_GRACE_SECONDS: i64 = 30 * 86_400;

/// What a relying party sent to the end-session endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogoutRequest {
    /// A previously issued ID token.
    pub id_token_hint: Option<String>,
    /// The client, when it names itself.
    pub client_id: Option<String>,
    /// Where to send the browser after signing out.
    pub post_logout_redirect_uri: Option<String>,
    /// Opaque value returned to the client.
    pub state: Option<String>,
}

/// Why a logout request is refused (shown on a page, never redirected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoutError {
    /// The `id_token_hint` is not an ID token this server issued.
    #[error("the id_token_hint is not an ID token issued here")]
    InvalidHint,
    /// `client_id` and the hint's audience differ.
    #[error("client_id does not match the id_token_hint")]
    ClientMismatch,
    /// The client is unknown.
    #[error("the client is unknown")]
    UnknownClient,
    /// A redirect was asked for without naming the client.
    #[error("post_logout_redirect_uri needs client_id or id_token_hint")]
    NoClient,
    /// The redirect is not registered for the client.
    #[error("post_logout_redirect_uri is not registered for this client")]
    UnregisteredRedirect,
}

/// The hint's subject and client, after checking it is ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The user the ID token was issued for.
    pub sub: String,
    /// The client it was issued to.
    pub client_id: ClientId,
}

/// Checks an `id_token_hint`: signed by one of our published keys, issued
/// by `issuer`, an ID token (`typ` JWT), expired for at most
/// [`HINT_GRACE_SECONDS`].
pub fn check_hint(
    verifier: &Verifier,
    issuer: &str,
    token: &str,
    now: UnixTime,
) -> Result<Hint, LogoutError> {
    let policy = ClaimsPolicy::issuer_only(issuer)
        .leeway(HINT_GRACE_SECONDS)
        .require_type("JWT");
    let verified = verifier
        .verify(token, &policy, now.0)
        .map_err(|_| LogoutError::InvalidHint)?;
    let claims = verified.claims;
    let sub = claims.get("sub").and_then(Value::as_str);
    // `azp` names the client when `aud` holds several.
    let client = claims
        .get("azp")
        .and_then(Value::as_str)
        .or_else(|| match claims.get("aud") {
            Some(Value::String(aud)) => Some(aud.as_str()),
            Some(Value::Array(auds)) if auds.len() == 1 => auds[0].as_str(),
            _ => None,
        });
    match (sub, client.and_then(ClientId::parse)) {
        (Some(sub), Some(client_id)) => Ok(Hint {
            sub: sub.to_owned(),
            client_id,
        }),
        _ => Err(LogoutError::InvalidHint),
    }
}

/// The client a logout request names, from `client_id` and the hint; they
/// must agree when both are given.
pub fn client_named(
    request: &LogoutRequest,
    hint: Option<&Hint>,
) -> Result<Option<ClientId>, LogoutError> {
    let named = match &request.client_id {
        Some(id) => Some(ClientId::parse(id).ok_or(LogoutError::UnknownClient)?),
        None => None,
    };
    match (named, hint) {
        (Some(named), Some(hint)) if named != hint.client_id => Err(LogoutError::ClientMismatch),
        (Some(named), _) => Ok(Some(named)),
        (None, Some(hint)) => Ok(Some(hint.client_id.clone())),
        (None, None) => Ok(None),
    }
}

/// Where the browser goes after signing out: the requested
/// `post_logout_redirect_uri` if registered for `client` (exact match),
/// with `state` added; `None` when none was asked for.
pub fn return_to(
    request: &LogoutRequest,
    client: Option<&Client>,
) -> Result<Option<String>, LogoutError> {
    let Some(uri) = &request.post_logout_redirect_uri else {
        return Ok(None);
    };
    let client = client.ok_or(LogoutError::NoClient)?;
    if !client
        .post_logout_redirect_uris
        .iter()
        .any(|registered| registered.as_str() == uri)
    {
        return Err(LogoutError::UnregisteredRedirect);
    }
    let mut target = uri.clone();
    if let Some(state) = &request.state {
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .append_pair("state", state)
                .finish(),
        );
    }
    Ok(Some(target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redirect_uri::RedirectUri;
    use crate::{GrantType, ScopeSet};
    use portcullis_jose::{Algorithm, SigningKey};
    use serde_json::json;

    fn client() -> Client {
        Client {
            id: ClientId::parse("app").unwrap(),
            name: "App".into(),
            secret_hash: None,
            grant_types: vec![GrantType::AuthorizationCode],
            scopes: ScopeSet::parse("openid").unwrap(),
            audiences: vec![],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![
                RedirectUri::parse("https://app.example/bye?x=1").unwrap(),
            ],
            require_pkce: false,
            allow_impersonation: false,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            created_at: UnixTime(0),
        }
    }

    #[test]
    fn hints_are_our_id_tokens_even_somewhat_expired() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let verifier = Verifier::from_jwks(&key.public_jwks()).unwrap();
        let id = |typ: &str, iss: &str| {
            key.sign_jwt(
                typ,
                &json!({"iss": iss, "sub": "u1", "aud": "app", "exp": 100, "iat": 1}),
            )
            .unwrap()
        };
        let hint = check_hint(
            &verifier,
            "https://id",
            &id("JWT", "https://id"),
            UnixTime(5000),
        )
        .unwrap();
        assert_eq!(
            hint,
            Hint {
                sub: "u1".into(),
                client_id: ClientId::parse("app").unwrap()
            }
        );
        let too_old = UnixTime(100 + HINT_GRACE_SECONDS + 1);
        for (token, now) in [
            (id("JWT", "https://id"), too_old),
            (id("at+jwt", "https://id"), UnixTime(50)),
            (id("JWT", "https://other"), UnixTime(50)),
            ("garbage".to_owned(), UnixTime(50)),
        ] {
            assert_eq!(
                check_hint(&verifier, "https://id", &token, now),
                Err(LogoutError::InvalidHint)
            );
        }
    }

    #[test]
    fn the_browser_returns_only_to_a_registered_uri_of_the_named_client() {
        let c = client();
        let mut request = LogoutRequest {
            post_logout_redirect_uri: Some("https://app.example/bye?x=1".into()),
            state: Some("a b&c".into()),
            ..LogoutRequest::default()
        };
        assert_eq!(
            return_to(&request, Some(&c)).unwrap().as_deref(),
            Some("https://app.example/bye?x=1&state=a+b%26c")
        );
        assert_eq!(return_to(&request, None), Err(LogoutError::NoClient));
        request.post_logout_redirect_uri = Some("https://app.example/bye?x=2".into());
        assert_eq!(
            return_to(&request, Some(&c)),
            Err(LogoutError::UnregisteredRedirect)
        );
        request.post_logout_redirect_uri = None;
        assert_eq!(return_to(&request, Some(&c)), Ok(None));

        let hint = Hint {
            sub: "u1".into(),
            client_id: ClientId::parse("app").unwrap(),
        };
        request.client_id = Some("other".into());
        assert_eq!(
            client_named(&request, Some(&hint)),
            Err(LogoutError::ClientMismatch)
        );
        request.client_id = None;
        assert_eq!(
            client_named(&request, Some(&hint)).unwrap(),
            Some(hint.client_id.clone())
        );
    }
}
