//! The account page (`/account`): what Portcullis knows of the signed-in
//! user, changing the password with the current one, and a button to sign
//! out (handled in `logout.rs`).

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portcullis_core::admin::users;
use portcullis_core::password::{Password, PasswordOwner};
use portcullis_core::session::NewSession;
use portcullis_core::sign_in::{PasswordWork as _, SignInRefused};
use portcullis_core::user::User;
use std::net::SocketAddr;

use super::html::{self, AccountPage};
use super::{Requesting, current_session, login_page, read_form, set_cookie};
use crate::clock::system_now;
use crate::error::PageError;
use crate::state::AppState;

pub(crate) async fn account(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let now = system_now();
    Ok(match current_session(&state, &headers, now).await? {
        Some((user, _)) => account_page(&state, &headers, &user, StatusCode::OK, None, None),
        None => {
            let requesting = Requesting {
                client_name: "your account".to_owned(),
                redirect_uri: None,
            };
            login_page(
                &state,
                &headers,
                StatusCode::OK,
                &requesting,
                "",
                None,
                "",
                None,
            )
        }
    })
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PageError> {
    let now = system_now();
    let form = read_form(&state, &headers, body).await?;
    let Some((user, _)) = current_session(&state, &headers, now).await? else {
        return Err(PageError::Shown(
            StatusCode::FORBIDDEN,
            "Your sign-in has ended. Sign in again.".into(),
        ));
    };
    let refuse = |message: &str| {
        account_page(
            &state,
            &headers,
            &user,
            StatusCode::BAD_REQUEST,
            None,
            Some(message),
        )
    };
    let (new, confirm) = (
        form.get("new").unwrap_or(""),
        form.get("confirm").unwrap_or(""),
    );
    if new != confirm {
        return Ok(refuse("The two new passwords differ."));
    }
    let owner = PasswordOwner {
        username: user.username.as_str(),
        email: user.profile.email.as_deref(),
    };
    let new = match state.password_policy.check(new, owner) {
        Ok(password) => password,
        Err(err) => return Ok(refuse(&html::sentence(&err.to_string()))),
    };
    let current = Password::presented(form.get("current").unwrap_or(""));
    let address = state.client_address(peer, &headers);
    match state
        .password_sign_in()
        .confirm(&user, current, &address, now)
        .await
    {
        Ok(()) => {}
        Err(SignInRefused::Wrong) => return Ok(refuse("The current password is not right.")),
        Err(SignInRefused::Throttled(wait)) => {
            let minutes = (wait + 59) / 60;
            return Ok(refuse(&format!(
                "Too many failed attempts. Try again in {minutes} minute(s)."
            )));
        }
        Err(SignInRefused::Store(err)) => return Err(err.into()),
    }
    let hash = state.password_work.hash(new).await;
    // Every session of the user ends; this browser gets a fresh one.
    users::set_password(&*state.store, &user.username, &hash, now)
        .await
        .map_err(|err| PageError::Unavailable(err.to_string()))?;
    let session = NewSession::start(&user.id, now, state.session_lifetime);
    state.store.insert_session(&session.record).await?;
    let notice = "Your password was changed. You are signed out everywhere else.";
    let mut response = account_page(&state, &headers, &user, StatusCode::OK, Some(notice), None);
    set_cookie(
        &mut response,
        &state
            .cookies
            .session(&session.token, state.session_lifetime.0),
    );
    Ok(response)
}

fn account_page(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let p = &user.profile;
    let mut claims = vec![
        ("Username", user.username.to_string()),
        ("Subject (sub)", user.id.to_string()),
    ];
    for (label, value) in [
        ("Name", &p.name),
        ("Given name", &p.given_name),
        ("Family name", &p.family_name),
        ("Email", &p.email),
    ] {
        if let Some(value) = value {
            claims.push((label, value.clone()));
        }
    }
    if p.email.is_some() {
        let verified = if p.email_verified { "yes" } else { "no" };
        claims.push(("Email verified", verified.to_owned()));
    }
    super::form_page(state, headers, |csrf| {
        let page = AccountPage {
            claims,
            notice,
            error,
            csrf,
        };
        html::page(status, &page, None)
    })
}
