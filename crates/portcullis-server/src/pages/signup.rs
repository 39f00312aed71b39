//! The sign-up page (`GET /signup`, `POST /signup`): people create their own
//! account and continue where they were going, signed in. Turned off with the
//! `signup = false` setting.
//!
//! Like the sign-in page, it carries the authorization request as its
//! original query string, validated again when the account exists.

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::Response;
use portcullis_core::admin::users::{self, UserAdminError};
use portcullis_core::password::PasswordOwner;
use portcullis_core::sign_in::PasswordWork as _;
use portcullis_core::user::{NewUser, Profile, Username};
use std::net::SocketAddr;

use super::Requesting;
use super::html::{self, SignupPage};
use super::login::{requesting_client, sign_in};
use super::read_form;
use crate::clock::system_now;
use crate::error::PageError;
use crate::state::{AppState, counted};

/// What the person typed, shown again when the form is refused (never the password).
#[derive(Debug, Default)]
struct Typed {
    username: String,
    name: String,
    email: String,
}

pub(crate) async fn signup_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if !state.signup {
        return Err(turned_off());
    }
    let query = query.unwrap_or_default();
    // The device page's sign-up carries where to go back to, not a request.
    let then = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "then")
        .filter(|_| query.starts_with("then="))
        .and_then(|(_, value)| super::device::continuation(&value));
    let query = if then.is_some() { String::new() } else { query };
    let requesting = requesting_for(&state, &query, then.as_deref()).await?;
    let page = Page {
        requesting: &requesting,
        query: &query,
        then: then.as_deref(),
        typed: &Typed::default(),
        error: None,
    };
    Ok(page.render(&state, &headers, StatusCode::OK))
}

pub(crate) async fn signup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PageError> {
    if !state.signup {
        return Err(turned_off());
    }
    let now = system_now();
    let form = read_form(&state, &headers, body).await?;
    let query = form.get("request").unwrap_or("").to_owned();
    let then = form.get("then").and_then(super::device::continuation);
    let requesting = requesting_for(&state, &query, then.as_deref()).await?;
    let text = |name: &str| form.get(name).unwrap_or("").trim().to_owned();
    let typed = Typed {
        username: text("username"),
        name: text("name"),
        email: text("email"),
    };
    let page = Page {
        requesting: &requesting,
        query: &query,
        then: then.as_deref(),
        typed: &typed,
        error: None,
    };
    let refuse = |status: StatusCode, message: &str| {
        Page {
            error: Some(message),
            ..page
        }
        .render(&state, &headers, status)
    };
    let address = state.client_address(peer, &headers);
    let too_many = |wait: i64, what: &str| {
        super::throttled(what, wait, |message| {
            refuse(StatusCode::TOO_MANY_REQUESTS, message)
        })
    };
    let throttle = state.throttle();
    if let Some(wait) = counted(throttle.signups_blocked(&address, now).await) {
        return Ok(too_many(wait, "Too many accounts were created from here."));
    }
    // Probing for taken names spends the address's sign-in attempts.
    if let Some(wait) = throttle.address_blocked(&address, now).await? {
        return Ok(too_many(wait, "Too many attempts from here."));
    }
    let username = match Username::parse(&typed.username) {
        Ok(username) => username,
        Err(err) => {
            return Ok(refuse(
                StatusCode::BAD_REQUEST,
                &html::sentence(&err.to_string()),
            ));
        }
    };
    let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    let profile = Profile {
        email: optional(&typed.email),
        name: optional(&typed.name),
        ..Profile::default()
    };
    if let Err(err) = profile.validate() {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            &html::sentence(&err.to_string()),
        ));
    }
    let (chosen, confirm) = (
        form.get("password").unwrap_or(""),
        form.get("confirm").unwrap_or(""),
    );
    if chosen != confirm {
        return Ok(refuse(StatusCode::BAD_REQUEST, "The two passwords differ."));
    }
    let owner = PasswordOwner {
        username: username.as_str(),
        email: profile.email.as_deref(),
    };
    let password = match state.password_policy.check(chosen, owner) {
        Ok(password) => password,
        Err(err) => {
            return Ok(refuse(
                StatusCode::BAD_REQUEST,
                &html::sentence(&err.to_string()),
            ));
        }
    };
    let password_hash = state.password_work.hash(password).await;
    let new = NewUser {
        username,
        profile,
        password_hash,
    };
    let user = match users::create(&*state.store, new, now).await {
        Ok(user) => user,
        Err(UserAdminError::Taken(_)) => {
            if let Some(wait) = throttle.probed(&address, now).await? {
                return Ok(too_many(wait, "Too many attempts from here."));
            }
            return Ok(refuse(
                StatusCode::CONFLICT,
                "That username is taken. Choose another one.",
            ));
        }
        Err(err) => return Err(PageError::Unavailable(err.to_string())),
    };
    counted(throttle.signed_up(&address, now).await);
    tracing::info!(user = %user.id, "account created by sign-up");
    sign_in(&state, &headers, &query, then.as_deref(), user, now).await
}

/// Who the page is for: the client of the request, or a device when the
/// sign-up started on the device page.
async fn requesting_for(
    state: &AppState,
    query: &str,
    then: Option<&str>,
) -> Result<Requesting, PageError> {
    match then {
        Some(_) => Ok(Requesting {
            client_name: "a device".to_owned(),
            redirect_uri: None,
        }),
        None => requesting_client(state, query).await,
    }
}

/// The sign-up page as rendered for one request.
#[derive(Clone, Copy)]
struct Page<'a> {
    requesting: &'a Requesting,
    query: &'a str,
    /// Where a sign-up that no client asked for continues (the device page).
    then: Option<&'a str>,
    typed: &'a Typed,
    error: Option<&'a str>,
}

impl Page<'_> {
    fn render(self, state: &AppState, headers: &HeaderMap, status: StatusCode) -> Response {
        super::form_page(state, headers, |csrf| {
            let login_href = match (self.query.is_empty(), self.then) {
                (true, Some(then)) => then.to_owned(),
                (true, None) => "/account".to_owned(),
                (false, _) => format!("/authorize?{}", self.query),
            };
            let page = SignupPage {
                client_name: &self.requesting.client_name,
                error: self.error,
                csrf,
                request: self.query,
                username: &self.typed.username,
                name: &self.typed.name,
                email: &self.typed.email,
                login_href: &login_href,
                then: self.then,
            };
            // A sign-up may continue straight to the client's redirect URI.
            let continues_to = self.requesting.redirect_uri.as_deref();
            html::page(status, &page, continues_to)
        })
    }
}

fn turned_off() -> PageError {
    PageError::Shown(
        StatusCode::NOT_FOUND,
        "Accounts cannot be created here. Ask an administrator for one.".into(),
    )
}
