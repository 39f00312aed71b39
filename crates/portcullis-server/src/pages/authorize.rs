//! `/authorize` and `POST /consent`: the front channel of the authorization
//! code flow (and of implicit responses for clients registered for them).
//! The sign-in page in between is [`login`](super::login).
//!
//! The authorization request travels through the pages as its original query
//! string and is validated again at every step, so nothing a page posts back
//! can widen it.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::Response;
use portcullis_core::authorization_request::{
    self, AuthorizationRequest, AuthorizeError, RedirectError,
};
use portcullis_core::grant::authorization_code;
use portcullis_core::grant::implicit;
use portcullis_core::session::SessionRecord;
use portcullis_core::user::User;
use portcullis_core::{Client, ClientId, UnixTime};
use std::sync::Arc;

use super::html::{self, ConsentPage, respond};
use super::{Requesting, current_session, login_page, read_form};
use crate::clock::system_now;
use crate::error::{ApiError, ClientError, PageError};
use crate::issuance;
use crate::state::AppState;

type Params = Vec<(String, String)>;

pub(crate) async fn authorize(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let now = system_now();
    let query = query.unwrap_or_default();
    let signed_in = current_session(&state, &headers, now).await?;
    proceed(&state, &headers, &query, signed_in, false, now).await
}

pub(crate) async fn consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PageError> {
    let now = system_now();
    let form = read_form(&state, &headers, body).await?;
    let Some((user, session)) = current_session(&state, &headers, now).await? else {
        return Err(PageError::Shown(
            StatusCode::FORBIDDEN,
            "Your sign-in has ended. Go back to the application and start again.".into(),
        ));
    };
    let query = form.get("request").unwrap_or("").to_owned();
    let (params, client) = parse(&state, &query).await?;
    let (request, client) = validated(&state, &params, client)?;
    match form.get("decision") {
        Some("allow") => {
            state
                .store
                .set_consent(&user.id, &client.id, &request.scope, now)
                .await?;
            grant(&state, &client, &user, &request, &params, &session, now).await
        }
        _ => Err(to_client(
            &state,
            &request,
            "access_denied",
            "the user denied the request",
        )),
    }
}

/// Continues an authorization request for whoever is signed in.
pub(crate) async fn proceed(
    state: &AppState,
    headers: &HeaderMap,
    query: &str,
    signed_in: Option<(User, SessionRecord)>,
    fresh_login: bool,
    now: UnixTime,
) -> Result<Response, PageError> {
    let (params, client) = parse(state, query).await?;
    let (request, client) = validated(state, &params, client)?;
    let fail = |error: &'static str, description: &str| {
        Err(to_client(state, &request, error, description))
    };
    let needs_login = match &signed_in {
        None => true,
        Some(_) if fresh_login => false,
        Some((_, session)) => request.requires_sign_in_again(session.auth_time, now),
    };
    if needs_login {
        if request.prompt.none {
            return fail("login_required", "the user is not signed in");
        }
        let requesting = Requesting {
            client_name: client.name.clone(),
            redirect_uri: Some(request.redirect_uri.clone()),
        };
        return Ok(login_page(
            state,
            headers,
            StatusCode::OK,
            &requesting,
            query,
            None,
            request.login_hint.as_deref().unwrap_or(""),
            None,
        ));
    }
    let Some((user, session)) = signed_in else {
        return fail("login_required", "the user is not signed in");
    };
    let granted = state.store.consent(&user.id, &client.id).await?;
    let covered = granted.is_some_and(|g| request.scope.is_subset_of(&g));
    if covered && !request.prompt.consent {
        return grant(state, &client, &user, &request, &params, &session, now).await;
    }
    if request.prompt.none {
        return fail("consent_required", "the user has not allowed this client");
    }
    let response = super::form_page(state, headers, |csrf| {
        let page = ConsentPage {
            client_name: &client.name,
            client_origin: portcullis_core::client_document::origin_of(&client),
            username: user.username.as_str(),
            // Who you are first, then what else.
            scopes: request
                .scope
                .iter()
                .filter(|s| s.as_str() == "openid")
                .chain(request.scope.iter().filter(|s| s.as_str() != "openid"))
                .map(|s| html::describe_scope(s.as_str()))
                .collect(),
            csrf,
            request: query,
        };
        html::page(StatusCode::OK, &page, Some(&request.redirect_uri))
    });
    Ok(response)
}

/// Answers an authorization request the user allowed in `session`: with a
/// code, or, for the implicit response types, with the tokens themselves.
/// The session is recorded as signed in to the client, for back-channel
/// logout.
async fn grant(
    state: &AppState,
    client: &Client,
    user: &User,
    request: &AuthorizationRequest,
    params: &Params,
    session: &SessionRecord,
    now: UnixTime,
) -> Result<Response, PageError> {
    state
        .store
        .record_session_client(session, &client.id)
        .await?;
    if request.response_type.is_implicit() {
        implicit(state, client, user, request, session, now).await
    } else {
        issue_code(state, client, user, request, params, session, now).await
    }
}

/// The implicit flow's answer (OIDC Core 3.2.2.5): an access token and/or an
/// ID token, in the fragment or a form post, never a refresh token. An ID
/// token without an access token carries the user's claims itself.
async fn implicit(
    state: &AppState,
    client: &Client,
    user: &User,
    request: &AuthorizationRequest,
    session: &SessionRecord,
    now: UnixTime,
) -> Result<Response, PageError> {
    let sid = portcullis_core::backchannel::sid_of(&session.hash);
    let issuance = implicit::issue(
        &state.grants(None),
        client,
        user,
        request,
        (session.auth_time, sid),
        now,
    )
    .await
    .map_err(ApiError::from);
    let signed = issuance
        .and_then(|issuance| issuance::sign(state, issuance, now))
        .map_err(|err| PageError::Unavailable(format!("{err:?}")))?;
    let mut fields: Vec<(&str, String)> = Vec::new();
    if let Some(access) = signed.access {
        fields.push(("access_token", access.token));
        fields.push(("token_type", "Bearer".to_owned()));
        fields.push(("expires_in", access.expires_in.to_string()));
        fields.push(("scope", access.scope));
    }
    if let Some(id_token) = signed.id_token {
        fields.push(("id_token", id_token));
    }
    if let Some(s) = &request.state {
        fields.push(("state", s.clone()));
    }
    fields.push(("iss", state.token_policy.issuer.clone()));
    tracing::info!(client_id = %client.id, "implicit response issued");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Ok(respond(
        &request.redirect_uri,
        request.response_mode,
        &fields,
    ))
}

async fn issue_code(
    state: &AppState,
    client: &Client,
    user: &User,
    request: &AuthorizationRequest,
    params: &Params,
    session: &SessionRecord,
    now: UnixTime,
) -> Result<Response, PageError> {
    let sent = params
        .iter()
        .any(|(k, v)| k == "redirect_uri" && !v.is_empty());
    let issued = authorization_code::issue_code(client, &user.id, request, sent, session, now);
    state.store.insert_code(&issued.record).await?;
    tracing::info!(client_id = %client.id, "authorization code issued");
    let mut fields = vec![("code", issued.code.as_str())];
    if let Some(s) = request.state.as_deref() {
        fields.push(("state", s));
    }
    fields.push(("iss", state.token_policy.issuer.as_str()));
    Ok(respond(
        &request.redirect_uri,
        request.response_mode,
        &fields,
    ))
}

pub(crate) async fn parse(
    state: &AppState,
    query: &str,
) -> Result<(Params, Option<Arc<Client>>), PageError> {
    let params: Params = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let client = match params
        .iter()
        .find(|(k, _)| k == "client_id")
        .and_then(|(_, v)| ClientId::parse(v))
    {
        Some(id) => state.clients.get(&*state.store, &id).await?,
        None => None,
    };
    Ok((params, client))
}

pub(crate) fn validated(
    state: &AppState,
    params: &Params,
    client: Option<Arc<Client>>,
) -> Result<(AuthorizationRequest, Arc<Client>), PageError> {
    match authorization_request::validate(params, client.as_deref()) {
        Ok(request) => match client {
            Some(client) => Ok((request, client)),
            None => Err(PageError::Shown(
                StatusCode::BAD_REQUEST,
                "The client is not registered here.".into(),
            )),
        },
        Err(AuthorizeError::Shown(shown)) => {
            Err(PageError::Shown(StatusCode::BAD_REQUEST, shown.0.into()))
        }
        Err(AuthorizeError::Redirect(e)) => {
            let RedirectError {
                redirect_uri,
                response_mode,
                state: client_state,
                error,
                description,
            } = *e;
            Err(PageError::ToClient(Box::new(ClientError {
                redirect_uri,
                mode: response_mode,
                state: client_state,
                error,
                description,
                issuer: state.token_policy.issuer.clone(),
            })))
        }
    }
}

/// An error for the client of a validated `request`, sent to its redirect URI.
fn to_client(
    state: &AppState,
    request: &AuthorizationRequest,
    error: &'static str,
    description: &str,
) -> PageError {
    PageError::ToClient(Box::new(ClientError {
        redirect_uri: request.redirect_uri.clone(),
        mode: request.response_mode,
        state: request.state.clone(),
        error,
        description: description.to_owned(),
        issuer: state.token_policy.issuer.clone(),
    }))
}
