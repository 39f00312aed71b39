//! `/authorize` with its sign-in and consent pages (`POST /login`,
//! `POST /consent`): the front channel of the authorization code flow.
//!
//! The authorization request travels through the pages as its original query
//! string and is validated again at every step, so nothing a page posts back
//! can widen it.

// Helpers return the page or redirect to send as their error: it is the
// response itself, sent once, so its size does not matter.
#![allow(clippy::result_large_err)]

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use portcullis_core::authorization_request::{
    self, AuthorizationRequest, AuthorizeError, RedirectError, ResponseMode,
};
use portcullis_core::grant::authorization_code::{self, TokenHash};
use portcullis_core::grant::implicit;
use portcullis_core::password::Password;
use portcullis_core::session::{NewSession, SessionRecord};
use portcullis_core::sign_in::SignInRefused;
use portcullis_core::user::User;
use portcullis_core::{Client, ClientId, UnixTime};
use std::net::SocketAddr;
use std::sync::Arc;

use crate::clock::system_now;
use crate::error::ApiError;
use crate::form::Form;
use crate::issuance;
use crate::state::AppState;
use crate::web::{self, ConsentPage, ErrorPage, FormPostPage, LoginPage};

type Params = Vec<(String, String)>;

pub(crate) async fn authorize(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let now = system_now();
    let query = query.unwrap_or_default();
    match current_session(&state, &headers, now).await {
        Ok(signed_in) => proceed(&state, &headers, &query, signed_in, false, now).await,
        Err(response) => response,
    }
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let now = system_now();
    let form = match read_form(&state, &headers, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let query = form.get("request").unwrap_or("").to_owned();
    let requesting = match requesting_client(&state, &query).await {
        Ok(requesting) => requesting,
        Err(response) => return response,
    };
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
            return too_many_attempts(&state, &headers, &requesting, &query, &username_text, wait);
        }
        Err(SignInRefused::Wrong) => {
            state.metrics.login_failure();
            tracing::info!(client = %requesting.client_name, "failed sign-in");
            return login_page(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                &requesting,
                &query,
                &username_text,
                Some("The username or password is not right."),
            );
        }
        Err(SignInRefused::Store(err)) => return unavailable(&err.to_string()),
    };
    sign_in(&state, &headers, &query, user, now).await
}

/// The sign-in page again, with `429` and `Retry-After`, while the account
/// name or the address has used up its failures.
fn too_many_attempts(
    state: &AppState,
    headers: &HeaderMap,
    requesting: &Requesting,
    query: &str,
    username: &str,
    wait: i64,
) -> Response {
    let minutes = (wait + 59) / 60;
    let message = format!("Too many failed attempts. Try again in {minutes} minute(s).");
    let mut response = login_page(
        state,
        headers,
        StatusCode::TOO_MANY_REQUESTS,
        requesting,
        query,
        username,
        Some(&message),
    );
    if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Starts a session for `user`, who just proved who they are, and continues
/// the authorization request `query` (or, when it is empty, shows the account).
pub(crate) async fn sign_in(
    state: &AppState,
    headers: &HeaderMap,
    query: &str,
    user: User,
    now: UnixTime,
) -> Response {
    let session = NewSession::start(&user.id, now, state.session_lifetime);
    if let Err(err) = state.store.insert_session(&session.record).await {
        return unavailable(&err.to_string());
    }
    let mut response = if query.is_empty() {
        see_other("/account")
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
    };
    set_cookie(
        &mut response,
        &state
            .cookies
            .session(&session.token, state.session_lifetime.0),
    );
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

/// The client of the authorization request `query`, valid as far as a page
/// can tell; an empty request is for the account page. An invalid request
/// gets its error page or redirect as the error.
pub(crate) async fn requesting_client(
    state: &AppState,
    query: &str,
) -> Result<Requesting, Response> {
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

/// The sign-in page, with a link to the sign-up page when it is on.
pub(crate) fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    requesting: &Requesting,
    query: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let (csrf, fresh) = web::csrf_token(headers, &state.cookies);
    let signup_href = state.signup.then(|| {
        if query.is_empty() {
            "/signup".to_owned()
        } else {
            format!("/signup?{query}")
        }
    });
    let page = LoginPage {
        client_name: &requesting.client_name,
        error,
        csrf: &csrf,
        request: query,
        username,
        signup_href: signup_href.as_deref(),
    };
    let mut response = web::page(status, &page, requesting.redirect_uri.as_deref());
    if fresh {
        set_cookie(&mut response, &state.cookies.csrf(&csrf));
    }
    response
}

pub(crate) async fn consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let now = system_now();
    let form = match read_form(&state, &headers, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some((user, session)) = (match current_session(&state, &headers, now).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    }) else {
        return error_page(
            StatusCode::FORBIDDEN,
            "Your sign-in has ended. Go back to the application and start again.",
        );
    };
    let query = form.get("request").unwrap_or("").to_owned();
    let (params, client) = match parse(&state, &query).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let (request, client) = match validated(&state, &params, client) {
        Ok(valid) => valid,
        Err(response) => return response,
    };
    match form.get("decision") {
        Some("allow") => {
            if let Err(err) = state
                .store
                .set_consent(&user.id, &client.id, &request.scope, now)
                .await
            {
                return unavailable(&err.to_string());
            }
            grant(
                &state,
                &client,
                &user,
                &request,
                &params,
                session.auth_time,
                now,
            )
            .await
        }
        _ => redirect_error(
            &state,
            &request.redirect_uri,
            request.response_mode,
            request.state.as_deref(),
            "access_denied",
            "the user denied the request",
        ),
    }
}

/// Continues an authorization request for whoever is signed in.
async fn proceed(
    state: &AppState,
    headers: &HeaderMap,
    query: &str,
    signed_in: Option<(User, SessionRecord)>,
    fresh_login: bool,
    now: UnixTime,
) -> Response {
    let (params, client) = match parse(state, query).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let (request, client) = match validated(state, &params, client) {
        Ok(valid) => valid,
        Err(response) => return response,
    };
    let fail = |error: &str, description: &str| {
        redirect_error(
            state,
            &request.redirect_uri,
            request.response_mode,
            request.state.as_deref(),
            error,
            description,
        )
    };
    let needs_login = match &signed_in {
        None => true,
        Some(_) if fresh_login => false,
        Some((_, session)) => {
            request.prompt.login
                || request.max_age.is_some_and(|max| {
                    now.0.saturating_sub(session.auth_time.0)
                        > i64::try_from(max).unwrap_or(i64::MAX)
                })
        }
    };
    if needs_login {
        if request.prompt.none {
            return fail("login_required", "the user is not signed in");
        }
        let requesting = Requesting {
            client_name: client.name.clone(),
            redirect_uri: Some(request.redirect_uri.clone()),
        };
        return login_page(
            state,
            headers,
            StatusCode::OK,
            &requesting,
            query,
            request.login_hint.as_deref().unwrap_or(""),
            None,
        );
    }
    let Some((user, session)) = signed_in else {
        return fail("login_required", "the user is not signed in");
    };
    let granted = match state.store.consent(&user.id, &client.id).await {
        Ok(granted) => granted,
        Err(err) => return unavailable(&err.to_string()),
    };
    let covered = granted.is_some_and(|g| request.scope.is_subset_of(&g));
    if covered && !request.prompt.consent {
        return grant(
            state,
            &client,
            &user,
            &request,
            &params,
            session.auth_time,
            now,
        )
        .await;
    }
    if request.prompt.none {
        return fail("consent_required", "the user has not allowed this client");
    }
    let (csrf, fresh) = web::csrf_token(headers, &state.cookies);
    let page = ConsentPage {
        client_name: &client.name,
        username: user.username.as_str(),
        // Who you are first, then what else.
        scopes: request
            .scope
            .iter()
            .filter(|s| s.as_str() == "openid")
            .chain(request.scope.iter().filter(|s| s.as_str() != "openid"))
            .map(|s| web::describe_scope(s.as_str()))
            .collect(),
        csrf: &csrf,
        request: query,
    };
    let mut response = web::page(StatusCode::OK, &page, Some(&request.redirect_uri));
    if fresh {
        set_cookie(&mut response, &state.cookies.csrf(&csrf));
    }
    response
}

/// Answers an authorization request the user allowed: with a code, or, for
/// the implicit response types, with the tokens themselves.
async fn grant(
    state: &AppState,
    client: &Client,
    user: &User,
    request: &AuthorizationRequest,
    params: &Params,
    auth_time: UnixTime,
    now: UnixTime,
) -> Response {
    if request.response_type.is_implicit() {
        implicit(state, client, user, request, auth_time, now)
    } else {
        issue_code(state, client, user, request, params, auth_time, now).await
    }
}

/// The implicit flow's answer (OIDC Core 3.2.2.5): an access token and/or an
/// ID token, in the fragment or a form post, never a refresh token. An ID
/// token without an access token carries the user's claims itself.
fn implicit(
    state: &AppState,
    client: &Client,
    user: &User,
    request: &AuthorizationRequest,
    auth_time: UnixTime,
    now: UnixTime,
) -> Response {
    let signed = implicit::decide(&state.token_policy, client, user, request, auth_time, now)
        .map_err(ApiError::from)
        .and_then(|issuance| issuance::sign(state, issuance, now));
    let signed = match signed {
        Ok(signed) => signed,
        Err(err) => return unavailable(&format!("{err:?}")),
    };
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
    respond(&request.redirect_uri, request.response_mode, &fields)
}

async fn issue_code(
    state: &AppState,
    client: &Client,
    user: &User,
    request: &AuthorizationRequest,
    params: &Params,
    auth_time: UnixTime,
    now: UnixTime,
) -> Response {
    let sent = params
        .iter()
        .any(|(k, v)| k == "redirect_uri" && !v.is_empty());
    let Some(issued) =
        authorization_code::issue_code(client, &user.id, request, sent, auth_time, now)
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The request has no PKCE challenge.",
        );
    };
    if let Err(err) = state.store.insert_code(&issued.record).await {
        return unavailable(&err.to_string());
    }
    tracing::info!(client_id = %client.id, "authorization code issued");
    let mut fields = vec![("code", issued.code.as_str())];
    if let Some(s) = request.state.as_deref() {
        fields.push(("state", s));
    }
    fields.push(("iss", state.token_policy.issuer.as_str()));
    respond(&request.redirect_uri, request.response_mode, &fields)
}

/// The signed-in user and session, if the session cookie names a valid one.
pub(crate) async fn current_session(
    state: &AppState,
    headers: &HeaderMap,
    now: UnixTime,
) -> Result<Option<(User, SessionRecord)>, Response> {
    let Some(token) = web::cookie(headers, state.cookies.session_name()) else {
        return Ok(None);
    };
    let session = match state.store.session(&TokenHash::of(token)).await {
        Ok(Some(session)) => session,
        Ok(None) => return Ok(None),
        Err(err) => return Err(unavailable(&err.to_string())),
    };
    let user = match state.store.user(&session.user_id).await {
        Ok(user) => user,
        Err(err) => return Err(unavailable(&err.to_string())),
    };
    Ok(user
        .filter(|u| session.is_valid_for(u, now))
        .map(|u| (u, session)))
}

async fn parse(state: &AppState, query: &str) -> Result<(Params, Option<Arc<Client>>), Response> {
    let params: Params = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let client = match params
        .iter()
        .find(|(k, _)| k == "client_id")
        .and_then(|(_, v)| ClientId::parse(v))
    {
        Some(id) => state
            .clients
            .get(&*state.store, &id)
            .await
            .map_err(|err| unavailable(&err.to_string()))?,
        None => None,
    };
    Ok((params, client))
}

fn validated(
    state: &AppState,
    params: &Params,
    client: Option<Arc<Client>>,
) -> Result<(AuthorizationRequest, Arc<Client>), Response> {
    match authorization_request::validate(params, client.as_deref()) {
        Ok(request) => match client {
            Some(client) => Ok((request, client)),
            None => Err(error_page(
                StatusCode::BAD_REQUEST,
                "The client is not registered here.",
            )),
        },
        Err(AuthorizeError::Shown(shown)) => Err(error_page(StatusCode::BAD_REQUEST, shown.0)),
        Err(AuthorizeError::Redirect(e)) => {
            let RedirectError {
                redirect_uri,
                response_mode,
                state: client_state,
                error,
                description,
            } = *e;
            Err(redirect_error(
                state,
                &redirect_uri,
                response_mode,
                client_state.as_deref(),
                error,
                &description,
            ))
        }
    }
}

pub(crate) async fn read_form(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Form, Response> {
    let form = Form::read(headers, body, state.max_body_bytes, &[])
        .await
        .map_err(|_| error_page(StatusCode::BAD_REQUEST, "The form could not be read."))?;
    if !web::csrf_matches(headers, &state.cookies, form.get("csrf")) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "The form has expired or did not come from this site. Go back and try again.",
        ));
    }
    Ok(form)
}

fn redirect_error(
    state: &AppState,
    redirect_uri: &str,
    mode: ResponseMode,
    client_state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let mut fields = vec![("error", error), ("error_description", description)];
    if let Some(s) = client_state {
        fields.push(("state", s));
    }
    fields.push(("iss", state.token_policy.issuer.as_str()));
    respond(redirect_uri, mode, &fields)
}

/// Sends `fields` to the client's redirect URI by `mode`.
fn respond(redirect_uri: &str, mode: ResponseMode, fields: &[(&str, &str)]) -> Response {
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let location = match mode {
        ResponseMode::Query if redirect_uri.contains('?') => format!("{redirect_uri}&{encoded}"),
        ResponseMode::Query => format!("{redirect_uri}?{encoded}"),
        ResponseMode::Fragment => format!("{redirect_uri}#{encoded}"),
        ResponseMode::FormPost => {
            let page = FormPostPage {
                action: redirect_uri,
                fields: fields.to_vec(),
            };
            return web::page(StatusCode::OK, &page, Some(redirect_uri));
        }
    };
    let Ok(value) = HeaderValue::from_str(&location) else {
        return error_page(StatusCode::BAD_REQUEST, "The redirect URI cannot be used.");
    };
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response();
    web::security_headers(response.headers_mut());
    response
}

pub(crate) fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    web::page(status, &ErrorPage { message }, None)
}

pub(crate) fn unavailable(detail: &str) -> Response {
    tracing::error!(%detail, "sign-in flow failed");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The server cannot handle this now. Try again in a moment.",
    )
}

/// A `303 See Other` to a path of this server.
pub(crate) fn see_other(path: &'static str) -> Response {
    let mut response = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static(path))],
    )
        .into_response();
    web::security_headers(response.headers_mut());
    response
}
