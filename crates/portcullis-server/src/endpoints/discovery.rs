//! `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`
//! (OpenID Connect Discovery 1.0, RFC 8414): only what is implemented.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use portcullis_core::GrantType;
use portcullis_core::admin::keys;
use serde_json::json;

use crate::state::AppState;

/// Renders the metadata document for `issuer`; `registration` says whether
/// clients may register at `/register`, `documents` whether a `client_id`
/// may be the URL of its metadata document.
pub(crate) fn document(issuer: &str, registration: bool, documents: bool) -> Bytes {
    let mut metadata = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "device_authorization_endpoint": format!("{issuer}/device_authorization"),
        "jwks_uri": format!("{issuer}/jwks.json"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "end_session_endpoint": format!("{issuer}/end-session"),
        // The implicit grant is served at /authorize; RFC 8414 lists it too,
        // or clients conclude that `token` responses are off.
        "grant_types_supported": GrantType::AT_TOKEN_ENDPOINT
            .iter()
            .chain([&GrantType::Implicit])
            .map(|g| g.as_str())
            .collect::<Vec<_>>(),
        "response_types_supported": ["code", "token", "id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [keys::ID_TOKEN_ALG.as_str()],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "sid",
            "preferred_username", "name", "given_name", "family_name", "email", "email_verified",
        ],
        "prompt_values_supported": ["none", "login", "consent"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint": format!("{issuer}/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint": format!("{issuer}/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    });
    if registration {
        metadata["registration_endpoint"] = json!(format!("{issuer}/register"));
    }
    if documents {
        metadata["client_id_metadata_document_supported"] = json!(true);
    }
    Bytes::from(metadata.to_string())
}

pub(crate) async fn metadata(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        state.discovery.clone(),
    )
}
