//! What the admin API reads and writes, as JSON and as OpenAPI schemas.

use portcullis_core::admin::grants::Grant;
use portcullis_core::keyring::KeyRing;
use portcullis_core::redirect_uri::RedirectUri;
use portcullis_core::user::User;
use portcullis_core::{Client, KeyRecord, Resource, UnixTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A registered client (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ClientView {
    pub client_id: String,
    pub name: String,
    /// `true` for a client without a secret (PKCE instead).
    pub public: bool,
    pub grant_types: Vec<String>,
    /// Space-separated scopes it may be granted.
    pub scope: String,
    pub audiences: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// PKCE on every authorization request, even OpenID Connect ones with a
    /// `nonce` (public clients always need it).
    pub require_pkce: bool,
    /// Token exchanges may leave out the actor token (impersonation).
    pub allow_impersonation: bool,
    /// Where logout tokens are sent, if anywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Whether logout tokens must carry `sid`.
    pub backchannel_logout_session_required: bool,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<&Client> for ClientView {
    fn from(c: &Client) -> Self {
        let uris = |list: &[RedirectUri]| list.iter().map(|u| u.as_str().to_owned()).collect();
        ClientView {
            client_id: c.id.to_string(),
            name: c.name.clone(),
            public: c.is_public(),
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            scope: c.scopes.to_string(),
            audiences: c
                .audiences
                .iter()
                .map(|a| Resource::as_str(a).to_owned())
                .collect(),
            redirect_uris: uris(&c.redirect_uris),
            post_logout_redirect_uris: uris(&c.post_logout_redirect_uris),
            require_pkce: c.require_pkce || c.is_public(),
            allow_impersonation: c.allow_impersonation,
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: c.backchannel_logout_session_required,
            created_at: c.created_at.0,
        }
    }
}

/// A client to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewClientRequest {
    pub name: String,
    /// At least one of authorization_code, refresh_token, client_credentials,
    /// password, implicit, and the device and token exchange grants' URNs.
    #[schema(min_items = 1)]
    pub grant_types: Vec<String>,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// No secret: for SPAs and native apps, which use PKCE.
    #[serde(default)]
    pub public: bool,
    /// PKCE on every authorization request, even OpenID Connect ones with a
    /// `nonce`, which a confidential client may otherwise leave out.
    #[serde(default)]
    pub require_pkce: bool,
    /// Token exchanges (RFC 8693) may leave out the actor token, so that the
    /// issued token speaks for the subject alone; only with the token
    /// exchange grant.
    #[serde(default)]
    pub allow_impersonation: bool,
    /// Where logout tokens are sent when a session the client signed in
    /// through ends (OpenID Connect Back-Channel Logout): an absolute
    /// http(s) URL.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// Whether its logout tokens must carry `sid` (they always do).
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
}

/// A created client, with its secret shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedClient {
    #[serde(flatten)]
    pub client: ClientView,
    /// Absent for a public client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// A new client secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NewSecret {
    pub client_id: String,
    pub client_secret: String,
}

/// A user (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserView {
    /// The subject (`sub`) of the user's tokens.
    pub sub: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
    pub password_changed_at: i64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        let p = &u.profile;
        UserView {
            sub: u.id.to_string(),
            username: u.username.to_string(),
            email: p.email.clone(),
            email_verified: p.email_verified,
            name: p.name.clone(),
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            disabled: u.disabled,
            created_at: u.created_at.0,
            password_changed_at: u.password_changed_at.0,
        }
    }
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserRequest {
    /// 1 to 64 of letters, digits and `._@+-`, starting with a letter or digit.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")]
    pub username: String,
    /// At least 8 characters (and at most 256); stored as an
    /// Argon2id hash. Beyond this schema the password policy applies: not
    /// the username or the email's local part, nor containing them, and not
    /// guessable (zxcvbn score of at least `password_min_score`); a refused
    /// password is a 400 that says why.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

/// A new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordRequest {
    /// At least 8 characters (and at most 256). Beyond this schema
    /// the password policy applies, as for a new user: a refused password is
    /// a 400 that says why.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
}

/// Enabling or disabling a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusRequest {
    pub disabled: bool,
}

/// A signing key (its public half only).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct KeyView {
    pub kid: String,
    pub alg: String,
    /// next, scheduled, active, retired or expired.
    pub state: String,
    pub created_at: i64,
    pub activates_at: Option<i64>,
    pub expires_at: Option<i64>,
}

impl KeyView {
    pub fn of(ring: &KeyRing, key: &KeyRecord, now: UnixTime) -> Self {
        KeyView {
            kid: key.kid.clone(),
            alg: key.alg.as_str().to_owned(),
            state: ring.state(key, now).as_str().to_owned(),
            created_at: key.created_at.0,
            activates_at: key.activates_at.map(|t| t.0),
            expires_at: key.expires_at.map(|t| t.0),
        }
    }
}

/// What a user allowed a client.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GrantView {
    pub client_id: String,
    pub scope: String,
    pub granted_at: i64,
}

impl From<&Grant> for GrantView {
    fn from(g: &Grant) -> Self {
        GrantView {
            client_id: g.client_id.to_string(),
            scope: g.scope.to_string(),
            granted_at: g.granted_at.0,
        }
    }
}

/// A token to revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevocationRequest {
    /// An access token or a refresh token of this server.
    pub token: String,
}

/// What a revocation did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RevocationResult {
    /// access_token, refresh_family or nothing.
    pub revoked: String,
}

/// An error.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    pub error: String,
    pub error_description: String,
}
