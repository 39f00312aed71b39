//! OAuth clients: who may ask for tokens, with which grants, scopes and audiences.

use std::fmt;
use std::str::FromStr;

use crate::redirect_uri::RedirectUri;
use crate::{ClientSecret, Resource, ScopeSet, SecretHash, UnixTime, random};

/// A client identifier: random, URL-safe and unguessable when generated here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    /// A new random identifier (128 bits). It starts with a letter or a
    /// digit, so no command line mistakes it for an option.
    pub fn generate() -> Self {
        loop {
            let id = random::token::<16>();
            if id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                return ClientId(id);
            }
        }
    }

    /// Parses an identifier received from outside: 1 to 255 visible ASCII characters.
    pub fn parse(text: &str) -> Option<Self> {
        let ok =
            !text.is_empty() && text.len() <= 255 && text.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| ClientId(text.to_owned()))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A grant type a client may use at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    /// RFC 6749 section 4.4.
    ClientCredentials,
    /// RFC 6749 section 4.1, with PKCE (RFC 7636).
    AuthorizationCode,
    /// RFC 6749 section 6.
    RefreshToken,
    /// RFC 6749 section 4.3: only for clients that opt in (RFC 9700 forbids it by default).
    Password,
    /// RFC 6749 section 4.2: only for clients that opt in (RFC 9700 discourages it).
    Implicit,
    /// RFC 8628: a device without a browser shows a code that its user
    /// approves elsewhere.
    DeviceCode,
    /// RFC 8693: a service exchanges a token it received for one to call
    /// another service, on the same user's behalf.
    TokenExchange,
}

impl GrantType {
    /// Every grant type a client can be registered with.
    pub const ALL: [GrantType; 7] = [
        GrantType::ClientCredentials,
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::Password,
        GrantType::Implicit,
        GrantType::DeviceCode,
        GrantType::TokenExchange,
    ];

    /// The grants the token endpoint serves today (what discovery lists).
    pub const AT_TOKEN_ENDPOINT: [GrantType; 6] = [
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::Password,
        GrantType::DeviceCode,
        GrantType::TokenExchange,
    ];

    /// The registered name.
    pub const fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Password => "password",
            GrantType::Implicit => "implicit",
            GrantType::DeviceCode => DEVICE_CODE_GRANT,
            GrantType::TokenExchange => TOKEN_EXCHANGE_GRANT,
        }
    }

    /// Why an administrator should think twice before enabling this grant.
    pub const fn warning(self) -> Option<&'static str> {
        match self {
            GrantType::Password => Some(
                "the password grant hands the user's password to the client; RFC 9700 says it MUST NOT be used",
            ),
            GrantType::Implicit => Some(
                "the implicit grant puts tokens in the browser's address bar; RFC 9700 recommends the code flow with PKCE",
            ),
            _ => None,
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The registered name of the device authorization grant (RFC 8628 3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The registered name of the token exchange grant (RFC 8693 2.1).
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

impl FromStr for GrantType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        GrantType::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| format!("unsupported grant type `{s}`"))
    }
}

/// A registered client as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Its identifier.
    pub id: ClientId,
    /// A human name, shown to people.
    pub name: String,
    /// Hash of its secret; `None` for a public client.
    pub secret_hash: Option<SecretHash>,
    /// Grants it may use.
    pub grant_types: Vec<GrantType>,
    /// Scopes it may be granted.
    pub scopes: ScopeSet,
    /// Resources (audiences) it may request tokens for; when none is requested,
    /// tokens are issued for all of them.
    pub audiences: Vec<Resource>,
    /// Where authorization responses may be sent (exact match).
    pub redirect_uris: Vec<RedirectUri>,
    /// Where the user may be sent after signing out (exact match).
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Whether its authorization requests need PKCE even where OpenID
    /// Connect's `nonce` would do (see [`crate::pkce::pkce_required`]).
    pub require_pkce: bool,
    /// Whether its token exchanges may leave out the `actor_token`, so that
    /// the issued token speaks for the subject alone (impersonation).
    pub allow_impersonation: bool,
    /// Where it is told that a session it signed in through ended
    /// (OpenID Connect Back-Channel Logout).
    pub backchannel_logout_uri: Option<String>,
    /// Whether its logout tokens must carry `sid` (they always do here).
    pub backchannel_logout_session_required: bool,
    /// When it was registered.
    pub created_at: UnixTime,
}

impl Client {
    /// Whether this client may use `grant`.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether `secret` is this client's secret (constant time).
    pub fn secret_matches(&self, secret: &ClientSecret) -> bool {
        self.secret_hash.is_some_and(|hash| hash.matches(secret))
    }

    /// A public client has no secret (a SPA, a native or CLI app); PKCE
    /// stands in for client authentication.
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }
}

/// Why a client cannot be registered as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientRejected {
    /// No grant type.
    #[error("a client needs at least one grant type")]
    NoGrant,
    /// A public client asked for client_credentials.
    #[error("a public client has no secret, so it cannot use client_credentials")]
    PublicClientCredentials,
    /// A public client asked for token exchange.
    #[error("a public client has no secret, so it cannot exchange tokens")]
    PublicTokenExchange,
    /// Impersonation for a client that does not exchange tokens.
    #[error("allow_impersonation is only for clients with the token exchange grant")]
    ImpersonationWithoutExchange,
    /// A redirect-based grant without a redirect URI.
    #[error("authorization_code and implicit need at least one redirect URI")]
    NoRedirectUri,
    /// Redirect URIs for a client that never redirects.
    #[error("redirect URIs are only for clients with authorization_code or implicit")]
    UnusedRedirectUri,
    /// The name is empty, white space only, too long, or holds control
    /// characters (it is shown to people on the consent page).
    #[error(
        "a client name has 1 to {MAX_NAME_CHARS} characters, not all white space, and no control characters"
    )]
    Name,
    /// refresh_token alone: nothing would ever issue the first refresh token.
    #[error(
        "refresh_token needs authorization_code, password, the device grant or token exchange to issue the first refresh token"
    )]
    RefreshAlone,
}

/// The longest client name accepted.
pub const MAX_NAME_CHARS: usize = 200;

/// What an administrator asks for when creating a client.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    /// A human name.
    pub name: String,
    /// Grants it may use (at least one).
    pub grant_types: Vec<GrantType>,
    /// Scopes it may be granted.
    pub scopes: ScopeSet,
    /// Resources it may request tokens for.
    pub audiences: Vec<Resource>,
    /// Where authorization responses may be sent.
    pub redirect_uris: Vec<RedirectUri>,
    /// Where the user may be sent after signing out.
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// A public client gets no secret.
    pub public: bool,
    /// PKCE on every authorization request, `nonce` or not.
    pub require_pkce: bool,
    /// Token exchanges without an actor token (impersonation).
    pub allow_impersonation: bool,
    /// Where logout tokens are sent (checked by [`crate::backchannel::check_uri`]).
    pub backchannel_logout_uri: Option<String>,
    /// Whether logout tokens must carry `sid`.
    pub backchannel_logout_session_required: bool,
}

impl NewClient {
    /// Checks the name, and that the grants, the client type and the redirect URIs agree.
    ///
    /// ```
    /// use portcullis_core::{GrantType, NewClient, client::ClientRejected};
    /// let spa = NewClient { name: "SPA".into(), grant_types: vec![GrantType::AuthorizationCode], public: true, ..NewClient::default() };
    /// assert_eq!(spa.validate(), Err(ClientRejected::NoRedirectUri));
    /// ```
    pub fn validate(&self) -> Result<(), ClientRejected> {
        let has = |g: GrantType| self.grant_types.contains(&g);
        let redirects = has(GrantType::AuthorizationCode) || has(GrantType::Implicit);
        if self.name.trim().is_empty()
            || self.name.chars().count() > MAX_NAME_CHARS
            || self.name.chars().any(char::is_control)
        {
            Err(ClientRejected::Name)
        } else if self.grant_types.is_empty() {
            Err(ClientRejected::NoGrant)
        } else if self.public && has(GrantType::ClientCredentials) {
            Err(ClientRejected::PublicClientCredentials)
        } else if self.public && has(GrantType::TokenExchange) {
            Err(ClientRejected::PublicTokenExchange)
        } else if self.allow_impersonation && !has(GrantType::TokenExchange) {
            Err(ClientRejected::ImpersonationWithoutExchange)
        } else if redirects && self.redirect_uris.is_empty() {
            Err(ClientRejected::NoRedirectUri)
        } else if !redirects && !self.redirect_uris.is_empty() {
            Err(ClientRejected::UnusedRedirectUri)
        } else if has(GrantType::RefreshToken)
            && !has(GrantType::AuthorizationCode)
            && !has(GrantType::Password)
            && !has(GrantType::DeviceCode)
            && !has(GrantType::TokenExchange)
        {
            Err(ClientRejected::RefreshAlone)
        } else {
            Ok(())
        }
    }

    /// The client to store and, for a confidential client, its secret, to show once.
    pub fn register(self, now: UnixTime) -> (Client, Option<ClientSecret>) {
        let secret = (!self.public).then(ClientSecret::generate);
        let hash = secret.as_ref().map(ClientSecret::hash);
        (self.into_client(ClientId::generate(), hash, now), secret)
    }

    /// The client to store under `id`, with the hash of its secret.
    pub fn into_client(
        self,
        id: ClientId,
        secret_hash: Option<SecretHash>,
        now: UnixTime,
    ) -> Client {
        let mut grant_types = self.grant_types;
        grant_types.sort();
        grant_types.dedup();
        Client {
            id,
            name: self.name,
            secret_hash,
            grant_types,
            scopes: self.scopes,
            audiences: self.audiences,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            require_pkce: self.require_pkce,
            allow_impersonation: self.allow_impersonation,
            backchannel_logout_uri: self.backchannel_logout_uri,
            backchannel_logout_session_required: self.backchannel_logout_session_required,
            created_at: now,
        }
    }
}

#[cfg(test)]
mod generated_id_tests {
    use super::*;

    #[test]
    fn generated_ids_never_look_like_options() {
        for _ in 0..2000 {
            let id = ClientId::generate();
            assert!(
                id.as_str().starts_with(|c: char| c.is_ascii_alphanumeric()),
                "{id}"
            );
        }
    }
}
