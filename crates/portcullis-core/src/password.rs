//! User passwords: the policy a new password must meet, and Argon2id hashes
//! in PHC form (the parameters travel with each hash, so raising them later
//! never locks anyone out).
//!
//! Hashing and checking cost tens of milliseconds of CPU by design: callers on
//! an async runtime run them on a blocking thread, never on a worker.

use argon2::password_hash::{PasswordHash as Phc, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::random;

/// OWASP's first recommended Argon2id configuration: 19 MiB, 2 passes, 1 lane.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over memory.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;

/// The fewest characters a password may have (NIST SP 800-63B).
pub const MIN_CHARS: usize = 8;
/// The most characters a new password may have (NIST asks for at least 64);
/// longer input only costs CPU.
pub const MAX_CHARS: usize = 256;

/// A password as typed, wiped from memory when dropped.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// Why a new password is refused. The messages are written for the person
/// choosing it; none of them repeats the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejected {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("the password must have at least {MIN_CHARS} characters")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("the password must have at most {MAX_CHARS} characters")]
    TooLong,
    /// The password is, or contains, the username or the email address's
    /// local part (NIST SP 800-63B 3.1.1.2: context-specific words).
    #[error("the password must not be or contain the username or the email address")]
    ContainsName,
    /// The estimator judges it guessable: a common or breached password, a
    /// dictionary word, a keyboard pattern, a date, a repetition.
    #[error("the password is too easy to guess{}", advice(.warning, .suggestion))]
    Guessable {
        /// What makes it guessable, when the estimator says.
        warning: Option<String>,
        /// How to make it stronger, when the estimator says.
        suggestion: Option<String>,
    },
}

fn advice(warning: &Option<String>, suggestion: &Option<String>) -> String {
    let mut text = String::new();
    for part in [warning, suggestion].into_iter().flatten() {
        text.push_str(". ");
        text.push_str(part.trim_end_matches('.'));
    }
    text
}

/// The account a new password is for: what it must not resemble.
#[derive(Debug, Clone, Copy)]
pub struct PasswordOwner<'a> {
    /// The username.
    pub username: &'a str,
    /// The email address, if the account has one.
    pub email: Option<&'a str>,
}

/// The rules every new password meets, wherever it is chosen: the sign-up
/// page, the account page, the admin API and the CLI. Passwords already
/// stored keep working when the rules change; the rules apply when a
/// password is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_score: Self::DEFAULT_MIN_SCORE,
        }
    }
}

/// Names shorter than this are refused only as the whole password: a
/// two-letter username appears inside too many good passwords by chance.
const NAME_MIN_CHARS: usize = 3;

impl PasswordPolicy {
    /// zxcvbn's own threshold: scores below 3 are "too guessable".
    pub const DEFAULT_MIN_SCORE: u8 = 3;

    /// A policy asking for at least `min_score` on zxcvbn's 0 to 4 scale
    /// (0 turns the estimator off; length and name rules still apply).
    /// `None` above 4.
    pub fn with_min_score(min_score: u8) -> Option<Self> {
        (min_score <= 4).then_some(PasswordPolicy { min_score })
    }

    /// The least estimator score a new password needs.
    pub fn min_score(&self) -> u8 {
        self.min_score
    }

    /// Checks a new password for `owner`.
    ///
    /// ```
    /// use portcullis_core::password::{PasswordOwner, PasswordPolicy, PasswordRejected};
    /// let policy = PasswordPolicy::default();
    /// let alice = PasswordOwner { username: "alice", email: Some("alice.l@example.com") };
    /// assert!(policy.check("violet kettle under marble", alice).is_ok());
    /// assert_eq!(policy.check("short", alice).unwrap_err(), PasswordRejected::TooShort);
    /// assert_eq!(policy.check("Alice2026!", alice).unwrap_err(), PasswordRejected::ContainsName);
    /// assert!(matches!(
    ///     policy.check("password1", alice).unwrap_err(),
    ///     PasswordRejected::Guessable { .. }
    /// ));
    /// ```
    pub fn check(
        &self,
        text: impl Into<String>,
        owner: PasswordOwner<'_>,
    ) -> Result<Password, PasswordRejected> {
        let text = Zeroizing::new(text.into());
        let chars = text.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordRejected::TooShort);
        }
        if chars > MAX_CHARS {
            return Err(PasswordRejected::TooLong);
        }
        let names = owner_names(owner);
        let lowered = Zeroizing::new(text.to_lowercase());
        let resembles = names.iter().any(|name| {
            *lowered == *name || (name.chars().count() >= NAME_MIN_CHARS && lowered.contains(name))
        });
        if resembles {
            return Err(PasswordRejected::ContainsName);
        }
        if self.min_score > 0 {
            let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
            let estimate = zxcvbn::zxcvbn(&text, &inputs);
            if u8::from(estimate.score()) < self.min_score {
                let feedback = estimate.feedback();
                return Err(PasswordRejected::Guessable {
                    warning: feedback.and_then(|f| f.warning()).map(|w| w.to_string()),
                    suggestion: feedback
                        .and_then(|f| f.suggestions().first())
                        .map(|s| s.to_string()),
                });
            }
        }
        Ok(Password(text))
    }
}

/// The username and the email's local part, lower-cased, without empties.
fn owner_names(owner: PasswordOwner<'_>) -> Vec<String> {
    let local = owner
        .email
        .map(|email| email.rsplit_once('@').map_or(email, |(local, _)| local));
    [Some(owner.username), local]
        .into_iter()
        .flatten()
        .filter(|name| !name.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl Password {
    /// Wraps a password presented at sign-in, without the policy for new ones.
    pub fn presented(text: impl Into<String>) -> Self {
        Password(Zeroizing::new(text.into()))
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// An Argon2id hash in PHC string form (`$argon2id$v=19$m=19456,t=2,p=1$...`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

fn hasher() -> Argon2<'static> {
    // The constants are valid parameters; `Params::new` only refuses out-of-range values.
    #[allow(clippy::expect_used)]
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("the OWASP Argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHash {
    /// Hashes `password` with a fresh random salt.
    pub fn create(password: &Password) -> Self {
        let salt = random::bytes::<16>();
        // A 16-byte salt always encodes, and hashing with valid parameters cannot fail.
        #[allow(clippy::expect_used)]
        let salt = SaltString::encode_b64(&salt).expect("a 16-byte salt encodes");
        #[allow(clippy::expect_used)]
        let phc = hasher()
            .hash_password(password.bytes(), &salt)
            .expect("Argon2id hashing with valid parameters");
        PasswordHash(phc.to_string())
    }

    /// Reads a stored hash; `None` unless it is a PHC string.
    pub fn from_stored(text: String) -> Option<Self> {
        Phc::new(&text).is_ok().then_some(PasswordHash(text))
    }

    /// The PHC string, for storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `password` matches, in time independent of where they differ.
    ///
    /// ```
    /// use portcullis_core::password::{Password, PasswordHash};
    /// let hash = PasswordHash::create(&Password::presented("correct horse"));
    /// assert!(hash.verify(&Password::presented("correct horse")));
    /// assert!(!hash.verify(&Password::presented("Correct horse")));
    /// ```
    pub fn verify(&self, password: &Password) -> bool {
        let Ok(phc) = Phc::new(&self.0) else {
            return false;
        };
        // The hash's own parameters apply, so older hashes keep verifying.
        Argon2::default()
            .verify_password(password.bytes(), &phc)
            .is_ok()
    }

    /// Spends the time of one verification without a stored hash, so that
    /// an unknown account answers as slowly as a wrong password.
    pub fn verify_nothing(password: &Password) {
        static DUMMY: std::sync::OnceLock<PasswordHash> = std::sync::OnceLock::new();
        let dummy = DUMMY.get_or_init(|| PasswordHash::create(&Password::presented("x")));
        let _ = dummy.verify(password);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters_and_a_unique_salt() {
        let password = Password::presented("correct horse battery");
        let a = PasswordHash::create(&password);
        let b = PasswordHash::create(&password);
        assert!(
            a.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            a.as_str()
        );
        assert_ne!(a, b, "a fresh salt each time");
        assert!(a.verify(&password) && b.verify(&password));
        assert!(!a.verify(&Password::presented("correct horse battery ")));
    }

    const NOBODY: PasswordOwner<'static> = PasswordOwner {
        username: "nobody",
        email: None,
    };

    #[test]
    fn policy_counts_characters_and_caps_bytes() {
        let lengths_only = PasswordPolicy::with_min_score(0).unwrap_or_else(|| unreachable!());
        assert_eq!(
            lengths_only.check("ééééééé", NOBODY).unwrap_err(),
            PasswordRejected::TooShort
        );
        assert!(lengths_only.check("éééééééé", NOBODY).is_ok());
        assert!(lengths_only.check("é".repeat(MAX_CHARS), NOBODY).is_ok());
        assert_eq!(
            lengths_only
                .check("é".repeat(MAX_CHARS + 1), NOBODY)
                .unwrap_err(),
            PasswordRejected::TooLong
        );
    }

    #[test]
    fn the_username_and_the_email_local_part_are_refused_anywhere_in_any_case() {
        let policy = PasswordPolicy::default();
        let owner = PasswordOwner {
            username: "Rosalind",
            email: Some("r.franklin@example.org"),
        };
        for password in [
            "rosalind",
            "ROSALIND",
            "my name is rosalind ok",
            "r.franklin",
            "xx R.Franklin 1952 xx",
        ] {
            assert_eq!(
                policy.check(password, owner).unwrap_err(),
                PasswordRejected::ContainsName,
                "{password}"
            );
        }
        // A two-letter name is refused only as the whole password.
        let short = PasswordOwner {
            username: "al",
            email: None,
        };
        assert!(policy.check("gallant violet metronome", short).is_ok());
    }

    #[test]
    fn common_patterned_and_dictionary_passwords_are_refused_with_advice() {
        let policy = PasswordPolicy::default();
        for password in [
            "password",
            "password1",
            "12345678",
            "qwertyuiop",
            "aaaaaaaaaa",
            "iloveyou",
            "sunshine",
            "monkey123",
        ] {
            let err = policy.check(password, NOBODY).unwrap_err();
            assert!(
                matches!(err, PasswordRejected::Guessable { .. }),
                "{password}: {err:?}"
            );
            if password != "password" {
                assert!(!err.to_string().contains(password), "{err}");
            }
        }
        let err = policy.check("password1", NOBODY).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the password is too easy to guess. This is a very common password. \
             Add another word or two. Uncommon words are better"
        );
        // Every score from 0 to 4 is a policy; 5 is none.
        assert!(PasswordPolicy::with_min_score(4).is_some());
        assert!(PasswordPolicy::with_min_score(5).is_none());
    }

    #[test]
    fn a_stored_value_that_is_not_a_phc_string_is_refused() {
        assert!(PasswordHash::from_stored("plaintext".into()).is_none());
        let hash = PasswordHash::create(&Password::presented("whatever1"));
        let again = PasswordHash::from_stored(hash.as_str().to_owned());
        assert_eq!(again, Some(hash));
    }
}
