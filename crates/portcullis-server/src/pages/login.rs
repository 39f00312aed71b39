//! `POST /login`: the sign-in page's form, checked by core's password
//! sign-in use case; then a session starts and the authorization request
//! continues. Also the sign-in page itself, shown by `/authorize` and the
//! account page.

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Response};
use portcullis_core::UnixTime;
use portcullis_core::password::Password;
use portcullis_core::session::NewSession;
use portcullis_core::sign_in::SignInRefused;
use portcullis_core::user::User;
use std::net::SocketAddr;

use super::authorize::{parse, proceed, validated};
use super::{Requesting, login_page, read_form, see_other, set_cookie};
use crate::clock::system_now;
use crate::error::PageError;
use crate::state::AppState;

pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PageError> {
    let now = system_now();
    let form = read_form(&state, &headers, body).await?;
    let query = form.get("request").unwrap_or("").to_owned();
    let then = form.get("then").and_then(super::device::continuation);
    let requesting = requesting_client(&state, &query).await?;
    let username_text = form.get("username").unwrap_or("").to_owned();
    let address = state.client_address(peer, &headers);
    let password = Password::presented(form.get("password").unwrap_or(""));
    let user = match state
        .password_sign_in()
        .sign_in(&username_text, password, &address, now)
        .await
    {
        Ok(user) => user,
        Err(SignInRefused::Throttled(wait)) => {
            return Ok(too_many_attempts(
                &state,
                &headers,
                &requesting,
                (&query, then.as_deref()),
                &username_text,
                wait,
            ));
        }
        Err(SignInRefused::Wrong) => {
            state.metrics.login_failure();
            tracing::info!(client = %requesting.client_name, "failed sign-in");
            return Ok(login_page(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                &requesting,
                &query,
                then.as_deref(),
                &username_text,
                Some("The username or password is not right."),
            ));
        }
        Err(SignInRefused::Store(err)) => return Err(err.into()),
    };
    sign_in(&state, &headers, &query, then.as_deref(), user, now).await
}

/// The sign-in page again, with `429` and `Retry-After`, while the account
/// name or the address has used up its failures.
fn too_many_attempts(
    state: &AppState,
    headers: &HeaderMap,
    requesting: &Requesting,
    (query, then): (&str, Option<&str>),
    username: &str,
    wait: i64,
) -> Response {
    super::throttled("Too many failed attempts.", wait, |message| {
        login_page(
            state,
            headers,
            StatusCode::TOO_MANY_REQUESTS,
            requesting,
            query,
            then,
            username,
            Some(message),
        )
    })
}

/// Starts a session for `user`, who just proved who they are, and continues
/// the authorization request `query` (or, when it is empty, goes to `then`,
/// by default the account page).
pub(crate) async fn sign_in(
    state: &AppState,
    headers: &HeaderMap,
    query: &str,
    then: Option<&str>,
    user: User,
    now: UnixTime,
) -> Result<Response, PageError> {
    let session = NewSession::start(&user.id, now, state.session_lifetime);
    state.store.insert_session(&session.record).await?;
    // The session starts even when the request then fails at the client.
    let mut response = if query.is_empty() {
        see_other(then.unwrap_or("/account"))
    } else {
        proceed(
            state,
            headers,
            query,
            Some((user, session.record)),
            true,
            now,
        )
        .await
        .unwrap_or_else(IntoResponse::into_response)
    };
    set_cookie(
        &mut response,
        &state
            .cookies
            .session(&session.token, state.session_lifetime.0),
    );
    Ok(response)
}

/// The client of the authorization request `query`, valid as far as a page
/// can tell; an empty request is for the account page. An invalid request
/// gets its error page or redirect as the error.
pub(crate) async fn requesting_client(
    state: &AppState,
    query: &str,
) -> Result<Requesting, PageError> {
    if query.is_empty() {
        return Ok(Requesting {
            client_name: "your account".to_owned(),
            redirect_uri: None,
        });
    }
    let (params, client) = parse(state, query).await?;
    let (request, client) = validated(state, &params, client)?;
    Ok(Requesting {
        client_name: client.name.clone(),
        redirect_uri: Some(request.redirect_uri),
    })
}
