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

    /// Parses the (repeatable) `resource` parameter of a token request;
    /// `invalid_target` for any value that is not a resource indicator.
    pub fn parse_all(texts: &[&str]) -> Result<Vec<Self>, crate::TokenError> {
        texts
            .iter()
            .map(|text| {
                Resource::parse(text).ok_or_else(|| {
                    crate::TokenError::InvalidTarget(
                        "resource must be an absolute URI without a fragment".into(),
                    )
                })
            })
            .collect()
    }

    /// The audiences a token for `client` addresses: the `requested`
    /// resources when the client may address each (otherwise
    /// `invalid_target`), else the client's configured audiences; `issuer`
    /// is added when `for_issuer` (a token for `/userinfo`) or when nothing
    /// else is left.
    pub fn audiences(
        client: &crate::Client,
        requested: &[Resource],
        issuer: &str,
        for_issuer: bool,
    ) -> Result<Vec<Resource>, crate::TokenError> {
        if let Some(unknown) = requested.iter().find(|r| !client.audiences.contains(r)) {
            return Err(crate::TokenError::InvalidTarget(format!(
                "resource `{unknown}` is not allowed for this client"
            )));
        }
        let mut audiences = if requested.is_empty() {
            client.audiences.clone()
        } else {
            requested.to_vec()
        };
        if (requested.is_empty() && for_issuer) || audiences.is_empty() {
            audiences.push(Resource::parse(issuer).ok_or_else(|| {
                crate::TokenError::InvalidTarget("the issuer is not a URI".into())
            })?);
        }
        audiences.sort();
        audiences.dedup();
        Ok(audiences)
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
