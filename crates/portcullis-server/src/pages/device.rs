//! `/device` (RFC 8628 3.3): a signed-in user types the code a device shows
//! (or follows `verification_uri_complete`), sees the client and what it
//! asks for, and allows or denies. Every typed code goes through
//! `device_code::find`, which throttles wrong codes per user and address.

use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::Response;
use portcullis_core::grant::device_code::{self, Lookup, UserCode};
use portcullis_core::session::SessionRecord;
use portcullis_core::user::User;
use portcullis_core::{ClientId, UnixTime};
use serde::Deserialize;
use std::net::SocketAddr;

use super::html::{self, DeviceConfirmPage, DeviceDonePage, DevicePage};
use super::{Requesting, current_session, login_page, read_form};
use crate::clock::system_now;
use crate::error::PageError;
use crate::state::AppState;

#[derive(Deserialize)]
pub(crate) struct DeviceQuery {
    user_code: Option<String>,
}

/// Where a sign-in started by the device page continues: the page itself,
/// with the code it was opened with. Anything else is no continuation.
pub(crate) fn continuation(then: &str) -> Option<String> {
    if then == "/device" {
        return Some(then.to_owned());
    }
    let code = UserCode::parse(then.strip_prefix("/device?user_code=")?)?;
    Some(format!("/device?user_code={}", code.shown()))
}

pub(crate) async fn device(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<DeviceQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let now = system_now();
    let typed = query.user_code.unwrap_or_default();
    let Some((user, _)) = current_session(&state, &headers, now).await? else {
        let then = match continuation(&format!("/device?user_code={typed}")) {
            Some(then) => then,
            None => "/device".to_owned(),
        };
        let requesting = Requesting {
            client_name: "a device".to_owned(),
            redirect_uri: None,
        };
        return Ok(login_page(
            &state,
            &headers,
            StatusCode::OK,
            &requesting,
            "",
            Some(&then),
            "",
            None,
        ));
    };
    if typed.is_empty() {
        return Ok(entry_page(
            &state,
            &headers,
            &user,
            StatusCode::OK,
            "",
            None,
        ));
    }
    let address = state.client_address(peer, &headers);
    look_up(&state, &headers, &user, &address, &typed, now).await
}

pub(crate) async fn enter(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PageError> {
    let now = system_now();
    let form = read_form(&state, &headers, body).await?;
    let (user, _) = signed_in(&state, &headers, now).await?;
    let address = state.client_address(peer, &headers);
    let typed = form.get("user_code").unwrap_or("").to_owned();
    look_up(&state, &headers, &user, &address, &typed, now).await
}

pub(crate) async fn decision(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PageError> {
    let now = system_now();
    let form = read_form(&state, &headers, body).await?;
    let (user, session) = signed_in(&state, &headers, now).await?;
    let address = state.client_address(peer, &headers);
    let typed = form.get("user_code").unwrap_or("");
    let allow = form.get("decision") == Some("allow");
    let code = match found(&state, &user, &address, typed, now).await? {
        Ok((code, _, _)) => code,
        Err(refusal) => return Ok(refusal.page(&state, &headers, &user, typed)),
    };
    let decided = device_code::decide(
        &*state.store,
        &code,
        &user.id,
        session.auth_time,
        allow,
        now,
    )
    .await?;
    if !decided {
        return Ok(Refusal::NotFound.page(&state, &headers, &user, typed));
    }
    tracing::info!(allow, "device authorization decided");
    let (title, message) = if allow {
        (
            "Device connected",
            "You can go back to your device; it continues on its own.",
        )
    } else {
        (
            "Request denied",
            "The device was not given access. You can close this page.",
        )
    };
    Ok(html::page(
        StatusCode::OK,
        &DeviceDonePage { title, message },
        None,
    ))
}

async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    now: UnixTime,
) -> Result<(User, SessionRecord), PageError> {
    current_session(state, headers, now).await?.ok_or_else(|| {
        PageError::Shown(
            StatusCode::FORBIDDEN,
            "Your sign-in has ended. Open the device page again.".into(),
        )
    })
}

/// Why a typed code leads nowhere.
enum Refusal {
    NotFound,
    Throttled(i64),
}

impl Refusal {
    fn page(&self, state: &AppState, headers: &HeaderMap, user: &User, typed: &str) -> Response {
        match self {
            Refusal::NotFound => entry_page(
                state,
                headers,
                user,
                StatusCode::BAD_REQUEST,
                typed,
                Some(
                    "That code is not waiting for approval. Check it, or start again on the device.",
                ),
            ),
            Refusal::Throttled(wait) => {
                super::throttled("Too many wrong codes.", *wait, |message| {
                    entry_page(
                        state,
                        headers,
                        user,
                        StatusCode::TOO_MANY_REQUESTS,
                        typed,
                        Some(message),
                    )
                })
            }
        }
    }
}

async fn found(
    state: &AppState,
    user: &User,
    address: &str,
    typed: &str,
    now: UnixTime,
) -> Result<Result<(UserCode, ClientId, portcullis_core::ScopeSet), Refusal>, PageError> {
    let lookup = device_code::find(
        &*state.store,
        &state.throttle(),
        &user.id,
        address,
        typed,
        now,
    )
    .await?;
    Ok(match lookup {
        Lookup::Found(code, record) => Ok((code, record.client_id, record.scope)),
        Lookup::NotFound => Err(Refusal::NotFound),
        Lookup::Throttled(wait) => Err(Refusal::Throttled(wait)),
    })
}

async fn look_up(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    address: &str,
    typed: &str,
    now: UnixTime,
) -> Result<Response, PageError> {
    let (code, client_id, scope) = match found(state, user, address, typed, now).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal.page(state, headers, user, typed)),
    };
    let Some(client) = state.clients.get(&*state.store, &client_id).await? else {
        return Ok(Refusal::NotFound.page(state, headers, user, typed));
    };
    Ok(super::form_page(state, headers, |csrf| {
        let page = DeviceConfirmPage {
            client_name: &client.name,
            username: user.username.as_str(),
            user_code: &code.shown(),
            scopes: scope
                .iter()
                .map(|s| html::describe_scope(s.as_str()))
                .collect(),
            csrf,
        };
        html::page(StatusCode::OK, &page, None)
    }))
}

fn entry_page(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    status: StatusCode,
    user_code: &str,
    error: Option<&str>,
) -> Response {
    super::form_page(state, headers, |csrf| {
        let page = DevicePage {
            username: user.username.as_str(),
            error,
            csrf,
            user_code,
        };
        html::page(status, &page, None)
    })
}
