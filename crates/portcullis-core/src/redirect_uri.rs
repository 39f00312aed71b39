//! Registered redirect URIs and the one way a presented URI may match one
//! (RFC 9700 section 2.1: exact string comparison; RFC 8252 section 7.3: a
//! loopback redirect URI may differ only in its port).

use std::fmt;

use url::{Host, Url};

/// Why a redirect URI cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriRejected {
    /// Not an absolute URI.
    #[error("`{0}` is not an absolute URI")]
    NotAbsolute(String),
    /// It has a fragment (RFC 6749 section 3.1.2).
    #[error("`{0}` has a fragment, which a redirect URI must not have")]
    Fragment(String),
    /// Plain http to a host that is not this machine.
    #[error("`{0}` uses http to a host other than a loopback address; use https")]
    InsecureHttp(String),
    /// A private-use scheme that is not a reverse domain name (RFC 8252 section 7.1).
    #[error("`{0}`: a private-use scheme must be a reverse domain name, like com.example.app")]
    Scheme(String),
    /// Whitespace, user information, or a wildcard.
    #[error("`{0}` has whitespace, user information or a wildcard")]
    Unsafe(String),
}

/// A redirect URI as registered for a client, kept as the exact string given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Checks a URI an administrator (or a registering client) wants to
    /// register: https; http only to a loopback IP literal or `localhost`;
    /// or a private-use reverse-domain scheme for native apps. No fragment,
    /// no user information, no wildcards.
    ///
    /// ```
    /// use portcullis_core::redirect_uri::RedirectUri;
    /// assert!(RedirectUri::parse("https://app.example/callback").is_ok());
    /// assert!(RedirectUri::parse("http://127.0.0.1/callback").is_ok());
    /// assert!(RedirectUri::parse("com.example.app:/oauth2redirect").is_ok());
    /// assert!(RedirectUri::parse("http://app.example/callback").is_err());
    /// assert!(RedirectUri::parse("https://app.example/cb#frag").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, RedirectUriRejected> {
        let owned = || text.to_owned();
        if text.is_empty()
            || text.chars().any(|c| c.is_whitespace() || c.is_control())
            || text.contains('*')
        {
            return Err(RedirectUriRejected::Unsafe(owned()));
        }
        let url = Url::parse(text).map_err(|_| RedirectUriRejected::NotAbsolute(owned()))?;
        if url.fragment().is_some() || text.contains('#') {
            return Err(RedirectUriRejected::Fragment(owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriRejected::Unsafe(owned()));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(RedirectUriRejected::InsecureHttp(owned())),
            scheme if scheme.contains('.') => {}
            _ => return Err(RedirectUriRejected::Scheme(owned())),
        }
        Ok(RedirectUri(text.to_owned()))
    }

    /// The URI as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `presented` (from an authorization request) is this URI:
    /// the same string, except that a loopback http URI may name any port.
    ///
    /// ```
    /// use portcullis_core::redirect_uri::RedirectUri;
    /// let web = RedirectUri::parse("https://app.example/cb").unwrap();
    /// assert!(web.matches("https://app.example/cb"));
    /// assert!(!web.matches("https://app.example/cb/"));
    /// assert!(!web.matches("https://APP.example/cb"));
    /// let native = RedirectUri::parse("http://127.0.0.1/cb").unwrap();
    /// assert!(native.matches("http://127.0.0.1:51004/cb"));
    /// assert!(!native.matches("http://127.0.0.1:51004/cb?x=1"));
    /// ```
    pub fn matches(&self, presented: &str) -> bool {
        if presented == self.0 {
            return true;
        }
        let (Ok(registered), Ok(presented_url)) = (Url::parse(&self.0), Url::parse(presented))
        else {
            return false;
        };
        if registered.scheme() != "http" || !is_loopback(&registered) {
            return false;
        }
        // Compare everything but the port, as strings the client sent.
        let without_port = |url: &Url| {
            let mut url = url.clone();
            let _ = url.set_port(None);
            url.to_string()
        };
        presented_url.scheme() == "http"
            && presented.contains("://")
            && without_port(&presented_url) == without_port(&registered)
            && strip_port(presented) == strip_port(&self.0)
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(domain)) => domain == "localhost",
        None => false,
    }
}

/// `http://host:port/rest` → `http://host/rest`, on the raw string, so no
/// normalisation can make two different strings equal.
fn strip_port(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = match authority.rfind(':') {
        // An IPv6 literal has colons inside its brackets; a port follows the `]`.
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    };
    format!("{scheme}://{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> RedirectUri {
        RedirectUri::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn registration_refuses_what_rfc_9700_forbids() {
        for bad in [
            "",
            "/relative/cb",
            "https://app.example/cb#x",
            "https://app.example/cb#",
            "http://app.example/cb",
            "https://user:pw@app.example/cb",
            "https://*.app.example/cb",
            "https://app.example/c b",
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
        for good in [
            "https://app.example/cb",
            "https://app.example:8443/cb?tenant=a",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(uri(good).as_str(), good);
        }
    }

    #[test]
    fn matching_is_exact_except_a_loopback_port() {
        let web = uri("https://app.example/cb?tenant=a");
        assert!(web.matches("https://app.example/cb?tenant=a"));
        for other in [
            "https://app.example/cb?tenant=b",
            "https://app.example/cb?tenant=a&x=1",
            "https://app.example:443/cb?tenant=a",
            "https://app.example/cb/../cb?tenant=a",
            "https://app.example.evil/cb?tenant=a",
            "https://app.example/CB?tenant=a",
            "http://app.example/cb?tenant=a",
        ] {
            assert!(!web.matches(other), "{other}");
        }

        let loopback = uri("http://127.0.0.1/cb");
        assert!(loopback.matches("http://127.0.0.1:1234/cb"));
        assert!(loopback.matches("http://127.0.0.1:65535/cb"));
        for other in [
            "http://127.0.0.2:1234/cb",
            "http://localhost:1234/cb",
            "https://127.0.0.1:1234/cb",
            "http://127.0.0.1:1234/cb/",
            "http://127.0.0.1:1234/other",
            "http://127.0.0.1:1234/%63b",
            "http://127.0.0.1:1234/cb#x",
            "http://user@127.0.0.1:1234/cb",
        ] {
            assert!(!loopback.matches(other), "{other}");
        }
        let v6 = uri("http://[::1]:8080/cb");
        assert!(v6.matches("http://[::1]:9090/cb"));
        assert!(!v6.matches("http://[::2]:9090/cb"));
    }
}
