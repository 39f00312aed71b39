//! Browser sessions: who signed in, when, until when. The cookie carries a
//! random token; only its SHA-256 is stored.

use crate::token_hash::TokenHash;
use crate::user::{User, UserId};
use crate::{Seconds, UnixTime, random};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie's token.
    pub hash: TokenHash,
    /// Who signed in.
    pub user_id: UserId,
    /// When they entered their password (`auth_time`).
    pub auth_time: UnixTime,
    /// When the session ends regardless of activity.
    pub expires_at: UnixTime,
}

/// A new session: the token for the cookie (shown once) and what to store.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie's value: 256 random bits.
    pub token: String,
    /// What to store.
    pub record: SessionRecord,
}

impl NewSession {
    /// A session for `user`, who just entered their password.
    pub fn start(user: &UserId, now: UnixTime, lifetime: Seconds) -> Self {
        let token = random::token::<32>();
        NewSession {
            record: SessionRecord {
                hash: TokenHash::of(&token),
                user_id: user.clone(),
                auth_time: now,
                expires_at: now + lifetime,
            },
            token,
        }
    }
}

impl SessionRecord {
    /// Whether the session still signs `user` in at `now`: not expired, the
    /// user not disabled, and the password not changed since sign-in.
    pub fn is_valid_for(&self, user: &User, now: UnixTime) -> bool {
        now < self.expires_at
            && !user.disabled
            && user.id == self.user_id
            && self.auth_time >= user.password_changed_at
    }
}
