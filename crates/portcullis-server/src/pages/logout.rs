//! Signing out: OpenID Connect RP-initiated logout at `/end-session` (GET
//! or POST), and `POST /logout` from this server's own pages.
//!
//! A relying party's request ends the session at once when its
//! `id_token_hint` names the signed-in user; otherwise the user confirms on a
//! page (with a CSRF token), so that no third-party site can sign anyone out.
//! The browser returns only to a registered `post_logout_redirect_uri`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::Client;
use portcullis_core::logout::{self, Hint, LogoutError, LogoutRequest};
use portcullis_core::token_hash::TokenHash;

use super::html::{self, LogoutPage, SignedOutPage};
use super::{current_session, read_form, set_cookie};
use crate::clock::system_now;
use crate::error::PageError;
use crate::form::Form;
use crate::state::AppState;

/// A logout request checked against the client registry.
struct Checked {
    request: LogoutRequest,
    hint: Option<Hint>,
    client: Option<std::sync::Arc<Client>>,
    return_to: Option<String>,
}

pub(crate) async fn end_session(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PageError> {
    let pairs: Vec<(String, String)> = if method == Method::POST {
        match Form::read(&headers, body, state.max_body_bytes, &[]).await {
            Ok(form) => form.pairs().to_vec(),
            Err(_) => {
                return Err(PageError::Shown(
                    StatusCode::BAD_REQUEST,
                    "The request could not be read.".into(),
                ));
            }
        }
    } else {
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
    };
    let request = request_of(&pairs);
    let checked = check(&state, request, true).await?;
    let now = system_now();
    let user = current_session(&state, &headers, now)
        .await?
        .map(|(user, _)| user);
    let Some(user) = user else {
        // Nobody is signed in here: nothing to end.
        return finish(&state, &headers, checked.return_to.as_deref()).await;
    };
    if checked
        .hint
        .as_ref()
        .is_some_and(|h| h.sub == user.id.as_str())
    {
        return finish(&state, &headers, checked.return_to.as_deref()).await;
    }
    let response = super::form_page(&state, &headers, |csrf| {
        let page = LogoutPage {
            client_name: checked.client.as_ref().map(|c| c.name.as_str()),
            username: user.username.as_str(),
            csrf,
            client_id: checked.client.as_ref().map(|c| c.id.as_str()),
            post_logout_redirect_uri: checked.request.post_logout_redirect_uri.as_deref(),
            state: checked.request.state.as_deref(),
        };
        html::page(StatusCode::OK, &page, checked.return_to.as_deref())
    });
    Ok(response)
}

/// `POST /logout`: the account page's "Sign out", or the confirmation of a
/// relying party's logout (which carries its client and return address).
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PageError> {
    let form = read_form(&state, &headers, body).await?;
    let request = request_of(form.pairs());
    let checked = check(&state, request, false).await?;
    finish(&state, &headers, checked.return_to.as_deref()).await
}

fn request_of(pairs: &[(String, String)]) -> LogoutRequest {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    LogoutRequest {
        id_token_hint: get("id_token_hint"),
        client_id: get("client_id"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
    }
}

async fn check(
    state: &AppState,
    request: LogoutRequest,
    allow_hint: bool,
) -> Result<Checked, PageError> {
    let refuse = |err: LogoutError| {
        PageError::Shown(
            StatusCode::BAD_REQUEST,
            html::sentence(&format!("Cannot sign out as asked: {err}")).into(),
        )
    };
    let hint = match (&request.id_token_hint, allow_hint) {
        (Some(token), true) => {
            let Some(verifier) = state.keys.verifier() else {
                return Err(refuse(LogoutError::InvalidHint));
            };
            Some(
                logout::check_hint(&verifier, &state.token_policy.issuer, token, system_now())
                    .map_err(refuse)?,
            )
        }
        _ => None,
    };
    let client_id = logout::client_named(&request, hint.as_ref()).map_err(refuse)?;
    let client = match client_id {
        Some(id) => match state.clients.get(&*state.store, &id).await {
            Ok(Some(client)) => Some(client),
            Ok(None) => return Err(refuse(LogoutError::UnknownClient)),
            Err(err) => return Err(err.into()),
        },
        None => None,
    };
    let return_to = logout::return_to(&request, client.as_deref()).map_err(refuse)?;
    Ok(Checked {
        request,
        hint,
        client,
        return_to,
    })
}

/// Ends this browser's session and sends it back to the client, or shows
/// the signed-out page.
async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    return_to: Option<&str>,
) -> Result<Response, PageError> {
    if let Some(token) = crate::cookies::cookie(headers, state.cookies.session_name()) {
        state
            .store
            .delete_session(&TokenHash::of(token), crate::clock::system_now())
            .await?;
    }
    let mut response = match return_to.map(HeaderValue::from_str) {
        Some(Ok(location)) => {
            let mut response =
                (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
            html::security_headers(response.headers_mut());
            response
        }
        _ => html::page(StatusCode::OK, &SignedOutPage, None),
    };
    set_cookie(&mut response, &state.cookies.end_session());
    Ok(response)
}
