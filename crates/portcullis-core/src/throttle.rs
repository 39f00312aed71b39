//! Failed sign-in throttling: after too many failures for one account name or
//! from one address within a window, further attempts are refused until the
//! window ends. The counts live in the database, shared by every replica. Account names are counted whether or not the account exists,
//! so the refusal reveals nothing. Accounts created on the sign-up page are
//! counted per address the same way.

use crate::token_hash::TokenHash;
use crate::{Seconds, Store, StoreError, UnixTime};

/// How many failures a key may have per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed per account name.
    pub per_account: u32,
    /// Failures allowed per client address.
    pub per_address: u32,
    /// Accounts one address may create by sign-up.
    pub signups_per_address: u32,
    /// The window the failures are counted in.
    pub window: Seconds,
}

impl Default for ThrottlePolicy {
    /// 5 failures per account, 50 per address and 10 sign-ups per address
    /// in 15 minutes.
    fn default() -> Self {
        ThrottlePolicy {
            per_account: 5,
            per_address: 50,
            signups_per_address: 10,
            window: Seconds(15 * 60),
        }
    }
}

/// Throttling decisions over counts kept in the [`Store`], so that every
/// replica on one database sees the same counts.
#[derive(Debug, Clone, Copy)]
pub struct Throttle<'a> {
    store: &'a dyn Store,
    policy: &'a ThrottlePolicy,
}

impl<'a> Throttle<'a> {
    /// Throttling by `policy` with counts in `store`.
    pub fn new(store: &'a dyn Store, policy: &'a ThrottlePolicy) -> Self {
        Throttle { store, policy }
    }

    /// `Some(seconds to wait)` when `account` (case-insensitive) or `address`
    /// has used up its failures in the current window.
    pub async fn blocked(
        &self,
        account: &str,
        address: &str,
        now: UnixTime,
    ) -> Result<Option<i64>, StoreError> {
        let account = self
            .check(&account_key(account), self.policy.per_account, now)
            .await?;
        let address = self
            .check(&address_key(address), self.policy.per_address, now)
            .await?;
        Ok(account.max(address))
    }

    /// Counts a failed sign-in.
    pub async fn failed(
        &self,
        account: &str,
        address: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        for key in [account_key(account), address_key(address)] {
            self.count(&key, now).await?;
        }
        Ok(())
    }

    /// Reserves one sign-in attempt for `account` and `address` before the
    /// password is checked, atomically: `Some(seconds to wait)` when either
    /// has used up its attempts in the current window, and then the
    /// password must not be checked. Of parallel attempts, at most the limit
    /// get `None`. After a successful check, [`Throttle::signed_in`] gives
    /// the attempt back.
    pub async fn reserve(
        &self,
        account: &str,
        address: &str,
        now: UnixTime,
    ) -> Result<Option<i64>, StoreError> {
        self.hit_both(&account_key(account), address, now).await
    }

    /// Counts one attempt for `key` (allowed `per_account`) and for
    /// `address`, atomically each: `Some(seconds to wait)` when either count
    /// is now over its limit.
    async fn hit_both(
        &self,
        key: &TokenHash,
        address: &str,
        now: UnixTime,
    ) -> Result<Option<i64>, StoreError> {
        let end = now + self.policy.window;
        let (keyed, key_ends) = self.store.throttle_hit(key, now, end).await?;
        let (addresses, address_ends) = self
            .store
            .throttle_hit(&address_key(address), now, end)
            .await?;
        let over =
            |count: u32, limit: u32, ends: UnixTime| (count > limit).then_some(ends.0 - now.0);
        Ok(over(keyed, self.policy.per_account, key_ends).max(over(
            addresses,
            self.policy.per_address,
            address_ends,
        )))
    }

    /// After a reserved attempt signed in: the account's count is cleared
    /// and the address gets its attempt back.
    pub async fn signed_in(
        &self,
        account: &str,
        address: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.store.throttle_clear(&account_key(account)).await?;
        self.store
            .throttle_release(&address_key(address), now)
            .await
    }

    /// Counts a refused probe from `address` (a taken name at sign-up)
    /// against its sign-in attempts; `Some(seconds to wait)` when it has
    /// used them up.
    pub async fn probed(&self, address: &str, now: UnixTime) -> Result<Option<i64>, StoreError> {
        let (count, ends) = self
            .store
            .throttle_hit(&address_key(address), now, now + self.policy.window)
            .await?;
        Ok((count > self.policy.per_address).then_some(ends.0 - now.0))
    }

    /// `Some(seconds to wait)` when `address` has used up its sign-in
    /// attempts in the current window.
    pub async fn address_blocked(
        &self,
        address: &str,
        now: UnixTime,
    ) -> Result<Option<i64>, StoreError> {
        self.check(&address_key(address), self.policy.per_address, now)
            .await
    }

    /// Forgets an account's failures after it signs in.
    pub async fn succeeded(&self, account: &str) -> Result<(), StoreError> {
        self.store.throttle_clear(&account_key(account)).await
    }

    /// `Some(seconds to wait)` when `address` has created its allowance of
    /// accounts in the current window.
    pub async fn signups_blocked(
        &self,
        address: &str,
        now: UnixTime,
    ) -> Result<Option<i64>, StoreError> {
        self.check(&signup_key(address), self.policy.signups_per_address, now)
            .await
    }

    /// Counts an account created by sign-up.
    pub async fn signed_up(&self, address: &str, now: UnixTime) -> Result<(), StoreError> {
        self.count(&signup_key(address), now).await
    }

    /// Reserves one user-code entry on the device page for `user` and
    /// `address` before the code is looked up, atomically, as
    /// [`Throttle::reserve`] does for passwords: `Some(seconds to wait)`
    /// when either has used up its attempts (the user its per-account
    /// allowance, the address its sign-in attempts), and then the code must
    /// not be looked up. A refused entry and a code that was found give the
    /// attempt back ([`Throttle::device_code_found`]), so only wrong codes
    /// count.
    pub async fn reserve_device_code(
        &self,
        user: &str,
        address: &str,
        now: UnixTime,
    ) -> Result<Option<i64>, StoreError> {
        let wait = self.hit_both(&device_key(user), address, now).await?;
        if wait.is_some() {
            // Refused before any lookup, so no guess: the attempt goes back.
            // What stays counted is only codes looked up and not found, and
            // each was looked up with at most the limit counted, so at
            // most the limit of wrong codes are ever looked up in a window.
            self.device_code_found(user, address, now).await?;
        }
        Ok(wait)
    }

    /// After a reserved user-code entry found its code: both counts get the
    /// attempt back.
    pub async fn device_code_found(
        &self,
        user: &str,
        address: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.store.throttle_release(&device_key(user), now).await?;
        self.store
            .throttle_release(&address_key(address), now)
            .await
    }

    async fn check(
        &self,
        key: &TokenHash,
        limit: u32,
        now: UnixTime,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .store
            .throttle_window(key)
            .await?
            .and_then(|(count, ends)| (count >= limit && now < ends).then_some(ends.0 - now.0)))
    }

    async fn count(&self, key: &TokenHash, now: UnixTime) -> Result<(), StoreError> {
        self.store
            .throttle_hit(key, now, now + self.policy.window)
            .await?;
        Ok(())
    }
}

// Keys are hashed: what people type as a username (sometimes a password)
// is never stored.
fn account_key(account: &str) -> TokenHash {
    TokenHash::of(&format!("account:{}", account.to_ascii_lowercase()))
}

fn device_key(user: &str) -> TokenHash {
    TokenHash::of(&format!("device-code:{user}"))
}

fn address_key(address: &str) -> TokenHash {
    TokenHash::of(&format!("address:{address}"))
}

fn signup_key(address: &str) -> TokenHash {
    TokenHash::of(&format!("signup:{address}"))
}
