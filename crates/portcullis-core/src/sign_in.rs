//! Password sign-in, the one owner of its rule for every door a password
//! comes through (`/login`, the password grant, the account page's
//! current-password check): an attempt reserved on the throttle first
//! (counted before the check, so parallel guesses hold to the limit), then
//! the user, then Argon2 (the same work and the same answer whether or not
//! the account exists); a success gives the attempt back.
//!
//! Argon2 costs tens of milliseconds of CPU by design; it runs behind
//! [`PasswordWork`], which the server implements on a blocking thread.

use async_trait::async_trait;

use crate::password::{Password, PasswordHash};
use crate::throttle::{Throttle, ThrottlePolicy};
use crate::user::{User, Username};
use crate::{Store, StoreError, UnixTime};

/// Where password hashing and checking run (never on an async worker).
#[async_trait]
pub trait PasswordWork: Send + Sync + std::fmt::Debug {
    /// Whether `presented` matches `hash`; with no hash, the same work
    /// against a dummy, and `false`.
    async fn verify(&self, hash: Option<PasswordHash>, presented: Password) -> bool;
    /// A new Argon2id hash of `password`.
    async fn hash(&self, password: Password) -> PasswordHash;
}

/// Why a sign-in with a password did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SignInRefused {
    /// Too many failures for this account name or address: wait this many seconds.
    #[error("too many failed sign-ins; retry in {0} s")]
    Throttled(i64),
    /// Unknown user, wrong password or disabled account: one answer for all.
    #[error("the username or password is not right")]
    Wrong,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The password sign-in use case over a store, a throttling policy and the
/// password work port.
#[derive(Debug, Clone, Copy)]
pub struct PasswordSignIn<'a> {
    /// Users and throttle counts.
    pub store: &'a dyn Store,
    /// How many failures are allowed.
    pub throttle: &'a ThrottlePolicy,
    /// Where Argon2 runs.
    pub work: &'a dyn PasswordWork,
}

impl PasswordSignIn<'_> {
    /// Signs `username` in with `password` from `address`: the user, or why not.
    /// A failure is counted; a success clears the account's count.
    pub async fn sign_in(
        &self,
        username: &str,
        password: Password,
        address: &str,
        now: UnixTime,
    ) -> Result<User, SignInRefused> {
        let throttle = Throttle::new(self.store, self.throttle);
        // Count first, then check: parallel guesses cannot all slip in
        // between a read of the count and its increment.
        if let Some(wait) = throttle.reserve(username, address, now).await? {
            return Err(SignInRefused::Throttled(wait));
        }
        let user = match Username::parse(username) {
            Ok(name) => self.store.user_by_username(&name.key()).await?,
            Err(_) => None,
        };
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let verified = self.work.verify(hash, password).await;
        match user {
            Some(user) if verified && !user.disabled => {
                throttle.signed_in(username, address, now).await?;
                Ok(user)
            }
            // The reserved attempt stays counted as the failure.
            _ => Err(SignInRefused::Wrong),
        }
    }

    /// Checks the password of a user who is signed in already (before a
    /// password change), counted like a sign-in.
    pub async fn confirm(
        &self,
        user: &User,
        password: Password,
        address: &str,
        now: UnixTime,
    ) -> Result<(), SignInRefused> {
        let confirmed = self
            .sign_in(user.username.as_str(), password, address, now)
            .await?;
        if confirmed.id == user.id {
            Ok(())
        } else {
            Err(SignInRefused::Wrong)
        }
    }
}
