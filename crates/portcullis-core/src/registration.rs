//! Dynamic client registration (RFC 7591) and management (RFC 7592): which
//! metadata a client may register for itself, and how it is shown back.
//!
//! A self-registered client gets less than an administrator can give: no
//! implicit or password grant, only the scopes and audiences of the
//! registration policy ([`SelfService`]), and redirect URIs that are https
//! or loopback http.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::ClientRejected;
use crate::redirect_uri::RedirectUri;
use crate::{Client, GrantType, NewClient, ScopeSet};

/// Who may register clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Nobody: the endpoint answers 404 and discovery does not list it.
    Off,
    /// Anyone.
    Open,
    /// Holders of an initial access token (`portcullis registration-token create`).
    Token,
}

impl RegistrationMode {
    /// Parses a setting value: `off`, `open` or `token`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "off" => Some(RegistrationMode::Off),
            "open" => Some(RegistrationMode::Open),
            "token" => Some(RegistrationMode::Token),
            _ => None,
        }
    }
}

/// What a client that registers itself (or is known by its metadata
/// document) may have: the `registration_scopes` and `registration_audiences`
/// settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelfService {
    /// Scopes it may register for.
    pub scopes: ScopeSet,
    /// Resources it may request tokens for (RFC 8707); all of them are its
    /// audiences.
    pub audiences: Vec<crate::Resource>,
}

/// Client metadata as a client sends it (RFC 7591 section 2). Fields this
/// server does not use are ignored, as the RFC allows.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClientMetadata {
    /// Where authorization responses may go.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// `none` (a public client), `client_secret_basic` or `client_secret_post`.
    pub token_endpoint_auth_method: Option<String>,
    /// Grant types; `authorization_code` when absent.
    pub grant_types: Option<Vec<String>>,
    /// Response types; `code` when absent and the code grant is asked for.
    pub response_types: Option<Vec<String>>,
    /// The name shown to people on the consent page.
    pub client_name: Option<String>,
    /// Space-separated scopes; `openid` when absent.
    pub scope: Option<String>,
    /// Where the browser may return after logout.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens are sent (OpenID Connect Back-Channel Logout 2.2).
    pub backchannel_logout_uri: Option<String>,
    /// Whether logout tokens must carry `sid`.
    pub backchannel_logout_session_required: Option<bool>,
}

/// Why metadata is refused (RFC 7591 section 3.2.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// A redirect URI is unacceptable.
    #[error("{0}")]
    RedirectUri(String),
    /// Other metadata is unacceptable or inconsistent.
    #[error("{0}")]
    Metadata(String),
}

impl MetadataError {
    /// The RFC 7591 error code.
    pub fn code(&self) -> &'static str {
        match self {
            MetadataError::RedirectUri(_) => "invalid_redirect_uri",
            MetadataError::Metadata(_) => "invalid_client_metadata",
        }
    }
}

/// Grants a client may register for itself.
const SELF_SERVICE_GRANTS: [GrantType; 4] = [
    GrantType::AuthorizationCode,
    GrantType::RefreshToken,
    GrantType::ClientCredentials,
    GrantType::DeviceCode,
];

fn web_uri(text: &str) -> Result<RedirectUri, MetadataError> {
    let uri = RedirectUri::parse(text).map_err(|e| MetadataError::RedirectUri(e.to_string()))?;
    if !(text.starts_with("https://") || text.starts_with("http://")) {
        return Err(MetadataError::RedirectUri(format!(
            "`{text}`: only https URIs (or http to a loopback address) can be registered here"
        )));
    }
    Ok(uri)
}

impl ClientMetadata {
    /// Checks the metadata against `allowed_scopes` and turns it into a
    /// client to register (or the new state of a registered one).
    pub fn to_new_client(&self, policy: &SelfService) -> Result<NewClient, MetadataError> {
        let allowed_scopes = &policy.scopes;
        let bad = |text: String| Err(MetadataError::Metadata(text));
        let public = match self.token_endpoint_auth_method.as_deref() {
            None | Some("client_secret_basic" | "client_secret_post") => false,
            Some("none") => true,
            Some(other) => {
                return bad(format!(
                    "token_endpoint_auth_method `{other}` is not supported"
                ));
            }
        };
        let mut grant_types = Vec::new();
        for name in self
            .grant_types
            .clone()
            .unwrap_or_else(|| vec!["authorization_code".to_owned()])
        {
            let grant: GrantType = name.parse().map_err(MetadataError::Metadata)?;
            if !SELF_SERVICE_GRANTS.contains(&grant) {
                return bad(format!(
                    "grant type `{grant}` is not available to clients that register themselves"
                ));
            }
            grant_types.push(grant);
        }
        let code = grant_types.contains(&GrantType::AuthorizationCode);
        let response_types = self.response_types.clone().unwrap_or_else(|| {
            if code {
                vec!["code".to_owned()]
            } else {
                vec![]
            }
        });
        if let Some(other) = response_types.iter().find(|r| *r != "code") {
            return bad(format!("response type `{other}` is not supported"));
        }
        if code == response_types.is_empty() {
            return bad(
                "the authorization_code grant and the code response type go together".to_owned(),
            );
        }
        let scopes = match &self.scope {
            None => ScopeSet::parse("openid").unwrap_or_default(),
            Some(text) => ScopeSet::parse(text)
                .ok_or_else(|| MetadataError::Metadata("malformed scope".into()))?,
        };
        if !scopes.is_subset_of(allowed_scopes) {
            return bad(format!(
                "scope `{scopes}` is beyond what clients may register for: {allowed_scopes}"
            ));
        }
        let name = self
            .client_name
            .clone()
            .unwrap_or_else(|| "An unnamed application".to_owned());
        let redirect_uris = self
            .redirect_uris
            .iter()
            .map(|u| web_uri(u))
            .collect::<Result<Vec<_>, _>>()?;
        let post_logout_redirect_uris = self
            .post_logout_redirect_uris
            .iter()
            .map(|u| web_uri(u))
            .collect::<Result<Vec<_>, _>>()?;
        let new = NewClient {
            name,
            grant_types,
            scopes,
            audiences: policy.audiences.clone(),
            redirect_uris,
            post_logout_redirect_uris,
            public,
            // No registration metadata asks for it; public clients need PKCE anyway.
            require_pkce: false,
            allow_impersonation: false,
            backchannel_logout_uri: match &self.backchannel_logout_uri {
                None => None,
                Some(text) => {
                    web_uri(text)?;
                    Some(crate::backchannel::check_uri(text).map_err(MetadataError::Metadata)?)
                }
            },
            backchannel_logout_session_required: self
                .backchannel_logout_session_required
                .unwrap_or(false),
        };
        new.validate().map_err(|e| match e {
            ClientRejected::NoRedirectUri | ClientRejected::UnusedRedirectUri => {
                MetadataError::RedirectUri(e.to_string())
            }
            other => MetadataError::Metadata(other.to_string()),
        })?;
        Ok(new)
    }
}

/// The registered metadata of `client`, as RFC 7591 section 3.2.1 returns it
/// (without credentials, which the caller adds when it issues them).
pub fn metadata_of(client: &Client) -> Value {
    fn uris(list: &[RedirectUri]) -> Vec<&str> {
        list.iter().map(RedirectUri::as_str).collect()
    }
    let code = client.allows(GrantType::AuthorizationCode);
    let mut metadata = json!({
        "client_id": client.id.as_str(),
        "client_id_issued_at": client.created_at.0,
        "client_name": client.name,
        "redirect_uris": uris(&client.redirect_uris),
        "post_logout_redirect_uris": uris(&client.post_logout_redirect_uris),
        "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "response_types": if code { vec!["code"] } else { vec![] },
        "scope": client.scopes.to_string(),
        "token_endpoint_auth_method": if client.is_public() { "none" } else { "client_secret_basic" },
    });
    if let Some(uri) = &client.backchannel_logout_uri {
        metadata["backchannel_logout_uri"] = json!(uri);
        metadata["backchannel_logout_session_required"] =
            json!(client.backchannel_logout_session_required);
    }
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> SelfService {
        SelfService {
            scopes: ScopeSet::parse("openid profile email offline_access").unwrap(),
            audiences: vec![],
        }
    }

    fn meta(value: Value) -> ClientMetadata {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_back_channel_logout_uri_is_an_https_url() {
        let with = |uri: &str| {
            meta(
                json!({"redirect_uris": ["https://app.example/cb"], "backchannel_logout_uri": uri,
                        "backchannel_logout_session_required": true}),
            )
            .to_new_client(&allowed())
        };
        let new = with("https://app.example/bcl").unwrap();
        assert_eq!(
            new.backchannel_logout_uri.as_deref(),
            Some("https://app.example/bcl")
        );
        assert!(new.backchannel_logout_session_required);
        for bad in [
            "http://app.example/bcl",
            "https://app.example/bcl#x",
            "/bcl",
        ] {
            assert!(with(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_web_app_registers_with_defaults() {
        let new = meta(json!({"redirect_uris": ["https://app.example/cb"], "client_name": "App", "logo_uri": "ignored"}))
            .to_new_client(&allowed())
            .unwrap();
        assert_eq!(new.grant_types, vec![GrantType::AuthorizationCode]);
        assert_eq!(new.scopes.to_string(), "openid");
        assert!(!new.public);
        let spa = meta(json!({"redirect_uris": ["http://127.0.0.1:8000/cb"], "token_endpoint_auth_method": "none",
                              "grant_types": ["authorization_code", "refresh_token"], "scope": "openid offline_access"}))
            .to_new_client(&allowed())
            .unwrap();
        assert!(spa.public);
    }

    #[test]
    fn unsafe_or_inconsistent_metadata_is_refused_with_the_right_code() {
        for (value, code) in [
            (
                json!({"redirect_uris": ["http://app.example/cb"]}),
                "invalid_redirect_uri",
            ),
            (
                json!({"redirect_uris": ["com.example.app:/cb"]}),
                "invalid_redirect_uri",
            ),
            (
                json!({"redirect_uris": ["https://app.example/*"]}),
                "invalid_redirect_uri",
            ),
            (json!({}), "invalid_redirect_uri"),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["implicit"], "response_types": ["token"]}),
                "invalid_client_metadata",
            ),
            (
                json!({"grant_types": ["password"]}),
                "invalid_client_metadata",
            ),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]}),
                "invalid_client_metadata",
            ),
            (
                json!({"grant_types": ["client_credentials"], "response_types": ["code"]}),
                "invalid_client_metadata",
            ),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "scope": "openid portcullis:admin"}),
                "invalid_client_metadata",
            ),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
                "invalid_client_metadata",
            ),
            (
                json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}),
                "invalid_client_metadata",
            ),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "client_name": "x\u{7}"}),
                "invalid_client_metadata",
            ),
        ] {
            let err = meta(value.clone()).to_new_client(&allowed()).unwrap_err();
            assert_eq!(err.code(), code, "{value}: {err}");
        }
    }
}
