//! Resource indicators (RFC 8707): the audience a token is meant for.

use std::fmt;

/// An absolute URI without a fragment, naming a protected resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resource(String);

impl Resource {
    /// Parses a resource indicator: an absolute URI (a scheme, then `:`,
    /// then no whitespace or control characters) with no fragment.
    ///
    /// ```
    /// use portcullis_core::Resource;
    /// assert!(Resource::parse("https://api.example.com/v1").is_some());
    /// assert!(Resource::parse("urn:example:api").is_some());
    /// assert!(Resource::parse("/relative").is_none());
    /// assert!(Resource::parse("https://api.example.com/#frag").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let (scheme, rest) = text.split_once(':')?;
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        let rest_ok = !rest.is_empty()
            && !rest.contains('#')
            && rest.chars().all(|c| c.is_ascii_graphic())
            && text.len() <= 2048;
        (scheme_ok && rest_ok).then(|| Resource(text.to_owned()))
    }

    /// The URI.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
