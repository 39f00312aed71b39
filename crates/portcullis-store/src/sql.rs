//! The SQL, written once and instantiated for SQLite and PostgreSQL.

use async_trait::async_trait;
use portcullis_core::backchannel::{Delivery, LogoutNotice};
use portcullis_core::password::PasswordHash;
use portcullis_core::session::SessionRecord;
use portcullis_core::store::CodeRecord;
use portcullis_core::store::RefreshRecord;
use portcullis_core::store::{
    CODE_KEPT_AFTER_EXPIRY, Cleanup, DeviceDecision, DevicePollCheck, DevicePollStep, DeviceRecord,
    FamilyRecord, GrantCheck, Redemption, RefreshHolder, Rotation, Spend, StoredRefresh,
    SuccessorCheck,
};
use portcullis_core::token_hash::TokenHash;
use portcullis_core::user::{User, UserId};
use portcullis_core::{
    Client, ClientId, KeyRecord, RotationPlan, ScopeSet, Seconds, SecretHash, Store, StoreError,
    TokenError, UnixTime,
};
use sqlx::{PgPool, SqlitePool};

use crate::rows::{
    ClientRow, CodeRow, DeviceRow, KeyRow, RefreshRow, SessionRow, UserRow, client_columns,
    decision_columns,
};

/// The store on embedded SQLite: reads on a pool, writes on one connection
/// of their own. SQLite lets one writer in at a time; queueing writers on an
/// async pool answers them in turn, where several writer connections would
/// wait for each other in SQLite's sleeping busy handler.
#[derive(Debug)]
pub(crate) struct SqliteStore {
    pub pool: SqlitePool,
    pub writer: SqlitePool,
}

/// The store on PostgreSQL (one pool; `writer` is the same pool).
#[derive(Debug)]
pub(crate) struct PostgresStore {
    pub pool: PgPool,
    pub writer: PgPool,
}

fn interpret(err: sqlx::Error) -> StoreError {
    if let Some(db) = err.as_database_error()
        && db.is_unique_violation()
    {
        return StoreError::Conflict("the row already exists");
    }
    match err {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(err.to_string())
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// A code or refresh token of a disabled or deleted user: refused, nothing spent.
const NO_USER: TokenError = TokenError::InvalidGrant("the user can no longer sign in");

/// Records (replaces) what a user allowed a client: user, client, scope, when.
const SET_CONSENT: &str = "INSERT INTO consents (user_id, client_id, scope, granted_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, client_id) DO UPDATE SET scope = $3, granted_at = $4";

const INSERT_KEY: &str = "INSERT INTO signing_keys \
     (kid, alg, public_jwk, sealed_private, created_at, activates_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// The statements that end sessions chosen by one column of
/// `session_clients` and of `sessions` (`$1`): their logout notices (`$2`
/// the time), then what they signed in to, then the sessions.
macro_rules! ending_sessions {
    ($clients_column:literal, $sessions_column:literal) => {
        [
            concat!(
                "INSERT INTO logout_notices (id, client_id, user_id, sid, created_at, next_attempt_at, attempts) ",
                "SELECT sc.sid || ' ' || sc.client_id, sc.client_id, sc.user_id, sc.sid, $2, $2, 0 ",
                "FROM session_clients sc JOIN clients c ON c.id = sc.client_id ",
                "WHERE sc.", $clients_column, " = $1 AND c.backchannel_logout_uri <> '' ON CONFLICT (id) DO NOTHING"
            ),
            concat!("DELETE FROM session_clients WHERE ", $clients_column, " = $1"),
            concat!("DELETE FROM sessions WHERE ", $sessions_column, " = $1"),
        ]
    };
}

macro_rules! implement_store {
    ($store:ty, $steps:ident) => {
        #[async_trait]
        impl Store for $store {
            async fn ready(&self, now: UnixTime) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO store_events (name, created_at) VALUES ('ready', $1) \
                     ON CONFLICT (name) DO UPDATE SET created_at = $1",
                )
                .bind(now.0)
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            fn pool_stats(&self) -> (u32, u32) {
                (self.pool.size(), u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX))
            }

            async fn insert_client(
                &self,
                client: &Client,
                registration_token: Option<&SecretHash>,
            ) -> Result<(), StoreError> {
                let columns = client_columns(client);
                sqlx::query(
                    "INSERT INTO clients (id, name, secret_hash, grant_types, scopes, audiences, \
                     redirect_uris, post_logout_redirect_uris, created_at, registration_token_hash, \
                     require_pkce, allow_impersonation, backchannel_logout_uri, \
                     backchannel_logout_session_required) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(client.id.as_str())
                .bind(&client.name)
                .bind(client.secret_hash.map(|h| h.as_bytes().to_vec()))
                .bind(columns.grant_types)
                .bind(columns.scopes)
                .bind(columns.audiences)
                .bind(columns.redirect_uris)
                .bind(columns.post_logout_redirect_uris)
                .bind(client.created_at.0)
                .bind(registration_token.map(|h| h.as_bytes().to_vec()))
                .bind(client.require_pkce)
                .bind(client.allow_impersonation)
                .bind(client.backchannel_logout_uri.as_deref().unwrap_or(""))
                .bind(client.backchannel_logout_session_required)
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            async fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
                sqlx::query_as::<_, ClientRow>("SELECT * FROM clients WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(interpret)?
                    .map(Client::try_from)
                    .transpose()
            }

            async fn clients(&self) -> Result<Vec<Client>, StoreError> {
                sqlx::query_as::<_, ClientRow>("SELECT * FROM clients ORDER BY created_at, id")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(interpret)?
                    .into_iter()
                    .map(Client::try_from)
                    .collect()
            }

            async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM clients WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&self.writer)
                    .await
                    .map_err(interpret)?;
                Ok(done.rows_affected() == 1)
            }

            async fn client_registration_token(&self, id: &ClientId) -> Result<Option<SecretHash>, StoreError> {
                let found: Option<Option<Vec<u8>>> = sqlx::query_scalar(
                    "SELECT registration_token_hash FROM clients WHERE id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(interpret)?;
                match found.flatten() {
                    None => Ok(None),
                    Some(bytes) => SecretHash::from_bytes(&bytes)
                        .map(Some)
                        .ok_or_else(|| StoreError::Corrupt("registration token hash".into())),
                }
            }

            async fn update_client(&self, client: &Client) -> Result<bool, StoreError> {
                let columns = client_columns(client);
                let done = sqlx::query(
                    "UPDATE clients SET name = $1, grant_types = $2, scopes = $3, audiences = $4, \
                     redirect_uris = $5, post_logout_redirect_uris = $6, backchannel_logout_uri = $7, \
                     backchannel_logout_session_required = $8 WHERE id = $9",
                )
                .bind(&client.name)
                .bind(columns.grant_types)
                .bind(columns.scopes)
                .bind(columns.audiences)
                .bind(columns.redirect_uris)
                .bind(columns.post_logout_redirect_uris)
                .bind(client.backchannel_logout_uri.as_deref().unwrap_or(""))
                .bind(client.backchannel_logout_session_required)
                .bind(client.id.as_str())
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_registration_token(
                &self,
                hash: &SecretHash,
                uses: u32,
                now: UnixTime,
                expires_at: UnixTime,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO registration_tokens (hash, uses_left, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(hash.as_bytes().to_vec())
                .bind(i64::from(uses))
                .bind(now.0)
                .bind(expires_at.0)
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            async fn consume_registration_token(&self, hash: &SecretHash, now: UnixTime) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE registration_tokens SET uses_left = uses_left - 1 \
                     WHERE hash = $1 AND uses_left > 0 AND expires_at > $2",
                )
                .bind(hash.as_bytes().to_vec())
                .bind(now.0)
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_client_secret(&self, id: &ClientId, hash: &SecretHash) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE clients SET secret_hash = $1 WHERE id = $2")
                    .bind(hash.as_bytes().to_vec())
                    .bind(id.as_str())
                    .execute(&self.writer)
                    .await
                    .map_err(interpret)?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
                let p = &user.profile;
                sqlx::query(
                    "INSERT INTO users (id, username, username_key, email, email_verified, name, \
                     given_name, family_name, password_hash, disabled, created_at, password_changed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(user.id.as_str())
                .bind(user.username.as_str())
                .bind(user.username.key())
                .bind(p.email.as_deref())
                .bind(p.email_verified)
                .bind(p.name.as_deref())
                .bind(p.given_name.as_deref())
                .bind(p.family_name.as_deref())
                .bind(user.password_hash.as_str())
                .bind(user.disabled)
                .bind(user.created_at.0)
                .bind(user.password_changed_at.0)
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            async fn user_by_username(&self, key: &str) -> Result<Option<User>, StoreError> {
                sqlx::query_as::<_, UserRow>("SELECT * FROM users WHERE username_key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(interpret)?
                    .map(User::try_from)
                    .transpose()
            }

            async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
                sqlx::query_as::<_, UserRow>("SELECT * FROM users WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(interpret)?
                    .map(User::try_from)
                    .transpose()
            }

            async fn users(&self) -> Result<Vec<User>, StoreError> {
                sqlx::query_as::<_, UserRow>("SELECT * FROM users ORDER BY created_at, id")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(interpret)?
                    .into_iter()
                    .map(User::try_from)
                    .collect()
            }

            async fn set_user_password(
                &self,
                id: &UserId,
                hash: &PasswordHash,
                at: UnixTime,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
                )
                .bind(hash.as_str())
                .bind(at.0)
                .bind(id.as_str())
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_user_disabled(&self, id: &UserId, disabled: bool) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                    .bind(disabled)
                    .bind(id.as_str())
                    .execute(&self.writer)
                    .await
                    .map_err(interpret)?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_user(&self, id: &UserId) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&self.writer)
                    .await
                    .map_err(interpret)?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, \
                     redirect_uri_sent, scope, nonce, code_challenge, auth_time, issued_at, expires_at, sid) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(code.hash.0.to_vec())
                .bind(code.client_id.as_str())
                .bind(code.user_id.as_str())
                .bind(&code.redirect_uri)
                .bind(code.redirect_uri_sent)
                .bind(code.scope.to_string())
                .bind(code.nonce.as_deref())
                .bind(code.code_challenge.as_ref().map_or("", |c| c.as_str()))
                .bind(code.auth_time.0)
                .bind(code.issued_at.0)
                .bind(code.expires_at.0)
                .bind(code.sid.as_deref().unwrap_or(""))
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            async fn redeem_code(
                &self,
                hash: &TokenHash,
                now: UnixTime,
                check: GrantCheck<'_, CodeRecord>,
            ) -> Result<Redemption, StoreError> {
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                // The conditional update is the single-use guarantee: one caller
                // wins, the others wait for its commit and find the code used.
                let won = sqlx::query_as::<_, CodeRow>(
                    "UPDATE authorization_codes SET used_at = $1 \
                     WHERE hash = $2 AND used_at IS NULL AND EXISTS \
                     (SELECT 1 FROM users u WHERE u.id = authorization_codes.user_id AND NOT u.disabled) \
                     RETURNING *",
                )
                .bind(now.0)
                .bind(hash.0.to_vec())
                .fetch_optional(&mut *tx)
                .await
                .map_err(interpret)?;
                if let Some(row) = won {
                    let record = CodeRecord::try_from(row)?;
                    let step = match check(&record) {
                        Ok(step) => step,
                        Err(refused) => {
                            tx.rollback().await.map_err(interpret)?;
                            return Ok(Spend::Refused(refused));
                        }
                    };
                    let family = FamilyRecord {
                        family: record.hash,
                        client_id: record.client_id.clone(),
                        user_id: record.user_id.clone(),
                        created_at: now,
                        live_until: step.live_until,
                    };
                    $steps::insert_family(&mut tx, &family).await?;
                    if let Some(first) = &step.refresh {
                        $steps::insert_refresh(&mut tx, first, None).await?;
                    }
                    tx.commit().await.map_err(interpret)?;
                    return Ok(Spend::Spent(record));
                }
                let row = sqlx::query_as::<_, CodeRow>("SELECT * FROM authorization_codes WHERE hash = $1")
                    .bind(hash.0.to_vec())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(interpret)?;
                let Some(row) = row else {
                    tx.rollback().await.map_err(interpret)?;
                    return Ok(Spend::Unknown);
                };
                if row.used_at.is_none() {
                    // Unspent, so its user is disabled or deleted.
                    tx.rollback().await.map_err(interpret)?;
                    return Ok(Spend::Refused(NO_USER));
                }
                let record = CodeRecord::try_from(row)?;
                // A replay: what the first redemption issued is revoked
                // (RFC 6749 section 4.1.2), committed although the request fails.
                $steps::revoke_family_in(&mut tx, &record.hash, now).await?;
                tx.commit().await.map_err(interpret)?;
                Ok(Spend::Replayed(record))
            }

            async fn insert_device_authorization(&self, record: &DeviceRecord) -> Result<(), StoreError> {
                let (decision, user, auth_time) = decision_columns(&record.decision);
                sqlx::query(
                    "INSERT INTO device_codes (hash, user_code, client_id, scope, issued_at, expires_at, \
                     poll_interval, last_polled_at, decision, user_id, auth_time) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(record.hash.0.to_vec())
                .bind(record.user_code.0.to_vec())
                .bind(record.client_id.as_str())
                .bind(record.scope.to_string())
                .bind(record.issued_at.0)
                .bind(record.expires_at.0)
                .bind(record.interval.0)
                .bind(record.last_polled_at.map(|t| t.0))
                .bind(decision)
                .bind(user)
                .bind(auth_time)
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            async fn device_authorization(&self, user_code: &TokenHash) -> Result<Option<DeviceRecord>, StoreError> {
                sqlx::query_as::<_, DeviceRow>("SELECT * FROM device_codes WHERE user_code = $1")
                    .bind(user_code.0.to_vec())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(interpret)?
                    .map(DeviceRecord::try_from)
                    .transpose()
            }

            async fn decide_device_authorization(
                &self,
                user_code: &TokenHash,
                decision: &DeviceDecision,
                now: UnixTime,
            ) -> Result<bool, StoreError> {
                let (name, user, auth_time) = decision_columns(decision);
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                // The conditional update decides once: of concurrent
                // decisions one finds the authorization pending.
                let decided: Option<(String, String)> = sqlx::query_as(
                    "UPDATE device_codes SET decision = $1, user_id = $2, auth_time = $3 \
                     WHERE user_code = $4 AND decision = 'pending' AND expires_at > $5 \
                     RETURNING client_id, scope",
                )
                .bind(name)
                .bind(user)
                .bind(auth_time)
                .bind(user_code.0.to_vec())
                .bind(now.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(interpret)?;
                let Some((client, scope)) = decided else {
                    tx.rollback().await.map_err(interpret)?;
                    return Ok(false);
                };
                if let Some(user) = user {
                    // The approval is the user's consent, as the consent page records it.
                    sqlx::query(SET_CONSENT)
                    .bind(user)
                    .bind(client)
                    .bind(scope)
                    .bind(now.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(interpret)?;
                }
                tx.commit().await.map_err(interpret)?;
                Ok(true)
            }

            async fn poll_device_code(
                &self,
                hash: &TokenHash,
                now: UnixTime,
                check: DevicePollCheck<'_>,
            ) -> Result<Spend<DeviceRecord>, StoreError> {
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                // An update that changes nothing locks the row: concurrent
                // polls of one device code queue here, each seeing the
                // state the previous one committed.
                let row = sqlx::query_as::<_, DeviceRow>(
                    "UPDATE device_codes SET hash = hash WHERE hash = $1 RETURNING *",
                )
                .bind(hash.0.to_vec())
                .fetch_optional(&mut *tx)
                .await
                .map_err(interpret)?;
                let Some(row) = row else {
                    tx.rollback().await.map_err(interpret)?;
                    return Ok(Spend::Unknown);
                };
                let used = row.used_at.is_some();
                let record = DeviceRecord::try_from(row)?;
                if used {
                    // Redeemed before: the client or an attacker holds a copy,
                    // so what it issued is revoked, committed though the request fails.
                    $steps::revoke_family_in(&mut tx, &record.hash, now).await?;
                    tx.commit().await.map_err(interpret)?;
                    return Ok(Spend::Replayed(record));
                }
                match check(&record) {
                    DevicePollStep::Refuse(refused) => {
                        tx.rollback().await.map_err(interpret)?;
                        Ok(Spend::Refused(refused))
                    }
                    DevicePollStep::Wait(refused, interval) => {
                        sqlx::query(
                            "UPDATE device_codes SET last_polled_at = $1, poll_interval = $2 WHERE hash = $3",
                        )
                        .bind(now.0)
                        .bind(interval.0)
                        .bind(hash.0.to_vec())
                        .execute(&mut *tx)
                        .await
                        .map_err(interpret)?;
                        tx.commit().await.map_err(interpret)?;
                        Ok(Spend::Refused(refused))
                    }
                    DevicePollStep::Redeem(step) => {
                        let DeviceDecision::Approved { user, .. } = &record.decision else {
                            tx.rollback().await.map_err(interpret)?;
                            return Ok(Spend::Refused(TokenError::InvalidGrant("the device code is not valid")));
                        };
                        let spent = sqlx::query(
                            "UPDATE device_codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL AND EXISTS \
                             (SELECT 1 FROM users u WHERE u.id = device_codes.user_id AND NOT u.disabled)",
                        )
                        .bind(now.0)
                        .bind(hash.0.to_vec())
                        .execute(&mut *tx)
                        .await
                        .map_err(interpret)?
                        .rows_affected();
                        if spent != 1 {
                            // The user who approved was disabled or deleted since.
                            tx.rollback().await.map_err(interpret)?;
                            return Ok(Spend::Refused(NO_USER));
                        }
                        let family = FamilyRecord {
                            family: record.hash,
                            client_id: record.client_id.clone(),
                            user_id: user.clone(),
                            created_at: now,
                            live_until: step.live_until,
                        };
                        $steps::insert_family(&mut tx, &family).await?;
                        if let Some(first) = &step.refresh {
                            $steps::insert_refresh(&mut tx, first, None).await?;
                        }
                        tx.commit().await.map_err(interpret)?;
                        Ok(Spend::Spent(record))
                    }
                }
            }

            async fn add_to_family(&self, token: &RefreshRecord) -> Result<bool, StoreError> {
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                // Locks the family, as every path does before its tokens.
                let live = sqlx::query(
                    "UPDATE token_families SET live_until = CASE WHEN live_until < $2 THEN $2 ELSE live_until END \
                     WHERE family = $1 AND revoked_at IS NULL",
                )
                .bind(token.family.0.to_vec())
                .bind(token.expires_at.0)
                .execute(&mut *tx)
                .await
                .map_err(interpret)?
                .rows_affected()
                    == 1;
                if !live {
                    tx.rollback().await.map_err(interpret)?;
                    return Ok(false);
                }
                $steps::insert_refresh(&mut tx, token, None).await?;
                tx.commit().await.map_err(interpret)?;
                Ok(true)
            }

            async fn start_family(
                &self,
                family: &FamilyRecord,
                first: Option<&RefreshRecord>,
            ) -> Result<(), StoreError> {
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                $steps::insert_family(&mut tx, family).await?;
                if let Some(first) = first {
                    $steps::insert_refresh(&mut tx, first, None).await?;
                }
                tx.commit().await.map_err(interpret)?;
                Ok(())
            }

            async fn rotate_refresh(
                &self,
                hash: &TokenHash,
                now: UnixTime,
                reuse_interval: Seconds,
                live_until: UnixTime,
                check: SuccessorCheck<'_>,
            ) -> Result<Rotation, StoreError> {
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                // Lock order: the family first, then its tokens, on every path
                // (a revocation does the same), so concurrent presentations of
                // one family queue here instead of deadlocking on each other.
                // A live family is extended to cover what this rotation issues;
                // a refusal or failure below rolls that back with the rest.
                let family: Option<Option<i64>> = sqlx::query_scalar(
                    "UPDATE token_families SET live_until = CASE \
                     WHEN revoked_at IS NULL AND live_until < $2 THEN $2 ELSE live_until END \
                     WHERE family = (SELECT family FROM refresh_tokens WHERE hash = $1) \
                     RETURNING revoked_at",
                )
                .bind(hash.0.to_vec())
                .bind(live_until.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(interpret)?;
                let family_live = matches!(family, Some(None));
                // One caller spends the token; the others find it spent.
                let won = sqlx::query_as::<_, RefreshRow>(
                    "UPDATE refresh_tokens SET used_at = $1 \
                     WHERE hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND EXISTS \
                     (SELECT 1 FROM users u WHERE u.id = refresh_tokens.user_id AND NOT u.disabled) \
                     RETURNING *",
                )
                .bind(now.0)
                .bind(hash.0.to_vec())
                .fetch_optional(&mut *tx)
                .await
                .map_err(interpret)?;
                if let Some(row) = won {
                    let record = RefreshRecord::try_from(row)?;
                    let next = match check(&record) {
                        Ok(next) => next,
                        Err(refused) => {
                            tx.rollback().await.map_err(interpret)?;
                            return Ok(Spend::Refused(refused));
                        }
                    };
                    if !family_live {
                        // Revoked (or never recorded): end every token of it.
                        $steps::revoke_family_in(&mut tx, &record.family, now).await?;
                        tx.commit().await.map_err(interpret)?;
                        return Ok(Spend::Replayed(record));
                    }
                    $steps::insert_refresh(&mut tx, &next, Some(hash)).await?;
                    tx.commit().await.map_err(interpret)?;
                    return Ok(Spend::Spent(record));
                }
                let row = sqlx::query_as::<_, RefreshRow>("SELECT * FROM refresh_tokens WHERE hash = $1")
                    .bind(hash.0.to_vec())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(interpret)?;
                let Some(row) = row else {
                    tx.rollback().await.map_err(interpret)?;
                    return Ok(Spend::Unknown);
                };
                if row.used_at.is_none() && row.revoked_at.is_none() {
                    // Unspent, so its user is disabled or deleted.
                    tx.rollback().await.map_err(interpret)?;
                    return Ok(Spend::Refused(NO_USER));
                }
                let within_interval = reuse_interval.0 > 0
                    && family_live
                    && row.revoked_at.is_none()
                    && row.used_at.is_some_and(|used| now.0 - used <= reuse_interval.0);
                let record = RefreshRecord::try_from(row)?;
                if within_interval && let Ok(next) = check(&record) {
                    // The successor must still be unused: a used one proves the
                    // client received it, and then this is a replay.
                    let replaced = sqlx::query(
                        "UPDATE refresh_tokens SET revoked_at = $1 \
                         WHERE parent = $2 AND used_at IS NULL AND revoked_at IS NULL",
                    )
                    .bind(now.0)
                    .bind(hash.0.to_vec())
                    .execute(&mut *tx)
                    .await
                    .map_err(interpret)?
                    .rows_affected();
                    if replaced == 1 {
                        $steps::insert_refresh(&mut tx, &next, Some(hash)).await?;
                        tx.commit().await.map_err(interpret)?;
                        return Ok(Spend::Spent(record));
                    }
                }
                // Presented again after its rotation: the client or an attacker
                // holds a copy. The revocation commits though the request fails.
                $steps::revoke_family_in(&mut tx, &record.family, now).await?;
                tx.commit().await.map_err(interpret)?;
                Ok(Spend::Replayed(record))
            }

            async fn revoke_family(&self, family: &TokenHash, now: UnixTime) -> Result<bool, StoreError> {
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                let live = $steps::revoke_family_in(&mut tx, family, now).await?;
                tx.commit().await.map_err(interpret)?;
                Ok(live)
            }

            async fn family_live(&self, family: &TokenHash) -> Result<bool, StoreError> {
                let found: Option<Option<i64>> =
                    sqlx::query_scalar("SELECT revoked_at FROM token_families WHERE family = $1")
                        .bind(family.0.to_vec())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(interpret)?;
                Ok(matches!(found, Some(None)))
            }

            async fn refresh_token(&self, hash: &TokenHash) -> Result<Option<StoredRefresh>, StoreError> {
                sqlx::query_as::<_, RefreshRow>(
                    "SELECT t.*, f.revoked_at AS family_revoked_at FROM refresh_tokens t \
                     LEFT JOIN token_families f ON f.family = t.family WHERE t.hash = $1",
                )
                    .bind(hash.0.to_vec())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(interpret)?
                    .map(|row| {
                        let spent = row.used_at.is_some()
                            || row.revoked_at.is_some()
                            || row.family_revoked_at.is_some();
                        RefreshRecord::try_from(row).map(|record| StoredRefresh { record, spent })
                    })
                    .transpose()
            }

            async fn revoke_refresh_of(&self, holder: RefreshHolder<'_>, now: UnixTime) -> Result<u64, StoreError> {
                let (user, client) = holder.filter();
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                let families = sqlx::query(
                    "UPDATE token_families SET revoked_at = $1 \
                     WHERE ($2 IS NULL OR user_id = $2) AND ($3 IS NULL OR client_id = $3) \
                     AND revoked_at IS NULL",
                )
                .bind(now.0)
                .bind(user.map(UserId::as_str))
                .bind(client.map(ClientId::as_str))
                .execute(&mut *tx)
                .await
                .map_err(interpret)?
                .rows_affected();
                sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $1 \
                     WHERE ($2 IS NULL OR user_id = $2) AND ($3 IS NULL OR client_id = $3) \
                     AND revoked_at IS NULL",
                )
                .bind(now.0)
                .bind(user.map(UserId::as_str))
                .bind(client.map(ClientId::as_str))
                .execute(&mut *tx)
                .await
                .map_err(interpret)?;
                tx.commit().await.map_err(interpret)?;
                Ok(families)
            }

            async fn deny_access_token(
                &self,
                jti: &str,
                client: &ClientId,
                expires_at: UnixTime,
                now: UnixTime,
            ) -> Result<bool, StoreError> {
                Ok(sqlx::query(
                    "INSERT INTO revoked_access_tokens (jti, client_id, expires_at, revoked_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO NOTHING",
                )
                .bind(jti)
                .bind(client.as_str())
                .bind(expires_at.0)
                .bind(now.0)
                .execute(&self.writer)
                .await
                .map_err(interpret)?
                .rows_affected()
                    == 1)
            }

            async fn access_token_denied(&self, jti: &str) -> Result<bool, StoreError> {
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT expires_at FROM revoked_access_tokens WHERE jti = $1")
                        .bind(jti)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(interpret)?;
                Ok(found.is_some())
            }

            async fn throttle_window(&self, key: &TokenHash) -> Result<Option<(u32, UnixTime)>, StoreError> {
                let row: Option<(i64, i64)> =
                    sqlx::query_as("SELECT count, expires_at FROM throttle_windows WHERE key = $1")
                        .bind(key.0.to_vec())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(interpret)?;
                Ok(row.map(|(count, ends)| (u32::try_from(count).unwrap_or(u32::MAX), UnixTime(ends))))
            }

            async fn throttle_hit(
                &self,
                key: &TokenHash,
                now: UnixTime,
                window_end: UnixTime,
            ) -> Result<(u32, UnixTime), StoreError> {
                let (count, ends): (i64, i64) = sqlx::query_as(
                    "INSERT INTO throttle_windows (key, count, expires_at) VALUES ($1, 1, $3) \
                     ON CONFLICT (key) DO UPDATE SET \
                     count = CASE WHEN throttle_windows.expires_at <= $2 THEN 1 ELSE throttle_windows.count + 1 END, \
                     expires_at = CASE WHEN throttle_windows.expires_at <= $2 THEN $3 ELSE throttle_windows.expires_at END \
                     RETURNING count, expires_at",
                )
                .bind(key.0.to_vec())
                .bind(now.0)
                .bind(window_end.0)
                .fetch_one(&self.writer)
                .await
                .map_err(interpret)?;
                Ok((u32::try_from(count).unwrap_or(u32::MAX), UnixTime(ends)))
            }

            async fn throttle_release(&self, key: &TokenHash, now: UnixTime) -> Result<(), StoreError> {
                sqlx::query(
                    "UPDATE throttle_windows SET count = count - 1 \
                     WHERE key = $1 AND count > 0 AND expires_at > $2",
                )
                .bind(key.0.to_vec())
                .bind(now.0)
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            async fn throttle_clear(&self, key: &TokenHash) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM throttle_windows WHERE key = $1")
                    .bind(key.0.to_vec())
                    .execute(&self.writer)
                    .await
                    .map_err(interpret)?;
                Ok(())
            }

            async fn delete_expired(&self, now: UnixTime) -> Result<Cleanup, StoreError> {
                let mut done = Cleanup::default();
                let codes_before = now.0 - CODE_KEPT_AFTER_EXPIRY.0;
                for (sql, before, count) in [
                    ("DELETE FROM authorization_codes WHERE expires_at <= $1", codes_before, &mut done.codes),
                    ("DELETE FROM device_codes WHERE expires_at <= $1", codes_before, &mut done.device_codes),
                    ("DELETE FROM refresh_tokens WHERE expires_at <= $1", now.0, &mut done.refresh_tokens),
                    ("DELETE FROM token_families WHERE live_until <= $1", now.0, &mut done.families),
                    ("DELETE FROM sessions WHERE expires_at <= $1", now.0, &mut done.sessions),
                    (
                        "DELETE FROM revoked_access_tokens WHERE expires_at <= $1",
                        now.0,
                        &mut done.revoked_access_tokens,
                    ),
                    ("DELETE FROM throttle_windows WHERE expires_at <= $1", now.0, &mut done.throttle_windows),
                    (
                        "DELETE FROM logout_notices WHERE COALESCE(delivered_at, failed_at) <= $1",
                        now.0 - 7 * 86_400,
                        &mut done.logout_notices,
                    ),
                ] {
                    *count = sqlx::query(sql)
                        .bind(before)
                        .execute(&self.writer)
                        .await
                        .map_err(interpret)?
                        .rows_affected();
                }
                // What expired sessions signed in to: they end without a logout.
                done.logout_notices += sqlx::query("DELETE FROM session_clients WHERE expires_at <= $1")
                    .bind(now.0)
                    .execute(&self.writer)
                    .await
                    .map_err(interpret)?
                    .rows_affected();
                Ok(done)
            }

            async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO sessions (hash, user_id, auth_time, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(session.hash.0.to_vec())
                .bind(session.user_id.as_str())
                .bind(session.auth_time.0)
                .bind(session.expires_at.0)
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
                sqlx::query_as::<_, SessionRow>("SELECT * FROM sessions WHERE hash = $1")
                    .bind(hash.0.to_vec())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(interpret)?
                    .map(SessionRecord::try_from)
                    .transpose()
            }

            async fn delete_session(&self, hash: &TokenHash, now: UnixTime) -> Result<(), StoreError> {
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                let statements = ending_sessions!("session_hash", "hash");
                $steps::end_sessions(&mut tx, statements, hash.0.to_vec(), now).await?;
                tx.commit().await.map_err(interpret)?;
                Ok(())
            }

            async fn delete_sessions_of(&self, user: &UserId, now: UnixTime) -> Result<(), StoreError> {
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                let statements = ending_sessions!("user_id", "user_id");
                $steps::end_sessions(&mut tx, statements, user.as_str().to_owned(), now).await?;
                tx.commit().await.map_err(interpret)?;
                Ok(())
            }

            async fn record_session_client(&self, session: &SessionRecord, client: &ClientId) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO session_clients (session_hash, client_id, user_id, sid, expires_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_hash, client_id) DO NOTHING",
                )
                .bind(session.hash.0.to_vec())
                .bind(client.as_str())
                .bind(session.user_id.as_str())
                .bind(portcullis_core::backchannel::sid_of(&session.hash))
                .bind(session.expires_at.0)
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            async fn claim_logout_notices(
                &self,
                now: UnixTime,
                lease: Seconds,
                limit: u32,
            ) -> Result<Vec<LogoutNotice>, StoreError> {
                // The outer condition is checked again on a row another
                // claimer updated meanwhile: then it no longer holds.
                let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
                    "UPDATE logout_notices SET next_attempt_at = $2 \
                     WHERE next_attempt_at <= $1 AND delivered_at IS NULL AND failed_at IS NULL AND id IN \
                     (SELECT id FROM logout_notices WHERE next_attempt_at <= $1 AND delivered_at IS NULL \
                      AND failed_at IS NULL ORDER BY next_attempt_at LIMIT $3) \
                     RETURNING id, client_id, user_id, sid, attempts",
                )
                .bind(now.0)
                .bind((now + lease).0)
                .bind(i64::from(limit))
                .fetch_all(&self.writer)
                .await
                .map_err(interpret)?;
                rows.into_iter()
                    .map(|(id, client, user, sid, attempts)| {
                        Ok(LogoutNotice {
                            id,
                            client_id: ClientId::parse(&client)
                                .ok_or_else(|| StoreError::Corrupt("logout notice client".into()))?,
                            user_id: UserId::from_stored(user),
                            sid,
                            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        })
                    })
                    .collect()
            }

            async fn settle_logout_notice(&self, id: &str, delivery: &Delivery, now: UnixTime) -> Result<(), StoreError> {
                let (sql, at, error) = match delivery {
                    Delivery::Delivered => (
                        "UPDATE logout_notices SET attempts = attempts + 1, delivered_at = $2, last_error = $3 WHERE id = $1",
                        now.0,
                        None,
                    ),
                    Delivery::Retry(next, why) => (
                        "UPDATE logout_notices SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1",
                        next.0,
                        Some(why.as_str()),
                    ),
                    Delivery::Failed(why) => (
                        "UPDATE logout_notices SET attempts = attempts + 1, failed_at = $2, last_error = $3 WHERE id = $1",
                        now.0,
                        Some(why.as_str()),
                    ),
                };
                sqlx::query(sql)
                    .bind(id)
                    .bind(at)
                    .bind(error)
                    .execute(&self.writer)
                    .await
                    .map_err(interpret)?;
                Ok(())
            }

            async fn consents_of(&self, user: &UserId) -> Result<Vec<(ClientId, ScopeSet, UnixTime)>, StoreError> {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT client_id, scope, granted_at FROM consents WHERE user_id = $1 ORDER BY granted_at, client_id",
                )
                .bind(user.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(interpret)?;
                rows.into_iter()
                    .map(|(client, scope, at)| {
                        let corrupt = || StoreError::Corrupt("consent".into());
                        Ok((
                            ClientId::parse(&client).ok_or_else(corrupt)?,
                            ScopeSet::parse(&scope).ok_or_else(corrupt)?,
                            UnixTime(at),
                        ))
                    })
                    .collect()
            }

            async fn delete_consent(&self, user: &UserId, client: &ClientId) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
                    .bind(user.as_str())
                    .bind(client.as_str())
                    .execute(&self.writer)
                    .await
                    .map_err(interpret)?;
                Ok(done.rows_affected() == 1)
            }

            async fn consent(&self, user: &UserId, client: &ClientId) -> Result<Option<ScopeSet>, StoreError> {
                let scope: Option<String> = sqlx::query_scalar(
                    "SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2",
                )
                .bind(user.as_str())
                .bind(client.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(interpret)?;
                scope
                    .map(|s| ScopeSet::parse(&s).ok_or_else(|| StoreError::Corrupt("consent scope".into())))
                    .transpose()
            }

            async fn set_consent(
                &self,
                user: &UserId,
                client: &ClientId,
                scope: &ScopeSet,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                sqlx::query(SET_CONSENT)
                .bind(user.as_str())
                .bind(client.as_str())
                .bind(scope.to_string())
                .bind(at.0)
                .execute(&self.writer)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            async fn keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
                sqlx::query_as::<_, KeyRow>("SELECT * FROM signing_keys ORDER BY created_at, kid")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(interpret)?
                    .into_iter()
                    .map(KeyRecord::try_from)
                    .collect()
            }

            async fn bootstrap_keys(&self, keys: &[KeyRecord]) -> Result<bool, StoreError> {
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                // Concurrent starters race on this primary key; the loser inserts nothing.
                let first = sqlx::query(
                    "INSERT INTO store_events (name, created_at) VALUES ('keys_bootstrapped', $1) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(keys.first().map_or(0, |k| k.created_at.0))
                .execute(&mut *tx)
                .await
                .map_err(interpret)?;
                if first.rows_affected() == 0 {
                    return Ok(false);
                }
                for key in keys {
                    bind_key(sqlx::query(INSERT_KEY), key)
                        .execute(&mut *tx)
                        .await
                        .map_err(interpret)?;
                }
                tx.commit().await.map_err(interpret)?;
                Ok(true)
            }

            async fn apply_rotation(&self, plan: &RotationPlan) -> Result<(), StoreError> {
                let mut tx = self.writer.begin().await.map_err(interpret)?;
                if let Some((kid, at)) = &plan.promote {
                    let promoted = sqlx::query(
                        "UPDATE signing_keys SET activates_at = $1 \
                         WHERE kid = $2 AND activates_at IS NULL AND expires_at IS NULL",
                    )
                    .bind(at.0)
                    .bind(kid)
                    .execute(&mut *tx)
                    .await
                    .map_err(interpret)?;
                    if promoted.rows_affected() != 1 {
                        return Err(StoreError::Conflict("another rotation promoted the next key first"));
                    }
                }
                for (kid, at) in &plan.expire {
                    let expired = sqlx::query(
                        "UPDATE signing_keys SET expires_at = $1 WHERE kid = $2 AND expires_at IS NULL",
                    )
                    .bind(at.0)
                    .bind(kid)
                    .execute(&mut *tx)
                    .await
                    .map_err(interpret)?;
                    if expired.rows_affected() != 1 {
                        return Err(StoreError::Conflict("another rotation retired the key first"));
                    }
                }
                for key in &plan.insert {
                    bind_key(sqlx::query(INSERT_KEY), key)
                        .execute(&mut *tx)
                        .await
                        .map_err(interpret)?;
                }
                tx.commit().await.map_err(interpret)?;
                Ok(())
            }
        }
    };
}

fn bind_key<'q, DB: sqlx::Database>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    key: &'q KeyRecord,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(key.kid.as_str())
        .bind(key.alg.as_str())
        .bind(key.public_jwk.as_str())
        .bind(key.sealed_private.as_slice())
        .bind(key.created_at.0)
        .bind(key.activates_at.map(|t| t.0))
        .bind(key.expires_at.map(|t| t.0))
}

/// The statements a transaction shares, for either database.
macro_rules! transaction_steps {
    ($db:ty, $mod:ident) => {
        mod $mod {
            use super::*;

            pub(super) async fn insert_family(
                tx: &mut sqlx::Transaction<'_, $db>,
                family: &FamilyRecord,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO token_families (family, client_id, user_id, created_at, live_until) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(family.family.0.to_vec())
                .bind(family.client_id.as_str())
                .bind(family.user_id.as_str())
                .bind(family.created_at.0)
                .bind(family.live_until.0)
                .execute(&mut **tx)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            pub(super) async fn insert_refresh(
                tx: &mut sqlx::Transaction<'_, $db>,
                token: &RefreshRecord,
                parent: Option<&TokenHash>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (hash, family, client_id, user_id, scope, auth_time, \
                     issued_at, expires_at, parent, sid, act) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(token.hash.0.to_vec())
                .bind(token.family.0.to_vec())
                .bind(token.client_id.as_str())
                .bind(token.user_id.as_str())
                .bind(token.scope.to_string())
                .bind(token.auth_time.0)
                .bind(token.issued_at.0)
                .bind(token.expires_at.0)
                .bind(parent.map(|p| p.0.to_vec()))
                .bind(token.sid.as_deref().unwrap_or(""))
                .bind(token.act.as_deref().unwrap_or(""))
                .execute(&mut **tx)
                .await
                .map_err(interpret)?;
                Ok(())
            }

            /// Ends the sessions `key` names with `statements` (see
            /// `ending_sessions!`), writing their logout notices first.
            pub(super) async fn end_sessions<K>(
                tx: &mut sqlx::Transaction<'_, $db>,
                [notices, clients, sessions]: [&'static str; 3],
                key: K,
                now: UnixTime,
            ) -> Result<(), StoreError>
            where
                K: for<'q> sqlx::Encode<'q, $db> + sqlx::Type<$db> + Clone + Send + 'static,
            {
                sqlx::query(notices)
                    .bind(key.clone())
                    .bind(now.0)
                    .execute(&mut **tx)
                    .await
                    .map_err(interpret)?;
                for sql in [clients, sessions] {
                    sqlx::query(sql)
                        .bind(key.clone())
                        .execute(&mut **tx)
                        .await
                        .map_err(interpret)?;
                }
                Ok(())
            }

            /// Revokes a family and every refresh token of it; `true` if the
            /// family was live.
            pub(super) async fn revoke_family_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                family: &TokenHash,
                now: UnixTime,
            ) -> Result<bool, StoreError> {
                let live = sqlx::query(
                    "UPDATE token_families SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL",
                )
                .bind(now.0)
                .bind(family.0.to_vec())
                .execute(&mut **tx)
                .await
                .map_err(interpret)?
                .rows_affected()
                    == 1;
                sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL",
                )
                .bind(now.0)
                .bind(family.0.to_vec())
                .execute(&mut **tx)
                .await
                .map_err(interpret)?;
                Ok(live)
            }
        }
    };
}

transaction_steps!(sqlx::Sqlite, sqlite_steps);
transaction_steps!(sqlx::Postgres, postgres_steps);

implement_store!(SqliteStore, sqlite_steps);
implement_store!(PostgresStore, postgres_steps);
