//! Client authentication at the token endpoint: `client_secret_basic`
//! (RFC 6749 section 2.3.1, with form-encoded credentials) and `client_secret_post`.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::sync::Arc;

use portcullis_core::{Client, ClientId, ClientSecret, SecretHash, TokenError};

use crate::error::ApiError;
use crate::form::Form;
use crate::state::AppState;

/// The credentials a client presented.
#[derive(Debug)]
pub(crate) struct Credentials {
    pub id: ClientId,
    pub secret: ClientSecret,
}

/// Authenticates the calling client: exactly one set of credentials, a known
/// client, its secret (compared in constant time, with the same work for an
/// unknown client).
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Arc<Client>, ApiError> {
    let credentials = credentials(headers, form)?;
    let client = state.clients.get(&*state.store, &credentials.id).await?;
    match client.filter(|c| c.secret_matches(&credentials.secret)) {
        Some(client) => Ok(client),
        None => {
            let _ = SecretHash::of(b"").matches(&credentials.secret);
            Err(TokenError::InvalidClient("client authentication failed").into())
        }
    }
}

/// Like [`authenticate`], but a public client may identify itself with
/// `client_id` alone (RFC 6749 section 2.3; PKCE then binds the code to it).
/// A confidential client must always authenticate.
pub(crate) async fn authenticate_or_public(
    state: &AppState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Arc<Client>, ApiError> {
    let no_credentials =
        headers.get(header::AUTHORIZATION).is_none() && form.get("client_secret").is_none();
    if !no_credentials {
        return authenticate(state, headers, form).await;
    }
    let id = form
        .get("client_id")
        .and_then(ClientId::parse)
        .ok_or(TokenError::InvalidClient(
            "client authentication is required",
        ))?;
    match state.clients.get(&*state.store, &id).await? {
        Some(client) if client.is_public() => Ok(client),
        _ => Err(TokenError::InvalidClient("client authentication failed").into()),
    }
}

/// Extracts exactly one set of client credentials from the request.
pub(crate) fn credentials(headers: &HeaderMap, form: &Form) -> Result<Credentials, TokenError> {
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| TokenError::InvalidClient("malformed Authorization header"))?;
            let (scheme, encoded) = value.split_once(' ').unwrap_or((value, ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(TokenError::InvalidClient(
                    "unsupported authentication scheme",
                ));
            }
            Some(parse_basic(encoded.trim())?)
        }
    };
    let posted_secret = form.get("client_secret");
    match (basic, posted_secret) {
        (Some(_), Some(_)) => Err(TokenError::InvalidRequest(
            "use only one client authentication method".into(),
        )),
        (Some(creds), None) => {
            if form
                .get("client_id")
                .is_some_and(|id| id != creds.id.as_str())
            {
                return Err(TokenError::InvalidRequest(
                    "client_id does not match the authenticated client".into(),
                ));
            }
            Ok(creds)
        }
        (None, Some(secret)) => {
            let id = form
                .get("client_id")
                .and_then(ClientId::parse)
                .ok_or(TokenError::InvalidClient("client authentication failed"))?;
            Ok(Credentials {
                id,
                secret: ClientSecret::new(secret),
            })
        }
        (None, None) => Err(TokenError::InvalidClient(
            "client authentication is required",
        )),
    }
}

fn parse_basic(encoded: &str) -> Result<Credentials, TokenError> {
    let malformed = TokenError::InvalidClient("malformed Basic credentials");
    let decoded = STANDARD.decode(encoded).map_err(|_| malformed.clone())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed.clone())?;
    let (id, secret) = decoded.split_once(':').ok_or(malformed.clone())?;
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let id = ClientId::parse(&unescape(id)).ok_or(malformed)?;
    Ok(Credentials {
        id,
        secret: ClientSecret::new(unescape(secret)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let encoded = STANDARD.encode("my%2Bclient:s%3Acret+x");
        let creds = parse_basic(&encoded).unwrap();
        assert_eq!(creds.id.as_str(), "my+client");
        assert_eq!(creds.secret.expose(), "s:cret x");
    }

    #[test]
    fn malformed_basic_is_invalid_client() {
        for bad in [
            "!!!",
            &STANDARD.encode("nocolon"),
            &STANDARD.encode(":secret"),
        ] {
            assert_eq!(parse_basic(bad).unwrap_err().code(), "invalid_client");
        }
    }
}
