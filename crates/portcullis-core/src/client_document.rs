//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
//! the MCP authorization spec's way in): a `client_id` that is an https URL
//! names a JSON document, served there, that describes the client. The
//! server fetches it (in `portcullis-server`, size and time limited, never
//! from private addresses) and this module decides what client it makes.
//!
//! Such a client is always public (it cannot hold a secret its document
//! would publish), gets what a self-registered client gets
//! ([`SelfService`]), and must name itself: the document's `client_id` is
//! its URL.

use serde_json::Value;

use crate::registration::{ClientMetadata, MetadataError, SelfService};
use crate::{Client, ClientId, UnixTime};

/// The largest document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;

/// Whether `id` is the URL of a metadata document: `https://` (or
/// `http://` when `allow_http`, for tests and closed networks) with a host
/// and a path, no fragment, no credentials.
pub fn names_a_document(id: &ClientId, allow_http: bool) -> bool {
    let text = id.as_str();
    let rest = match text.strip_prefix("https://") {
        Some(rest) => rest,
        None if allow_http => match text.strip_prefix("http://") {
            Some(rest) => rest,
            None => return false,
        },
        None => return false,
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    !authority.is_empty()
        && !authority.contains('@')
        && !path.is_empty()
        && !text.contains('#')
        && !path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
}

/// The client a fetched document describes, or why it is refused.
pub fn client_from_document(
    id: &ClientId,
    body: &[u8],
    policy: &SelfService,
    now: UnixTime,
) -> Result<Client, MetadataError> {
    let bad = |why: &str| MetadataError::Metadata(why.to_owned());
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(bad("the client metadata document is too large"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| bad("the client metadata document is not JSON"))?;
    let object = value
        .as_object()
        .ok_or_else(|| bad("the client metadata document is not a JSON object"))?;
    if object.get("client_id").and_then(Value::as_str) != Some(id.as_str()) {
        return Err(bad(
            "the document's client_id is not the URL it was fetched from",
        ));
    }
    if object.contains_key("client_secret") || object.contains_key("client_secret_expires_at") {
        return Err(bad("a client metadata document cannot carry a secret"));
    }
    match object
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
    {
        None | Some("none") => {}
        Some(other) => {
            return Err(MetadataError::Metadata(format!(
                "token_endpoint_auth_method `{other}` is not supported for metadata documents: use none"
            )));
        }
    }
    let mut metadata: ClientMetadata = serde_json::from_value(value.clone())
        .map_err(|e| MetadataError::Metadata(format!("client metadata: {e}")))?;
    metadata.token_endpoint_auth_method = Some("none".to_owned());
    let new = metadata.to_new_client(policy)?;
    Ok(new.into_client(id.clone(), None, now))
}

/// The origin a document client comes from, to show on the consent page;
/// `None` for other clients.
pub fn origin_of(client: &Client) -> Option<&str> {
    let text = client.id.as_str();
    let scheme_end = text.find("://")? + 3;
    let end = text[scheme_end..]
        .find('/')
        .map_or(text.len(), |i| scheme_end + i);
    names_a_document(&client.id, true).then(|| &text[scheme_end..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GrantType, ScopeSet};
    use serde_json::json;

    const URL: &str = "https://agent.example/oauth/client.json";

    fn id(text: &str) -> ClientId {
        ClientId::parse(text).unwrap_or_else(|| unreachable!())
    }

    fn policy() -> SelfService {
        SelfService {
            scopes: ScopeSet::parse("openid offline_access tools:call").unwrap_or_default(),
            audiences: vec![],
        }
    }

    fn document(extra: Value) -> Vec<u8> {
        let mut doc = json!({
            "client_id": URL,
            "client_name": "An agent",
            "redirect_uris": ["http://127.0.0.1:33418/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid tools:call",
        });
        if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                doc.insert(k.clone(), v.clone());
            }
        }
        serde_json::to_vec(&doc).unwrap_or_default()
    }

    #[test]
    fn document_urls_are_https_with_a_path() {
        assert!(names_a_document(&id(URL), false));
        for not in [
            "https://agent.example",
            "https://agent.example/",
            "http://agent.example/client.json",
            "https://user@agent.example/client.json",
            "https://agent.example/a/../client.json",
            "https://agent.example/client.json#x",
            "agent-cli",
        ] {
            assert!(!names_a_document(&id(not), false), "{not}");
        }
        assert!(names_a_document(
            &id("http://127.0.0.1:4000/client.json"),
            true
        ));
    }

    #[test]
    fn a_document_makes_a_public_client_named_by_its_url() {
        let client = client_from_document(&id(URL), &document(json!({})), &policy(), UnixTime(5))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(client.id.as_str(), URL);
        assert!(client.is_public());
        assert_eq!(client.name, "An agent");
        assert_eq!(
            client.grant_types,
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        assert_eq!(origin_of(&client), Some("agent.example"));
    }

    #[test]
    fn documents_that_lie_or_overreach_are_refused() {
        let refused =
            |body: Vec<u8>| client_from_document(&id(URL), &body, &policy(), UnixTime(5)).is_err();
        assert!(refused(document(
            json!({"client_id": "https://other.example/c.json"})
        )));
        assert!(refused(document(json!({"client_secret": "s"}))));
        assert!(refused(document(
            json!({"token_endpoint_auth_method": "client_secret_basic"})
        )));
        assert!(refused(document(
            json!({"token_endpoint_auth_method": "private_key_jwt"})
        )));
        assert!(refused(document(json!({"scope": "openid admin"}))));
        assert!(refused(document(json!({"grant_types": ["password"]}))));
        assert!(refused(document(json!({"redirect_uris": ["ftp://x/cb"]}))));
        assert!(refused(b"[]".to_vec()));
        assert!(refused(b"not json".to_vec()));
        assert!(refused(document(
            json!({"padding": "x".repeat(MAX_DOCUMENT_BYTES)})
        )));
    }
}
