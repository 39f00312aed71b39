//! The HTML pages of the sign-in flow, one module each: `/authorize` and
//! `/consent` ([`authorize`]), `/login` ([`login`]), `/signup`, `/account`,
//! logout. What they share is here: the signed-in session, reading a posted
//! form with its CSRF check, cookies, redirects. Templates and the headers
//! every page carries are in [`html`]. A page that cannot go on returns a
//! [`PageError`](crate::error::PageError), turned into a response in
//! `error.rs` only.

pub(crate) mod account;
pub(crate) mod authorize;
pub(crate) mod html;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod signup;

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use portcullis_core::UnixTime;
use portcullis_core::grant::authorization_code::TokenHash;
use portcullis_core::session::SessionRecord;
use portcullis_core::user::User;

use crate::error::PageError;
use crate::form::Form;
use crate::state::AppState;

/// The signed-in user and session, if the session cookie names a valid one.
pub(crate) async fn current_session(
    state: &AppState,
    headers: &HeaderMap,
    now: UnixTime,
) -> Result<Option<(User, SessionRecord)>, PageError> {
    let Some(token) = html::cookie(headers, state.cookies.session_name()) else {
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
    if !html::csrf_matches(headers, &state.cookies, form.get("csrf")) {
        return Err(PageError::Shown(
            StatusCode::FORBIDDEN,
            "The form has expired or did not come from this site. Go back and try again.".into(),
        ));
    }
    Ok(form)
}

/// Adds a `Set-Cookie` to `response`.
pub(crate) fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A `303 See Other` to a path of this server.
pub(crate) fn see_other(path: &'static str) -> Response {
    let mut response = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static(path))],
    )
        .into_response();
    html::security_headers(response.headers_mut());
    response
}
