//! The cookies of the sign-in pages: their names and attributes (`__Host-`
//! and `Secure` when the issuer is https), and the CSRF double-submit token.

use axum::http::header::{self, HeaderMap};
use portcullis_core::random;

/// The cookies of a request, by name (the first of each name).
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// Names and attributes of Portcullis's cookies, which depend on whether the
/// issuer is served over https (`__Host-` cookies must be `Secure`).
#[derive(Debug, Clone)]
pub(crate) struct Cookies {
    secure: bool,
}

impl Cookies {
    pub fn for_issuer(issuer: &str) -> Self {
        Cookies {
            secure: issuer.starts_with("https://"),
        }
    }

    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-portcullis_session"
        } else {
            "portcullis_session"
        }
    }

    pub fn csrf_name(&self) -> &'static str {
        if self.secure {
            "__Host-portcullis_csrf"
        } else {
            "portcullis_csrf"
        }
    }

    fn attributes(&self, same_site: &str, max_age: i64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
    }

    /// `Set-Cookie` for a session token.
    pub fn session(&self, token: &str, max_age: i64) -> String {
        format!(
            "{}={token}; {}",
            self.session_name(),
            self.attributes("Lax", max_age)
        )
    }

    /// `Set-Cookie` that ends the session cookie.
    pub fn end_session(&self) -> String {
        format!("{}=; {}", self.session_name(), self.attributes("Lax", 0))
    }

    /// `Set-Cookie` for a CSRF token (double submit: the form carries it too).
    pub fn csrf(&self, token: &str) -> String {
        format!(
            "{}={token}; {}",
            self.csrf_name(),
            self.attributes("Strict", 3600)
        )
    }
}

/// The request's CSRF token, or a new one (then `Some(new)` to set as a cookie).
pub(crate) fn csrf_token(headers: &HeaderMap, cookies: &Cookies) -> (String, bool) {
    match cookie(headers, cookies.csrf_name()).filter(|t| t.len() == 43) {
        Some(token) => (token.to_owned(), false),
        None => (random::token::<32>(), true),
    }
}

/// Whether a posted form's CSRF field matches the request's CSRF cookie.
pub(crate) fn csrf_matches(headers: &HeaderMap, cookies: &Cookies, posted: Option<&str>) -> bool {
    match (cookie(headers, cookies.csrf_name()), posted) {
        (Some(cookie), Some(posted)) if cookie.len() == 43 => {
            aws_lc_rs::constant_time::verify_slices_are_equal(cookie.as_bytes(), posted.as_bytes())
                .is_ok()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; portcullis_csrf=xyz; b=2"),
        );
        assert_eq!(cookie(&headers, "portcullis_csrf"), Some("xyz"));
        assert_eq!(cookie(&headers, "csrf"), None);
    }

    #[test]
    fn secure_issuers_get_host_prefixed_secure_cookies() {
        let secure = Cookies::for_issuer("https://id.example");
        assert!(
            secure
                .session("t", 60)
                .starts_with("__Host-portcullis_session=t; Path=/; HttpOnly; SameSite=Lax")
        );
        assert!(secure.session("t", 60).ends_with("; Secure"));
        let local = Cookies::for_issuer("http://127.0.0.1:8080");
        assert!(!local.session("t", 60).contains("Secure"));
    }
}
