//! Rows as the database returns them, and their conversion into domain values.

use portcullis_core::password::PasswordHash;
use portcullis_core::pkce::CodeChallenge;
use portcullis_core::redirect_uri::RedirectUri;
use portcullis_core::session::SessionRecord;
use portcullis_core::store::CodeRecord;
use portcullis_core::store::RefreshRecord;
use portcullis_core::store::{DeviceDecision, DeviceRecord};
use portcullis_core::token_hash::TokenHash;
use portcullis_core::user::{Profile, User, UserId, Username};
use portcullis_core::{
    Client, ClientId, GrantType, KeyRecord, Resource, ScopeSet, Seconds, SecretHash, StoreError,
    UnixTime,
};

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ClientRow {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<Vec<u8>>,
    pub grant_types: String,
    pub scopes: String,
    pub audiences: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub require_pkce: bool,
    pub allow_impersonation: bool,
    pub backchannel_logout_uri: String,
    pub backchannel_logout_session_required: bool,
    pub created_at: i64,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        Ok(Client {
            id: ClientId::parse(&row.id).ok_or_else(|| corrupt("client id"))?,
            name: row.name,
            secret_hash: row
                .secret_hash
                .map(|h| SecretHash::from_bytes(&h).ok_or_else(|| corrupt("client secret hash")))
                .transpose()?,
            grant_types: row
                .grant_types
                .split_whitespace()
                .map(|g| {
                    g.parse::<GrantType>()
                        .map_err(|_| corrupt("client grant type"))
                })
                .collect::<Result<_, _>>()?,
            scopes: ScopeSet::parse(&row.scopes).ok_or_else(|| corrupt("client scopes"))?,
            audiences: row
                .audiences
                .split_whitespace()
                .map(|a| Resource::parse(a).ok_or_else(|| corrupt("client audience")))
                .collect::<Result<_, _>>()?,
            redirect_uris: redirect_uris(&row.redirect_uris)?,
            post_logout_redirect_uris: redirect_uris(&row.post_logout_redirect_uris)?,
            require_pkce: row.require_pkce,
            allow_impersonation: row.allow_impersonation,
            backchannel_logout_uri: (!row.backchannel_logout_uri.is_empty())
                .then_some(row.backchannel_logout_uri),
            backchannel_logout_session_required: row.backchannel_logout_session_required,
            created_at: UnixTime(row.created_at),
        })
    }
}

fn redirect_uris(column: &str) -> Result<Vec<RedirectUri>, StoreError> {
    column
        .split_whitespace()
        .map(|u| RedirectUri::parse(u).map_err(|_| corrupt("client redirect URI")))
        .collect()
}

/// The list columns of a client, space-delimited (no element contains a space).
pub(crate) struct ClientColumns {
    pub grant_types: String,
    pub scopes: String,
    pub audiences: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
}

pub(crate) fn client_columns(client: &Client) -> ClientColumns {
    let join = |items: Vec<&str>| items.join(" ");
    let uris = |list: &[RedirectUri]| join(list.iter().map(RedirectUri::as_str).collect());
    ClientColumns {
        grant_types: join(client.grant_types.iter().map(|g| g.as_str()).collect()),
        scopes: client.scopes.to_string(),
        audiences: join(client.audiences.iter().map(Resource::as_str).collect()),
        redirect_uris: uris(&client.redirect_uris),
        post_logout_redirect_uris: uris(&client.post_logout_redirect_uris),
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub public_jwk: String,
    pub sealed_private: Vec<u8>,
    pub created_at: i64,
    pub activates_at: Option<i64>,
    pub expires_at: Option<i64>,
}

impl TryFrom<KeyRow> for KeyRecord {
    type Error = StoreError;

    fn try_from(row: KeyRow) -> Result<Self, StoreError> {
        Ok(KeyRecord {
            kid: row.kid,
            alg: row.alg.parse().map_err(|_| corrupt("key algorithm"))?,
            public_jwk: row.public_jwk,
            sealed_private: row.sealed_private,
            created_at: UnixTime(row.created_at),
            activates_at: row.activates_at.map(UnixTime),
            expires_at: row.expires_at.map(UnixTime),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: i64,
    pub password_changed_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId::from_stored(row.id),
            username: Username::parse(&row.username).map_err(|_| corrupt("username"))?,
            profile: Profile {
                email: row.email,
                email_verified: row.email_verified,
                name: row.name,
                given_name: row.given_name,
                family_name: row.family_name,
            },
            password_hash: PasswordHash::from_stored(row.password_hash)
                .ok_or_else(|| corrupt("password hash"))?,
            disabled: row.disabled,
            created_at: UnixTime(row.created_at),
            password_changed_at: UnixTime(row.password_changed_at),
        })
    }
}

fn token_hash(bytes: &[u8], what: &str) -> Result<TokenHash, StoreError> {
    TokenHash::from_bytes(bytes).ok_or_else(|| corrupt(what))
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CodeRow {
    pub hash: Vec<u8>,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub redirect_uri_sent: bool,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub auth_time: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub sid: String,
}

impl TryFrom<CodeRow> for CodeRecord {
    type Error = StoreError;

    fn try_from(row: CodeRow) -> Result<Self, StoreError> {
        Ok(CodeRecord {
            hash: token_hash(&row.hash, "code hash")?,
            client_id: ClientId::parse(&row.client_id).ok_or_else(|| corrupt("code client id"))?,
            user_id: UserId::from_stored(row.user_id),
            redirect_uri: row.redirect_uri,
            redirect_uri_sent: row.redirect_uri_sent,
            scope: ScopeSet::parse(&row.scope).ok_or_else(|| corrupt("code scope"))?,
            nonce: row.nonce,
            sid: (!row.sid.is_empty()).then_some(row.sid),
            // Empty: issued without a challenge.
            code_challenge: (!row.code_challenge.is_empty())
                .then(|| CodeChallenge::from_stored(row.code_challenge)),
            auth_time: UnixTime(row.auth_time),
            issued_at: UnixTime(row.issued_at),
            expires_at: UnixTime(row.expires_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DeviceRow {
    pub hash: Vec<u8>,
    pub user_code: Vec<u8>,
    pub client_id: String,
    pub scope: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub poll_interval: i64,
    pub last_polled_at: Option<i64>,
    pub decision: String,
    pub user_id: Option<String>,
    pub auth_time: Option<i64>,
    pub used_at: Option<i64>,
}

/// How a decision is stored: its name, and the user and sign-in time of an
/// approval.
pub(crate) fn decision_columns(
    decision: &DeviceDecision,
) -> (&'static str, Option<&str>, Option<i64>) {
    match decision {
        DeviceDecision::Pending => ("pending", None, None),
        DeviceDecision::Approved { user, auth_time } => {
            ("approved", Some(user.as_str()), Some(auth_time.0))
        }
        DeviceDecision::Denied => ("denied", None, None),
    }
}

impl TryFrom<DeviceRow> for DeviceRecord {
    type Error = StoreError;

    fn try_from(row: DeviceRow) -> Result<Self, StoreError> {
        let decision = match (row.decision.as_str(), row.user_id, row.auth_time) {
            ("pending", _, _) => DeviceDecision::Pending,
            ("denied", _, _) => DeviceDecision::Denied,
            ("approved", Some(user), Some(auth_time)) => DeviceDecision::Approved {
                user: UserId::from_stored(user),
                auth_time: UnixTime(auth_time),
            },
            _ => return Err(corrupt("device code decision")),
        };
        Ok(DeviceRecord {
            hash: token_hash(&row.hash, "device code hash")?,
            user_code: token_hash(&row.user_code, "user code hash")?,
            client_id: ClientId::parse(&row.client_id)
                .ok_or_else(|| corrupt("device code client id"))?,
            scope: ScopeSet::parse(&row.scope).ok_or_else(|| corrupt("device code scope"))?,
            issued_at: UnixTime(row.issued_at),
            expires_at: UnixTime(row.expires_at),
            interval: Seconds(row.poll_interval),
            last_polled_at: row.last_polled_at.map(UnixTime),
            decision,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub hash: Vec<u8>,
    pub user_id: String,
    pub auth_time: i64,
    pub expires_at: i64,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(SessionRecord {
            hash: token_hash(&row.hash, "session hash")?,
            user_id: UserId::from_stored(row.user_id),
            auth_time: UnixTime(row.auth_time),
            expires_at: UnixTime(row.expires_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RefreshRow {
    pub hash: Vec<u8>,
    pub family: Vec<u8>,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub auth_time: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// When its family was revoked, where the query joins the family.
    #[sqlx(default)]
    pub family_revoked_at: Option<i64>,
    #[sqlx(default)]
    pub sid: String,
    #[sqlx(default)]
    pub act: String,
}

impl TryFrom<RefreshRow> for RefreshRecord {
    type Error = StoreError;

    fn try_from(row: RefreshRow) -> Result<Self, StoreError> {
        Ok(RefreshRecord {
            hash: token_hash(&row.hash, "refresh token hash")?,
            family: token_hash(&row.family, "refresh token family")?,
            client_id: ClientId::parse(&row.client_id)
                .ok_or_else(|| corrupt("refresh client id"))?,
            user_id: UserId::from_stored(row.user_id),
            scope: ScopeSet::parse(&row.scope).ok_or_else(|| corrupt("refresh scope"))?,
            auth_time: UnixTime(row.auth_time),
            sid: (!row.sid.is_empty()).then_some(row.sid),
            act: (!row.act.is_empty()).then_some(row.act),
            issued_at: UnixTime(row.issued_at),
            expires_at: UnixTime(row.expires_at),
        })
    }
}
