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
/// The most bytes a password may have: longer input only costs CPU.
pub const MAX_BYTES: usize = 1024;

/// A password as typed, wiped from memory when dropped.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejected {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("the password must have at least {MIN_CHARS} characters")]
    TooShort,
    /// More than [`MAX_BYTES`] bytes.
    #[error("the password must have at most {MAX_BYTES} bytes")]
    TooLong,
}

impl Password {
    /// Wraps a password presented at sign-in, without the policy for new ones.
    pub fn presented(text: impl Into<String>) -> Self {
        Password(Zeroizing::new(text.into()))
    }

    /// Checks a new password against the policy.
    ///
    /// ```
    /// use portcullis_core::password::{Password, PasswordRejected};
    /// assert!(Password::new("correct horse").is_ok());
    /// assert_eq!(Password::new("short").unwrap_err(), PasswordRejected::TooShort);
    /// ```
    pub fn new(text: impl Into<String>) -> Result<Self, PasswordRejected> {
        let text = Zeroizing::new(text.into());
        if text.chars().count() < MIN_CHARS {
            return Err(PasswordRejected::TooShort);
        }
        if text.len() > MAX_BYTES {
            return Err(PasswordRejected::TooLong);
        }
        Ok(Password(text))
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
    /// let hash = PasswordHash::create(&Password::new("correct horse").unwrap());
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
        let password = Password::new("correct horse battery").unwrap_or_else(|_| unreachable!());
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

    #[test]
    fn policy_counts_characters_and_caps_bytes() {
        assert_eq!(
            Password::new("ééééééé").unwrap_err(),
            PasswordRejected::TooShort
        );
        assert!(Password::new("éééééééé").is_ok());
        assert_eq!(
            Password::new("a".repeat(MAX_BYTES + 1)).unwrap_err(),
            PasswordRejected::TooLong
        );
    }

    #[test]
    fn a_stored_value_that_is_not_a_phc_string_is_refused() {
        assert!(PasswordHash::from_stored("plaintext".into()).is_none());
        let hash = PasswordHash::create(&Password::presented("whatever1"));
        let again = PasswordHash::from_stored(hash.as_str().to_owned());
        assert_eq!(again, Some(hash));
    }
}
