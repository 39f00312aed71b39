//! People who sign in: their identifiers, profile claims and password hash.

use std::fmt;

use crate::password::PasswordHash;
use crate::{UnixTime, random};

/// A user's stable identifier: random, never reused, the `sub` of their tokens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// A new random identifier (128 bits).
    pub fn generate() -> Self {
        UserId(random::token::<16>())
    }

    /// An identifier read back from storage.
    pub fn from_stored(text: String) -> Self {
        UserId(text)
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a username or an email address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileRejected {
    /// The username breaks the rules of [`Username::parse`].
    #[error(
        "a username has 1 to 64 characters: letters, digits and . _ @ + -, starting with a letter or digit"
    )]
    Username,
    /// The email address is not `local@domain`.
    #[error("the email address is not of the form name@domain")]
    Email,
    /// A name field is too long or holds control characters.
    #[error("a name has at most 256 characters and no control characters")]
    Name,
}

/// A username as the user chose it. Usernames are unique regardless of
/// case: [`Username::key`] is what the store keeps unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses a username: 1 to 64 ASCII letters, digits and `. _ @ + -`,
    /// starting with a letter or digit (no look-alike Unicode, no spaces).
    ///
    /// ```
    /// use portcullis_core::user::Username;
    /// assert_eq!(Username::parse("Alice.Smith").unwrap().key(), "alice.smith");
    /// assert!(Username::parse("alice smith").is_err());
    /// assert!(Username::parse("-alice").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, ProfileRejected> {
        let ok = (1..=64).contains(&text.len())
            && text
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._@+-".contains(&b));
        ok.then(|| Username(text.to_owned()))
            .ok_or(ProfileRejected::Username)
    }

    /// The username as chosen.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key: two usernames with the same key are the same account.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The claims of the `profile` and `email` scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// `email`.
    pub email: Option<String>,
    /// `email_verified`: set only by an administrator or a verification flow.
    pub email_verified: bool,
    /// `name`: the full name.
    pub name: Option<String>,
    /// `given_name`.
    pub given_name: Option<String>,
    /// `family_name`.
    pub family_name: Option<String>,
}

impl Profile {
    /// Checks the fields a user or an administrator typed.
    ///
    /// ```
    /// use portcullis_core::user::{Profile, ProfileRejected};
    /// let ok = Profile { email: Some("a@example.com".into()), ..Profile::default() };
    /// assert!(ok.validate().is_ok());
    /// let bad = Profile { email: Some("not an address".into()), ..Profile::default() };
    /// assert_eq!(bad.validate(), Err(ProfileRejected::Email));
    /// ```
    pub fn validate(&self) -> Result<(), ProfileRejected> {
        if let Some(email) = &self.email {
            // Characters, not bytes, as JSON Schema's maxLength counts.
            let valid = email.chars().count() <= 254
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty()
                        && !domain.is_empty()
                        && !domain.contains('@')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                });
            if !valid {
                return Err(ProfileRejected::Email);
            }
        }
        for name in [&self.name, &self.given_name, &self.family_name]
            .into_iter()
            .flatten()
        {
            if name.chars().count() > 256 || name.chars().any(char::is_control) {
                return Err(ProfileRejected::Name);
            }
        }
        Ok(())
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable identifier, the `sub` claim.
    pub id: UserId,
    /// The sign-in name.
    pub username: Username,
    /// Profile claims.
    pub profile: Profile,
    /// The Argon2id hash of the password.
    pub password_hash: PasswordHash,
    /// A disabled user cannot sign in or refresh tokens.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: UnixTime,
    /// When the password was last set; sessions older than this end.
    pub password_changed_at: UnixTime,
}

/// What is needed to create a user. The password arrives already hashed:
/// hashing is slow by design and runs where the caller can afford it.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The sign-in name.
    pub username: Username,
    /// Profile claims.
    pub profile: Profile,
    /// The hash of the chosen password.
    pub password_hash: PasswordHash,
}

impl NewUser {
    /// The account, with a fresh identifier.
    pub fn register(self, now: UnixTime) -> User {
        User {
            id: UserId::generate(),
            username: self.username,
            profile: self.profile,
            password_hash: self.password_hash,
            disabled: false,
            created_at: now,
            password_changed_at: now,
        }
    }
}
