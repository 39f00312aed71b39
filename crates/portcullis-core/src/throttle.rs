//! Failed sign-in throttling: after too many failures for one account name or
//! from one address within a window, further attempts are refused until the
//! window ends. Account names are counted whether or not the account exists,
//! so the refusal reveals nothing. Accounts created on the sign-up page are
//! counted per address the same way.

use std::collections::HashMap;

use crate::{Seconds, UnixTime};

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

/// Failure counts in memory (one process).
#[derive(Debug, Default)]
pub struct Throttle {
    policy: ThrottlePolicy,
    failures: HashMap<String, (UnixTime, u32)>,
}

/// The most keys remembered before old windows are swept.
const MAX_KEYS: usize = 100_000;

impl Throttle {
    /// An empty throttle with `policy`.
    pub fn new(policy: ThrottlePolicy) -> Self {
        Throttle {
            policy,
            failures: HashMap::new(),
        }
    }

    /// `Some(seconds to wait)` when `account` (case-insensitive) or `address`
    /// has used up its failures in the current window.
    ///
    /// ```
    /// use portcullis_core::throttle::{Throttle, ThrottlePolicy};
    /// use portcullis_core::{Seconds, UnixTime};
    /// let mut t = Throttle::new(ThrottlePolicy { per_account: 2, per_address: 10, window: Seconds(60), ..ThrottlePolicy::default() });
    /// t.failed("alice", "10.0.0.1", UnixTime(0));
    /// assert_eq!(t.blocked("alice", "10.0.0.1", UnixTime(1)), None);
    /// t.failed("ALICE", "10.0.0.2", UnixTime(1));
    /// assert_eq!(t.blocked("alice", "10.0.0.3", UnixTime(2)), Some(58));
    /// assert_eq!(t.blocked("alice", "10.0.0.3", UnixTime(60)), None);
    /// ```
    pub fn blocked(&self, account: &str, address: &str, now: UnixTime) -> Option<i64> {
        let account = self.check(account_key(account), self.policy.per_account, now);
        let address = self.check(address_key(address), self.policy.per_address, now);
        account.max(address)
    }

    /// Counts a failed sign-in.
    pub fn failed(&mut self, account: &str, address: &str, now: UnixTime) {
        for key in [account_key(account), address_key(address)] {
            self.count(key, now);
        }
    }

    /// `Some(seconds to wait)` when `address` has created its allowance of
    /// accounts in the current window.
    ///
    /// ```
    /// use portcullis_core::throttle::{Throttle, ThrottlePolicy};
    /// use portcullis_core::{Seconds, UnixTime};
    /// let mut t = Throttle::new(ThrottlePolicy { signups_per_address: 1, window: Seconds(60), ..ThrottlePolicy::default() });
    /// t.signed_up("10.0.0.1", UnixTime(0));
    /// assert_eq!(t.signups_blocked("10.0.0.1", UnixTime(10)), Some(50));
    /// assert_eq!(t.signups_blocked("10.0.0.2", UnixTime(10)), None);
    /// ```
    pub fn signups_blocked(&self, address: &str, now: UnixTime) -> Option<i64> {
        self.check(signup_key(address), self.policy.signups_per_address, now)
    }

    /// Counts an account created by sign-up.
    pub fn signed_up(&mut self, address: &str, now: UnixTime) {
        self.count(signup_key(address), now);
    }

    fn check(&self, key: String, limit: u32, now: UnixTime) -> Option<i64> {
        self.failures.get(&key).and_then(|(start, count)| {
            let ends = start.0 + self.policy.window.0;
            (*count >= limit && now.0 < ends).then_some(ends - now.0)
        })
    }

    fn count(&mut self, key: String, now: UnixTime) {
        if self.failures.len() >= MAX_KEYS {
            let window = self.policy.window.0;
            self.failures
                .retain(|_, (start, _)| now.0 < start.0 + window);
        }
        let entry = self.failures.entry(key).or_insert((now, 0));
        if now.0 >= entry.0.0 + self.policy.window.0 {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Forgets an account's failures after it signs in.
    pub fn succeeded(&mut self, account: &str) {
        self.failures.remove(&account_key(account));
    }
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.to_ascii_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

fn signup_key(address: &str) -> String {
    format!("signup:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_spraying_many_accounts_is_stopped_too() {
        let mut t = Throttle::new(ThrottlePolicy {
            per_account: 5,
            per_address: 3,
            window: Seconds(100),
            ..ThrottlePolicy::default()
        });
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            t.failed(name, "192.0.2.1", UnixTime(i as i64));
        }
        assert_eq!(t.blocked("d", "192.0.2.1", UnixTime(10)), Some(90));
        assert_eq!(t.blocked("d", "192.0.2.2", UnixTime(10)), None);
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let mut t = Throttle::new(ThrottlePolicy {
            per_account: 1,
            per_address: 2,
            window: Seconds(100),
            ..ThrottlePolicy::default()
        });
        t.failed("a", "x", UnixTime(0));
        assert!(t.blocked("a", "y", UnixTime(1)).is_some());
        t.succeeded("A");
        assert!(t.blocked("a", "y", UnixTime(1)).is_none());
        t.failed("b", "x", UnixTime(2));
        assert!(t.blocked("c", "x", UnixTime(3)).is_some());
    }
}
