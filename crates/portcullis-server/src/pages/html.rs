//! What every HTML page shares: templates, security headers, cookies and
//! CSRF tokens.

use askama::Template;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use portcullis_core::authorization_request::ResponseMode;

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
    /// Where to go after signing in, when no client asked (the device page).
    pub then: Option<&'a str>,
}

/// The device page: the user types the code a device shows.
#[derive(Template)]
#[template(path = "device.html")]
pub(crate) struct DevicePage<'a> {
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub csrf: &'a str,
    pub user_code: &'a str,
}

/// Asks the user to allow or deny a device authorization.
#[derive(Template)]
#[template(path = "device_confirm.html")]
pub(crate) struct DeviceConfirmPage<'a> {
    pub client_name: &'a str,
    pub username: &'a str,
    pub user_code: &'a str,
    pub scopes: Vec<String>,
    pub csrf: &'a str,
}

/// After a decision on a device authorization.
#[derive(Template)]
#[template(path = "device_done.html")]
pub(crate) struct DeviceDonePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
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
    /// Where to go after signing up, when no client asked (the device page).
    pub then: Option<&'a str>,
}

/// The consent page.
#[derive(Template)]
#[template(path = "consent.html")]
pub(crate) struct ConsentPage<'a> {
    pub client_name: &'a str,
    /// Where a client known by its metadata document describes itself.
    pub client_origin: Option<&'a str>,
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

/// Sends `fields` to the client's redirect URI by `mode`.
pub(crate) fn respond(redirect_uri: &str, mode: ResponseMode, fields: &[(&str, &str)]) -> Response {
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let location = match mode {
        ResponseMode::Query if redirect_uri.contains('?') => format!("{redirect_uri}&{encoded}"),
        ResponseMode::Query => format!("{redirect_uri}?{encoded}"),
        ResponseMode::Fragment => format!("{redirect_uri}#{encoded}"),
        ResponseMode::FormPost => {
            let form = FormPostPage {
                action: redirect_uri,
                fields: fields.to_vec(),
            };
            return page(StatusCode::OK, &form, Some(redirect_uri));
        }
    };
    let Ok(value) = HeaderValue::from_str(&location) else {
        let message = "The redirect URI cannot be used.";
        return page(StatusCode::BAD_REQUEST, &ErrorPage { message }, None);
    };
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response();
    security_headers(response.headers_mut());
    response
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
}
