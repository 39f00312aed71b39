//! The storage port. One implementation (SQLite and PostgreSQL) lives in
//! `portcullis-store`; every method is one use case, atomic inside the store.

use async_trait::async_trait;

use crate::password::PasswordHash;
use crate::pkce::CodeChallenge;
use crate::session::SessionRecord;
use crate::token_hash::TokenHash;
use crate::user::{User, UserId};
use crate::{
    Client, ClientId, KeyRecord, RotationPlan, ScopeSet, SecretHash, TokenError, UnixTime,
};

/// What a code stands for, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    /// SHA-256 of the code.
    pub hash: TokenHash,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user who authorized it.
    pub user_id: UserId,
    /// The redirect URI it was sent to.
    pub redirect_uri: String,
    /// Whether the authorization request named the redirect URI (then the
    /// token request must repeat it).
    pub redirect_uri_sent: bool,
    /// The granted scope.
    pub scope: ScopeSet,
    /// The request's `nonce`, for the ID token.
    pub nonce: Option<String>,
    /// The session (`sid`) it was issued in, for its ID token.
    pub sid: Option<String>,
    /// The PKCE challenge, when the request carried one; a code issued
    /// with one is redeemed only with its verifier, one issued without
    /// only without a verifier.
    pub code_challenge: Option<CodeChallenge>,
    /// When the user authenticated (`auth_time`).
    pub auth_time: UnixTime,
    /// When it was issued.
    pub issued_at: UnixTime,
    /// After this, it is refused.
    pub expires_at: UnixTime,
}

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// The sign-in it descends from (the hash of its authorization code).
    pub family: TokenHash,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user.
    pub user_id: UserId,
    /// The scope it may grant (never widened).
    pub scope: ScopeSet,
    /// When the user authenticated.
    pub auth_time: UnixTime,
    /// The browser session the sign-in began in, for its ID tokens.
    pub sid: Option<String>,
    /// The `act` claim (JSON) of the access tokens it gives, for a token
    /// exchange's refresh token.
    pub act: Option<String>,
    /// When it was issued.
    pub issued_at: UnixTime,
    /// After this, it is refused.
    pub expires_at: UnixTime,
}

/// A sign-in grant: the family its refresh tokens and access tokens share
/// (the `grant_id` of its access tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRecord {
    /// The family: the hash of the code it was redeemed from, or random.
    pub family: TokenHash,
    /// The client it was granted to.
    pub client_id: ClientId,
    /// The user who granted it.
    pub user_id: UserId,
    /// When it was granted.
    pub created_at: UnixTime,
    /// When the last token issued from it expires.
    pub live_until: UnixTime,
}

/// What a grant decided on finding its code or refresh token unspent: the
/// refresh token to store with the spend, and until when the family's
/// tokens live. Refusing (the `Err` of the check) leaves the token unspent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyStep {
    /// The refresh token to store: the first of a family, or a successor.
    pub refresh: Option<RefreshRecord>,
    /// The latest expiry of any token issued in this step.
    pub live_until: UnixTime,
}

/// The rule a grant applies to an unspent code or refresh token, inside the
/// store's transaction: its decision, or why the request is refused.
pub type GrantCheck<'a, R> = &'a (dyn Fn(&R) -> Result<FamilyStep, TokenError> + Send + Sync);

/// The rule a rotation applies to an unspent refresh token, inside the
/// store's transaction: its successor, or why the request is refused.
pub type SuccessorCheck<'a> =
    &'a (dyn Fn(&RefreshRecord) -> Result<RefreshRecord, TokenError> + Send + Sync);

/// What presenting a single-use code or refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spend<R> {
    /// This caller spent it, and what the check decided is stored with the
    /// spend, in one transaction: of concurrent callers, one gets this.
    Spent(R),
    /// The check refused the request; nothing changed, it stays usable.
    Refused(TokenError),
    /// It was spent (or revoked) before: its whole family is now revoked.
    Replayed(R),
    /// No such code or token.
    Unknown,
}

/// What the user decided on a device authorization (RFC 8628 3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceDecision {
    /// Not yet decided.
    Pending,
    /// Approved by `user`, who signed in at `auth_time`.
    Approved {
        /// The user.
        user: UserId,
        /// When the user authenticated.
        auth_time: UnixTime,
    },
    /// Denied.
    Denied,
}

/// A device authorization, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// SHA-256 of the device code (the family of what it issues).
    pub hash: TokenHash,
    /// SHA-256 of the normalized user code.
    pub user_code: TokenHash,
    /// The client that asked.
    pub client_id: ClientId,
    /// The scope asked for, and granted when approved.
    pub scope: ScopeSet,
    /// When it was issued.
    pub issued_at: UnixTime,
    /// After this, it is refused with `expired_token`.
    pub expires_at: UnixTime,
    /// The least time between two polls.
    pub interval: crate::Seconds,
    /// The last poll, if any.
    pub last_polled_at: Option<UnixTime>,
    /// What the user decided.
    pub decision: DeviceDecision,
}

/// What a device grant decided on a poll of an unspent device code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePollStep {
    /// Not yet: refused with this error, the poll recorded at `now` with
    /// this interval for the next one.
    Wait(TokenError, crate::Seconds),
    /// Refused; nothing changes.
    Refuse(TokenError),
    /// Approved: spend the device code and store this.
    Redeem(FamilyStep),
}

/// The rule a device grant applies to a polled device code, inside the
/// store's transaction.
pub type DevicePollCheck<'a> = &'a (dyn Fn(&DeviceRecord) -> DevicePollStep + Send + Sync);

/// What redeeming an authorization code did.
pub type Redemption = Spend<CodeRecord>;
/// What presenting a refresh token did.
pub type Rotation = Spend<RefreshRecord>;

/// A stored refresh token and whether it was spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefresh {
    /// The token.
    pub record: RefreshRecord,
    /// Used (rotated), revoked, or of a revoked family: it can no longer be exchanged.
    pub spent: bool,
}

/// Whose refresh tokens to revoke.
#[derive(Debug, Clone, Copy)]
pub enum RefreshHolder<'a> {
    /// Every token issued for a user (disabled or deleted).
    User(&'a UserId),
    /// Every token issued to a client (deleted).
    Client(&'a ClientId),
    /// The tokens one client holds for one user (a withdrawn grant).
    Grant(&'a UserId, &'a ClientId),
}

impl RefreshHolder<'_> {
    /// The user and the client the tokens must match; `None` matches any.
    pub fn filter(&self) -> (Option<&UserId>, Option<&ClientId>) {
        match *self {
            RefreshHolder::User(user) => (Some(user), None),
            RefreshHolder::Client(client) => (None, Some(client)),
            RefreshHolder::Grant(user, client) => (Some(user), Some(client)),
        }
    }
}

/// How long a spent or expired authorization code is kept: a replay within
/// this time still revokes what the code issued (RFC 9700 section 4.2.4).
pub const CODE_KEPT_AFTER_EXPIRY: crate::Seconds = crate::Seconds(86_400);

/// How many expired rows a cleanup removed, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleanup {
    /// Authorization codes.
    pub codes: u64,
    /// Device authorizations.
    pub device_codes: u64,
    /// Refresh tokens.
    pub refresh_tokens: u64,
    /// Token families whose last token expired.
    pub families: u64,
    /// Sessions.
    pub sessions: u64,
    /// Deny-list entries of revoked access tokens.
    pub revoked_access_tokens: u64,
    /// Logout notices delivered or failed a week ago, and the sign-in
    /// records of expired sessions.
    pub logout_notices: u64,
    /// Ended throttling windows.
    pub throttle_windows: u64,
}

/// What can go wrong in storage, as far as a caller can act on it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A concurrent change won: the caller may read again and retry.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database could not be reached or failed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored row cannot be read back (corruption or a newer schema).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

/// Persistent state of the authorization server.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Whether the database answers and takes a write (a full disk or a
    /// read-only database fails here): records `now` as the last probe.
    async fn ready(&self, now: UnixTime) -> Result<(), StoreError>;
    /// The connection pool: (open connections, idle ones).
    fn pool_stats(&self) -> (u32, u32);

    /// Stores a new client, with the hash of its registration access token
    /// when it registered itself through the API. `Conflict` if the id exists.
    async fn insert_client(
        &self,
        client: &Client,
        registration_token: Option<&SecretHash>,
    ) -> Result<(), StoreError>;
    /// The client with this id.
    async fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError>;
    /// Every client, oldest first.
    async fn clients(&self) -> Result<Vec<Client>, StoreError>;
    /// Deletes a client; `false` if there was none.
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError>;
    /// The hash of a client's registration access token; `None` for an
    /// unknown client or one an administrator created.
    async fn client_registration_token(
        &self,
        id: &ClientId,
    ) -> Result<Option<SecretHash>, StoreError>;
    /// Replaces a client's metadata (name, grants, scopes, audiences, URIs);
    /// its id, secret and creation time stay. `false` if there is no such client.
    async fn update_client(&self, client: &Client) -> Result<bool, StoreError>;
    /// Stores an initial access token for registration.
    async fn insert_registration_token(
        &self,
        hash: &SecretHash,
        uses: u32,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<(), StoreError>;
    /// Uses up one registration with an initial access token, atomically;
    /// `false` when unknown, expired or used up.
    async fn consume_registration_token(
        &self,
        hash: &SecretHash,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
    /// Replaces a client's secret hash; `false` if there is no such client.
    async fn set_client_secret(&self, id: &ClientId, hash: &SecretHash)
    -> Result<bool, StoreError>;

    /// Stores a new user. `Conflict` if the id or the username (regardless
    /// of case) exists.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;
    /// The user whose username has this case-insensitive key.
    async fn user_by_username(&self, key: &str) -> Result<Option<User>, StoreError>;
    /// The user with this id.
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// Every user, oldest first.
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Replaces a user's password hash and records when; `false` if there is no such user.
    async fn set_user_password(
        &self,
        id: &UserId,
        hash: &PasswordHash,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
    /// Disables or enables a user; `false` if there is no such user.
    async fn set_user_disabled(&self, id: &UserId, disabled: bool) -> Result<bool, StoreError>;
    /// Deletes a user; `false` if there was none.
    async fn delete_user(&self, id: &UserId) -> Result<bool, StoreError>;

    /// Stores an authorization code.
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError>;
    /// Redeems a code in one transaction: marks it used (only while its user
    /// exists and is enabled; otherwise it is refused), asks `check`, and
    /// stores the family it starts with its first refresh token. Of
    /// concurrent callers one gets [`Spend::Spent`]; a refused check
    /// changes nothing; a code used before revokes its family, so the
    /// tokens the first redemption issued die too (RFC 9700 section 4.2.4).
    async fn redeem_code(
        &self,
        hash: &TokenHash,
        now: UnixTime,
        check: GrantCheck<'_, CodeRecord>,
    ) -> Result<Redemption, StoreError>;

    /// Stores a device authorization. `Conflict` if its device code or user
    /// code exists.
    async fn insert_device_authorization(&self, record: &DeviceRecord) -> Result<(), StoreError>;
    /// The device authorization with this user code, whatever its state.
    async fn device_authorization(
        &self,
        user_code: &TokenHash,
    ) -> Result<Option<DeviceRecord>, StoreError>;
    /// Records the user's decision on a pending, unexpired device
    /// authorization, atomically; `false` when it is not pending (decided
    /// before, or unknown) or expired. Of concurrent decisions one wins.
    async fn decide_device_authorization(
        &self,
        user_code: &TokenHash,
        decision: &DeviceDecision,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
    /// Polls a device code in one transaction: locks it, asks `check`; a
    /// wait records the poll, a redemption marks it used (only while its
    /// user exists and is enabled) and stores the family it starts with its
    /// first refresh token. Of concurrent callers one gets
    /// [`Spend::Spent`]; a refusal changes nothing; a device code used
    /// before revokes its family.
    async fn poll_device_code(
        &self,
        hash: &TokenHash,
        now: UnixTime,
        check: DevicePollCheck<'_>,
    ) -> Result<Spend<DeviceRecord>, StoreError>;

    /// Adds a refresh token to a live family (a token exchange's, in the
    /// subject's grant), extending the family to cover it, in one
    /// transaction; `false` when the family is revoked or unknown.
    async fn add_to_family(&self, token: &RefreshRecord) -> Result<bool, StoreError>;

    /// Starts a family without a code (the password grant), with its first
    /// refresh token, in one transaction.
    async fn start_family(
        &self,
        family: &FamilyRecord,
        first: Option<&RefreshRecord>,
    ) -> Result<(), StoreError>;
    /// Rotates a refresh token in one transaction: locks its family, marks
    /// the token used (only while its user exists and is enabled; otherwise
    /// it is refused), asks `check` for the successor, stores it and extends
    /// the family to `live_until` (the latest expiry of what the rotation
    /// issues). Of concurrent callers one gets [`Spend::Spent`]; a refused
    /// check changes nothing; a failure anywhere leaves the token unspent. A
    /// token spent before revokes its whole family, successors included,
    /// unless the same client presents it again within `reuse_interval` of
    /// its rotation while its successor is still unused: then that successor
    /// is revoked and a new one stored (a response lost after commit).
    async fn rotate_refresh(
        &self,
        hash: &TokenHash,
        now: UnixTime,
        reuse_interval: crate::Seconds,
        live_until: UnixTime,
        check: SuccessorCheck<'_>,
    ) -> Result<Rotation, StoreError>;
    /// Revokes a family: every refresh token of it, and the access tokens
    /// whose `grant_id` it is. `false` if it was not live.
    async fn revoke_family(&self, family: &TokenHash, now: UnixTime) -> Result<bool, StoreError>;
    /// Whether a family exists and is not revoked.
    async fn family_live(&self, family: &TokenHash) -> Result<bool, StoreError>;
    /// The refresh token with this hash, spent or not.
    async fn refresh_token(&self, hash: &TokenHash) -> Result<Option<StoredRefresh>, StoreError>;
    /// Revokes every live family `holder` has (with its refresh and access
    /// tokens); returns how many.
    async fn revoke_refresh_of(
        &self,
        holder: RefreshHolder<'_>,
        now: UnixTime,
    ) -> Result<u64, StoreError>;

    /// Denies an access token by `jti` until it expires; `false` if it was
    /// denied already.
    async fn deny_access_token(
        &self,
        jti: &str,
        client: &ClientId,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
    /// Whether the access token with this `jti` was revoked.
    async fn access_token_denied(&self, jti: &str) -> Result<bool, StoreError>;

    /// The throttling window of `key`: (events counted, when it ends).
    async fn throttle_window(&self, key: &TokenHash)
    -> Result<Option<(u32, UnixTime)>, StoreError>;
    /// Counts one event for `key`, atomically: in its window if that has not
    /// ended at `now`, else in a new window ending at `window_end`. Returns
    /// the count with this event and when the window ends: of concurrent
    /// callers, each sees its own count.
    async fn throttle_hit(
        &self,
        key: &TokenHash,
        now: UnixTime,
        window_end: UnixTime,
    ) -> Result<(u32, UnixTime), StoreError>;
    /// Takes back one event of `key` in its current window (an attempt that
    /// turned out to be no failure).
    async fn throttle_release(&self, key: &TokenHash, now: UnixTime) -> Result<(), StoreError>;
    /// Forgets the events of `key`.
    async fn throttle_clear(&self, key: &TokenHash) -> Result<(), StoreError>;

    /// Deletes what expired before `now`: refresh tokens, families, sessions and
    /// deny-list entries (a denied token past its `exp` is refused anyway),
    /// and codes and device codes expired for [`CODE_KEPT_AFTER_EXPIRY`].
    async fn delete_expired(&self, now: UnixTime) -> Result<Cleanup, StoreError>;

    /// Stores a session.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// The session with this hash.
    async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError>;
    /// Ends a session and, in the same transaction, writes a logout notice
    /// for every client it signed in to that has a back-channel logout URI.
    async fn delete_session(&self, hash: &TokenHash, now: UnixTime) -> Result<(), StoreError>;
    /// Ends every session of a user, with their logout notices, in one
    /// transaction.
    async fn delete_sessions_of(&self, user: &UserId, now: UnixTime) -> Result<(), StoreError>;
    /// Records that `session` signed in to `client` (for back-channel logout).
    async fn record_session_client(
        &self,
        session: &SessionRecord,
        client: &ClientId,
    ) -> Result<(), StoreError>;
    /// Claims up to `limit` logout notices due at `now` for delivery: each
    /// is not due again for `lease`, so of replicas claiming at once, one
    /// gets each notice.
    async fn claim_logout_notices(
        &self,
        now: UnixTime,
        lease: crate::Seconds,
        limit: u32,
    ) -> Result<Vec<crate::backchannel::LogoutNotice>, StoreError>;
    /// Records what a delivery of notice `id` did.
    async fn settle_logout_notice(
        &self,
        id: &str,
        delivery: &crate::backchannel::Delivery,
        now: UnixTime,
    ) -> Result<(), StoreError>;

    /// What `user` allowed `client`, if anything.
    async fn consent(
        &self,
        user: &UserId,
        client: &ClientId,
    ) -> Result<Option<ScopeSet>, StoreError>;
    /// Everything `user` allowed: (client, scope, when), oldest first.
    async fn consents_of(
        &self,
        user: &UserId,
    ) -> Result<Vec<(ClientId, ScopeSet, UnixTime)>, StoreError>;
    /// Forgets what `user` allowed `client`; `false` if nothing was recorded.
    async fn delete_consent(&self, user: &UserId, client: &ClientId) -> Result<bool, StoreError>;
    /// Records (replaces) what `user` allowed `client`.
    async fn set_consent(
        &self,
        user: &UserId,
        client: &ClientId,
        scope: &ScopeSet,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// Every signing key, including expired ones.
    async fn keys(&self) -> Result<Vec<KeyRecord>, StoreError>;
    /// Stores the first keys, only if no process has done so yet; `false`
    /// when keys already existed (another replica won the race).
    async fn bootstrap_keys(&self, keys: &[KeyRecord]) -> Result<bool, StoreError>;
    /// Applies a rotation atomically. `Conflict` when the key it promotes is
    /// no longer the next key (a concurrent rotation won).
    async fn apply_rotation(&self, plan: &RotationPlan) -> Result<(), StoreError>;
}
