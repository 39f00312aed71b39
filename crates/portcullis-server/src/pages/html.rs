//! What every HTML page shares: templates, security headers, cookies and
//! CSRF tokens.

use askama::Template;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use portcullis_core::random;

/// The stylesheet, served at `/assets/style.css`.
pub(crate) const STYLESHEET: &str = include_str!("../../assets/style.css");

/// The login page.
#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage<'a> {
    pub client_name: &'a str,
    pub error: Option<&'a str>,
    pub csrf: &'a str,
    pub request: &'a str,
    pub username: &'a str,
    /// The sign-up page for the same request, when sign-up is on.
    pub signup_href: Option<&'a str>,
}

/// The sign-up page.
#[derive(Template)]
#[template(path = "signup.html")]
pub(crate) struct SignupPage<'a> {
    pub client_name: &'a str,
    pub error: Option<&'a str>,
    pub csrf: &'a str,
    pub request: &'a str,
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    /// The sign-in page for the same request.
    pub login_href: &'a str,
}

/// The consent page.
#[derive(Template)]
#[template(path = "consent.html")]
pub(crate) struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub username: &'a str,
    pub scopes: Vec<String>,
    pub csrf: &'a str,
    pub request: &'a str,
}

/// The account page.
#[derive(Template)]
#[template(path = "account.html")]
pub(crate) struct AccountPage<'a> {
    pub claims: Vec<(&'a str, String)>,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    pub csrf: &'a str,
}

/// Asks the user to confirm a logout a relying party started.
#[derive(Template)]
#[template(path = "logout.html")]
pub(crate) struct LogoutPage<'a> {
    pub client_name: Option<&'a str>,
    pub username: &'a str,
    pub csrf: &'a str,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// The page after signing out.
#[derive(Template)]
#[template(path = "signed_out.html")]
pub(crate) struct SignedOutPage;

/// The error page, for what must not be redirected.
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage<'a> {
    pub message: &'a str,
}

/// The `form_post` response mode's page.
#[derive(Template)]
#[template(path = "form_post.html")]
pub(crate) struct FormPostPage<'a> {
    pub action: &'a str,
    pub fields: Vec<(&'a str, &'a str)>,
}

/// Renders a page with the headers every page carries: no caching, no
/// framing, no referrer, a strict CSP whose `form-action` admits this server
/// and, when given, the origin the flow continues to.
pub(crate) fn page(
    status: StatusCode,
    template: &impl Template,
    continues_to: Option<&str>,
) -> Response {
    let html = match template.render() {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(%err, "a page failed to render");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response();
        }
    };
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    let form_action = continues_to
        .and_then(origin)
        .map_or_else(|| "'self'".to_owned(), |o| format!("'self' {o}"));
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    security_headers(headers);
    response
}

/// Headers for every HTML response and redirect of the sign-in flow.
pub(crate) fn security_headers(headers: &mut HeaderMap) {
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// `scheme://host[:port]` of an absolute http(s) URI, for CSP.
fn origin(uri: &str) -> Option<String> {
    let parsed: Uri = uri.parse().ok()?;
    let scheme = parsed.scheme_str()?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    Some(format!("{scheme}://{}", parsed.authority()?))
}

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

/// `text` as a sentence: capitalised, with a full stop.
pub(crate) fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let capitalised: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    format!("{capitalised}.")
}

/// The consent page's wording for a scope.
pub(crate) fn describe_scope(scope: &str) -> String {
    match scope {
        "openid" => "Know who you are (your account identifier)".to_owned(),
        "profile" => "See your name".to_owned(),
        "email" => "See your email address".to_owned(),
        "offline_access" => "Keep access while you are away".to_owned(),
        other => format!("Use the permission “{other}”"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_for_csp() {
        assert_eq!(
            origin("https://app.example:8443/cb?x=1").as_deref(),
            Some("https://app.example:8443")
        );
        assert_eq!(
            origin("http://127.0.0.1:5000/cb").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(origin("com.example.app:/cb"), None);
    }

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
