//! Scopes (RFC 6749 section 3.3) and narrowing a request to what a client may have.

use std::fmt;

/// One scope token: `1*( %x21 / %x23-5B / %x5D-7E )`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(String);

impl Scope {
    /// Parses one scope token.
    pub fn parse(token: &str) -> Option<Self> {
        let valid = !token.is_empty()
            && token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        valid.then(|| Scope(token.to_owned()))
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A set of scopes, kept sorted and without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// Parses a space-delimited scope string. `None` if a token is invalid;
    /// repeated spaces are tolerated.
    ///
    /// ```
    /// use portcullis_core::ScopeSet;
    /// let s = ScopeSet::parse("b a  b").unwrap();
    /// assert_eq!(s.to_string(), "a b");
    /// assert!(ScopeSet::parse("a \"b").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let mut scopes = text
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(Scope::parse)
            .collect::<Option<Vec<_>>>()?;
        scopes.sort();
        scopes.dedup();
        Some(ScopeSet(scopes))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// Whether every scope of `self` is in `allowed`.
    pub fn is_subset_of(&self, allowed: &ScopeSet) -> bool {
        self.0.iter().all(|s| allowed.0.binary_search(s).is_ok())
    }

    /// The scopes in both sets.
    ///
    /// ```
    /// use portcullis_core::ScopeSet;
    /// let a = ScopeSet::parse("a b c").unwrap();
    /// let b = ScopeSet::parse("b c d").unwrap();
    /// assert_eq!(a.intersection(&b).to_string(), "b c");
    /// ```
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(
            self.0
                .iter()
                .filter(|s| other.0.binary_search(s).is_ok())
                .cloned()
                .collect(),
        )
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&scope.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_tokens_follow_rfc_6749_syntax() {
        assert!(Scope::parse("courses:read").is_some());
        assert!(Scope::parse("https://api.example/read").is_some());
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\tb"] {
            assert!(Scope::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn subset_is_exact() {
        let allowed = ScopeSet::parse("read write").unwrap();
        assert!(ScopeSet::parse("read").unwrap().is_subset_of(&allowed));
        assert!(ScopeSet::parse("").unwrap().is_subset_of(&allowed));
        assert!(
            !ScopeSet::parse("read admin")
                .unwrap()
                .is_subset_of(&allowed)
        );
        assert!(!ScopeSet::parse("rea").unwrap().is_subset_of(&allowed));
    }
}
