//! The HTML pages of the sign-in flow, one module each: `/authorize` and
//! `/consent` ([`authorize`]), `/login` ([`login`]), `/signup`, `/account`,
//! logout. What they share is here: the signed-in session, reading a posted
//! form with its CSRF check, cookies, redirects. Templates and the headers
//! every page carries are in [`html`]. A page that cannot go on returns a
//! [`PageError`](crate::error::PageError), turned into a response in
//! `error.rs` only.

pub(crate) mod account;
pub(crate) mod authorize;
pub(crate) mod device;
pub(crate) mod html;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod signup;

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use portcullis_core::UnixTime;
use portcullis_core::session::SessionRecord;
use portcullis_core::token_hash::TokenHash;
use portcullis_core::user::User;

use self::html::LoginPage;
use crate::error::PageError;
use crate::form::Form;
use crate::state::AppState;

/// The signed-in user and session, if the session cookie names a valid one.
pub(crate) async fn current_session(
    state: &AppState,
    headers: &HeaderMap,
    now: UnixTime,
) -> Result<Option<(User, SessionRecord)>, PageError> {
    let Some(token) = crate::cookies::cookie(headers, state.cookies.session_name()) else {
        return Ok(None);
    };
    let Some(session) = state.store.session(&TokenHash::of(token)).await? else {
        return Ok(None);
    };
    let user = state.store.user(&session.user_id).await?;
    Ok(user
        .filter(|u| session.is_valid_for(u, now))
        .map(|u| (u, session)))
}

/// A posted form of one of our pages, refused unless its CSRF token matches
/// the cookie (double submit).
pub(crate) async fn read_form(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Form, PageError> {
    let form = Form::read(headers, body, state.max_body_bytes, &[])
        .await
        .map_err(|_| {
            PageError::Shown(
                StatusCode::BAD_REQUEST,
                "The form could not be read.".into(),
            )
        })?;
    if !crate::cookies::csrf_matches(headers, &state.cookies, form.get("csrf")) {
        return Err(PageError::Shown(
            StatusCode::FORBIDDEN,
            "The form has expired or did not come from this site. Go back and try again.".into(),
        ));
    }
    Ok(form)
}

/// A page with a form: `render` gets the CSRF token to embed, the
/// browser's own or a new one, which the response then sets as a cookie.
pub(crate) fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    render: impl FnOnce(&str) -> Response,
) -> Response {
    let (csrf, fresh) = crate::cookies::csrf_token(headers, &state.cookies);
    let mut response = render(&csrf);
    if fresh {
        set_cookie(&mut response, &state.cookies.csrf(&csrf));
    }
    response
}

/// A page refused while a throttle holds: `render` gets the sentence
/// (`what`, then when to try again), and the response also says it in
/// `Retry-After`.
pub(crate) fn throttled(what: &str, wait: i64, render: impl FnOnce(&str) -> Response) -> Response {
    let minutes = (wait + 59) / 60;
    let mut response = render(&format!("{what} Try again in {minutes} minute(s)."));
    if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Adds a `Set-Cookie` to `response`.
pub(crate) fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A `303 See Other` to a path of this server.
pub(crate) fn see_other(path: &str) -> Response {
    let location = HeaderValue::from_str(path).unwrap_or(HeaderValue::from_static("/account"));
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    html::security_headers(response.headers_mut());
    response
}

/// Who a sign-in or sign-up page is for.
#[derive(Debug)]
pub(crate) struct Requesting {
    /// The client's name, or "your account".
    pub client_name: String,
    /// Where the flow continues after the page, when a client asked.
    pub redirect_uri: Option<String>,
}

/// The sign-in page, with a link to the sign-up page when it is on; `then`
/// is where a sign-in no client asked for continues (the account page when
/// `None`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    requesting: &Requesting,
    query: &str,
    then: Option<&str>,
    username: &str,
    error: Option<&str>,
) -> Response {
    form_page(state, headers, |csrf| {
        let signup_href = state.signup.then(|| match (query.is_empty(), then) {
            (true, Some(then)) => format!(
                "/signup?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("then", then)
                    .finish()
            ),
            (true, None) => "/signup".to_owned(),
            (false, _) => format!("/signup?{query}"),
        });
        let page = LoginPage {
            client_name: &requesting.client_name,
            error,
            csrf,
            request: query,
            username,
            signup_href: signup_href.as_deref(),
            then,
        };
        html::page(status, &page, requesting.redirect_uri.as_deref())
    })
}
