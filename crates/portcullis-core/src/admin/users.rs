//! Creating, listing, disabling and deleting users and setting their passwords.
//!
//! Passwords arrive hashed: callers hash on a blocking thread
//! ([`PasswordHash::create`]) before they call in.

use crate::password::PasswordHash;
use crate::store::RefreshHolder;
use crate::user::{NewUser, User, Username};
use crate::{Store, StoreError, UnixTime};

/// Why an administrative change to a user did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UserAdminError {
    /// Another account has this username (regardless of case).
    #[error("the username `{0}` is taken")]
    Taken(String),
    /// No account has this username.
    #[error("no user `{0}`")]
    NotFound(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a user.
pub async fn create(
    store: &dyn Store,
    new: NewUser,
    now: UnixTime,
) -> Result<User, UserAdminError> {
    let user = new.register(now);
    match store.insert_user(&user).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict(_)) => Err(UserAdminError::Taken(user.username.to_string())),
        Err(err) => Err(err.into()),
    }
}

/// The user with this username (case-insensitive).
pub async fn find(store: &dyn Store, username: &Username) -> Result<User, UserAdminError> {
    store
        .user_by_username(&username.key())
        .await?
        .ok_or_else(|| UserAdminError::NotFound(username.to_string()))
}

/// Sets a user's password; every session of the user ends.
pub async fn set_password(
    store: &dyn Store,
    username: &Username,
    hash: &PasswordHash,
    now: UnixTime,
) -> Result<User, UserAdminError> {
    let user = find(store, username).await?;
    if !store.set_user_password(&user.id, hash, now).await? {
        return Err(UserAdminError::NotFound(username.to_string()));
    }
    store.delete_sessions_of(&user.id, now).await?;
    Ok(user)
}

/// Disables (or re-enables) a user: a disabled user cannot sign in or refresh.
pub async fn set_disabled(
    store: &dyn Store,
    username: &Username,
    disabled: bool,
    now: UnixTime,
) -> Result<User, UserAdminError> {
    let user = find(store, username).await?;
    if !store.set_user_disabled(&user.id, disabled).await? {
        return Err(UserAdminError::NotFound(username.to_string()));
    }
    if disabled {
        store.delete_sessions_of(&user.id, now).await?;
        store
            .revoke_refresh_of(RefreshHolder::User(&user.id), now)
            .await?;
    }
    Ok(user)
}

/// Deletes a user.
pub async fn delete(
    store: &dyn Store,
    username: &Username,
    now: UnixTime,
) -> Result<User, UserAdminError> {
    let user = find(store, username).await?;
    store.delete_sessions_of(&user.id, now).await?;
    store
        .revoke_refresh_of(RefreshHolder::User(&user.id), now)
        .await?;
    if !store.delete_user(&user.id).await? {
        return Err(UserAdminError::NotFound(username.to_string()));
    }
    Ok(user)
}

/// Signs `username` out everywhere: every browser session ends.
pub async fn end_sessions(
    store: &dyn Store,
    username: &Username,
    now: UnixTime,
) -> Result<User, UserAdminError> {
    let user = find(store, username).await?;
    store.delete_sessions_of(&user.id, now).await?;
    Ok(user)
}
