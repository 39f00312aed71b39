//! What `/token` may issue: one use case, [`issue`], over one module per
//! grant, each of the same shape (`issue(&Grants, &Client, Request, now)`).
//! A new grant is a new module and a new [`GrantRequest`] variant.
//!
//! A grant decides; it never signs. The server signs an [`Issuance`] in one
//! function, for `/token` and for implicit responses alike.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod implicit;
pub mod password;
pub mod refresh_token;
pub mod token_exchange;

use serde_json::{Map, Value};

use crate::access_token::AccessTokenGrant;
use crate::password::Password;
use crate::sign_in::PasswordSignIn;
use crate::store::Spend;
use crate::user::UserId;
use crate::{Client, ClientId, ScopeSet, Store, StoreError, TokenError, UnixTime};

pub use crate::access_token::TokenPolicy;

/// What every grant may use.
#[derive(Debug, Clone, Copy)]
pub struct Grants<'a> {
    /// Codes, refresh tokens, families, users.
    pub store: &'a dyn Store,
    /// Issuer and lifetimes.
    pub policy: &'a TokenPolicy,
    /// Password sign-in, for the password grant.
    pub sign_in: PasswordSignIn<'a>,
    /// The published keys, for tokens presented to the token exchange
    /// grant; `None` while the key ring is not loaded.
    pub verifier: Option<&'a portcullis_jose::Verifier>,
}

/// A parsed token request, one variant per grant type.
#[derive(Debug)]
pub enum GrantRequest {
    /// `client_credentials` (RFC 6749 section 4.4).
    ClientCredentials(client_credentials::ClientCredentialsRequest),
    /// `authorization_code` (RFC 6749 section 4.1.3).
    AuthorizationCode(authorization_code::CodeExchange),
    /// `refresh_token` (RFC 6749 section 6).
    RefreshToken(refresh_token::RefreshRequest),
    /// `password` (RFC 6749 section 4.3), for clients that opted in.
    Password(password::PasswordRequest),
    /// The device authorization grant (RFC 8628 section 3.4).
    DeviceCode(device_code::DeviceTokenRequest),
    /// Token exchange (RFC 8693 section 2.1).
    TokenExchange(token_exchange::ExchangeRequest),
}

impl GrantRequest {
    /// Parses a token request's parameters: `param` gives a single-valued
    /// parameter, `resources` the (repeatable) `resource` values, `address`
    /// the caller's address (for sign-in throttling).
    pub fn parse<'p>(
        param: impl Fn(&str) -> Option<&'p str>,
        resources: &[&str],
        address: &str,
    ) -> Result<Self, TokenError> {
        let require = |name: &str| {
            param(name).ok_or_else(|| TokenError::InvalidRequest(format!("{name} is missing")))
        };
        // Every grant takes `scope` and `resource` the same way.
        let client_credentials::ClientCredentialsRequest { scope, resources } =
            client_credentials::ClientCredentialsRequest::parse(param("scope"), resources)?;
        Ok(match require("grant_type")? {
            "client_credentials" => {
                GrantRequest::ClientCredentials(client_credentials::ClientCredentialsRequest {
                    scope,
                    resources,
                })
            }
            "authorization_code" => {
                GrantRequest::AuthorizationCode(authorization_code::CodeExchange {
                    code: require("code")?.to_owned(),
                    redirect_uri: param("redirect_uri").map(str::to_owned),
                    code_verifier: param("code_verifier").map(str::to_owned),
                    resources,
                })
            }
            "refresh_token" => GrantRequest::RefreshToken(refresh_token::RefreshRequest {
                refresh_token: require("refresh_token")?.to_owned(),
                scope,
                resources,
            }),
            "password" => GrantRequest::Password(password::PasswordRequest {
                username: param("username").map(str::to_owned),
                password: param("password").map(Password::presented),
                scope,
                resources,
                address: address.to_owned(),
            }),
            crate::client::DEVICE_CODE_GRANT => {
                GrantRequest::DeviceCode(device_code::DeviceTokenRequest {
                    device_code: require("device_code")?.to_owned(),
                    resources,
                })
            }
            crate::client::TOKEN_EXCHANGE_GRANT => GrantRequest::TokenExchange(
                token_exchange::ExchangeRequest::parse(&param, scope, resources)?,
            ),
            other => {
                return Err(TokenError::UnsupportedGrantType(format!(
                    "grant type `{other}` is not supported"
                )));
            }
        })
    }
}

/// Whether a public client (no secret, `client_id` only, PKCE for codes)
/// may make a request of `grant_type`: every grant but `client_credentials`.
pub fn open_to_public_clients(grant_type: &str) -> bool {
    matches!(
        grant_type,
        "authorization_code" | "refresh_token" | "password" | crate::client::DEVICE_CODE_GRANT
    )
}

/// An ID token to sign with the access token (OIDC Core 3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenFor {
    /// The user.
    pub user: UserId,
    /// The client, its audience.
    pub client: ClientId,
    /// When the user authenticated.
    pub auth_time: UnixTime,
    /// The authorization request's nonce.
    pub nonce: Option<String>,
    /// The browser session it was issued in (for back-channel logout).
    pub sid: Option<String>,
    /// The user's claims, when no access token comes with it (OIDC Core 5.4).
    pub user_claims: Option<Map<String, Value>>,
}

/// What a grant decided to issue; the server signs it as it is.
#[derive(Debug, Clone)]
pub struct Issuance {
    /// The access token, if any (an implicit `id_token` response has none).
    pub access: Option<AccessTokenGrant>,
    /// The ID token, for `openid` requests of a user.
    pub id_token: Option<IdTokenFor>,
    /// A refresh token, already stored (only its hash).
    pub refresh_token: Option<String>,
    /// The `issued_token_type` to report (token exchange, RFC 8693 2.2.1).
    pub issued_token_type: Option<&'static str>,
}

/// Why a grant issued nothing.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The request is refused (RFC 6749 section 5.2).
    #[error(transparent)]
    Refused(#[from] TokenError),
    /// A spent code or refresh token was presented again: its family is
    /// revoked, and the request refused with `invalid_grant`.
    #[error("invalid_grant: {0}")]
    Replayed(&'static str),
    /// A password grant's username or password is not right (or the
    /// account is disabled): `invalid_grant`, counted as a failed sign-in.
    #[error("invalid_grant: the username or password is not right")]
    WrongPassword,
    /// The database failed; nothing was spent.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Decides what the authenticated `client` is issued for `request`.
pub async fn issue(
    grants: &Grants<'_>,
    client: &Client,
    request: GrantRequest,
    now: UnixTime,
) -> Result<Issuance, GrantError> {
    match request {
        GrantRequest::ClientCredentials(r) => client_credentials::issue(grants, client, r, now),
        GrantRequest::AuthorizationCode(r) => {
            authorization_code::issue(grants, client, r, now).await
        }
        GrantRequest::RefreshToken(r) => refresh_token::issue(grants, client, r, now).await,
        GrantRequest::Password(r) => password::issue(grants, client, r, now).await,
        GrantRequest::DeviceCode(r) => device_code::issue(grants, client, r, now).await,
        GrantRequest::TokenExchange(r) => token_exchange::issue(grants, client, r, now).await,
    }
}

/// Until when a family's tokens live: the later of the access token's and
/// the refresh token's expiry.
pub(crate) fn live_until(
    access: &AccessTokenGrant,
    refresh: Option<&refresh_token::IssuedRefresh>,
) -> UnixTime {
    let access_exp = UnixTime(access.claims.exp);
    refresh.map_or(access_exp, |r| r.record.expires_at.max(access_exp))
}

/// The ID token of a user grant, when its scope asks for one.
pub(crate) fn id_token_for(
    client: &Client,
    user: &UserId,
    scope: &ScopeSet,
    auth_time: UnixTime,
    nonce: Option<String>,
) -> Option<IdTokenFor> {
    scope
        .iter()
        .any(|s| s.as_str() == "openid")
        .then(|| IdTokenFor {
            user: user.clone(),
            client: client.id.clone(),
            auth_time,
            nonce,
            sid: None,
            user_claims: None,
        })
}

/// The record a code or refresh token was spent for, or the refusal:
/// `unknown` for a guess, `replayed` for a spent one (its family revoked).
pub(crate) fn settle<R>(
    spend: Spend<R>,
    unknown: &'static str,
    replayed: &'static str,
) -> Result<R, GrantError> {
    match spend {
        Spend::Spent(record) => Ok(record),
        Spend::Refused(refused) => Err(refused.into()),
        Spend::Replayed(_) => Err(GrantError::Replayed(replayed)),
        Spend::Unknown => Err(TokenError::InvalidGrant(unknown).into()),
    }
}

/// What a grant's check decided inside the store's transaction, kept for
/// the response once the transaction committed.
#[derive(Debug)]
pub(crate) struct Decided<T>(std::sync::Mutex<Option<T>>);

impl<T> Decided<T> {
    pub(crate) fn new() -> Self {
        Decided(std::sync::Mutex::new(None))
    }

    /// Keeps the latest decision (the check runs once per transaction).
    pub(crate) fn keep(&self, value: T) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(value);
        }
    }

    /// The decision, if the check ran and allowed the request.
    pub(crate) fn take(self, otherwise: &'static str) -> Result<T, GrantError> {
        self.0
            .into_inner()
            .ok()
            .flatten()
            .ok_or(GrantError::Refused(TokenError::InvalidGrant(otherwise)))
    }
}
