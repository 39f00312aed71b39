//! The only place errors become HTTP responses.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::TokenError;
use serde_json::json;

/// An error on its way to the client.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// An RFC 6749 section 5.2 error from the token endpoint.
    Token(TokenError),
    /// The body is larger than `max_body_bytes`.
    PayloadTooLarge,
    /// A bearer token error at a protected resource (RFC 6750 section 3):
    /// `None` when the request carried no token at all.
    Bearer(Option<BearerError>),
    /// A 400 with an error code of another RFC (e.g. RFC 7591's).
    BadRequest(&'static str, String),
    /// An endpoint that is turned off.
    NotFound,
    /// Any other status with an error code and description (admin API).
    Problem(StatusCode, &'static str, String),
    /// Something failed inside; details go to the log only.
    Internal(String),
}

/// RFC 6750 section 3.1 error codes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BearerError {
    /// Malformed request (e.g. two tokens): 400.
    InvalidRequest,
    /// Expired, revoked, malformed or foreign token: 401.
    InvalidToken,
    /// The token lacks a needed scope: 403.
    InsufficientScope(&'static str),
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        ApiError::Token(err)
    }
}

impl From<portcullis_core::StoreError> for ApiError {
    fn from(err: portcullis_core::StoreError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl From<portcullis_core::grant::GrantError> for ApiError {
    fn from(err: portcullis_core::grant::GrantError) -> Self {
        use portcullis_core::grant::GrantError;
        match err {
            GrantError::Refused(err) => ApiError::Token(err),
            GrantError::Replayed(description) => {
                tracing::warn!(
                    "a spent code or refresh token was presented again; its family is revoked"
                );
                ApiError::Token(TokenError::InvalidGrant(description))
            }
            GrantError::WrongPassword => ApiError::Token(TokenError::InvalidGrant(
                "the username or password is not right",
            )),
            GrantError::Store(err) => err.into(),
        }
    }
}

impl ApiError {
    /// The error code the response carries.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Token(err) => err.code(),
            ApiError::PayloadTooLarge => "invalid_request",
            ApiError::Bearer(None) => "invalid_request",
            ApiError::Bearer(Some(BearerError::InvalidRequest)) => "invalid_request",
            ApiError::Bearer(Some(BearerError::InvalidToken)) => "invalid_token",
            ApiError::Bearer(Some(BearerError::InsufficientScope(_))) => "insufficient_scope",
            ApiError::BadRequest(code, _) => code,
            ApiError::NotFound => "not_found",
            ApiError::Problem(_, code, _) => code,
            ApiError::Internal(_) => "temporarily_unavailable",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, description) = match &self {
            ApiError::Token(err) => {
                let status = match err {
                    TokenError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::BAD_REQUEST,
                };
                (status, err.code(), err.description())
            }
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "the request body is too large".to_owned(),
            ),
            ApiError::Bearer(error) => return bearer_response(*error),
            ApiError::BadRequest(code, description) => {
                (StatusCode::BAD_REQUEST, *code, description.clone())
            }
            ApiError::Problem(status, code, description) => (*status, *code, description.clone()),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "there is nothing here".to_owned(),
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the server cannot handle the request now; retry later".to_owned(),
                )
            }
        };
        let mut response = (
            status,
            Json(json!({"error": code, "error_description": description})),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if status == StatusCode::UNAUTHORIZED {
            // The error travels in the challenge too, as node-oidc-provider
            // sends it and clients such as openid-client read it from there.
            let challenge = format!(
                "Basic realm=\"portcullis\", charset=\"UTF-8\", error=\"{}\", error_description=\"{}\"",
                quotable(code),
                quotable(&description)
            );
            let value = HeaderValue::from_str(&challenge).unwrap_or_else(|_| {
                HeaderValue::from_static("Basic realm=\"portcullis\", charset=\"UTF-8\"")
            });
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// `text` as the inside of a quoted-string (RFC 9110 5.6.4) that any
/// client can parse: printable ASCII, no quote or backslash to escape.
fn quotable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

fn bearer_response(error: Option<BearerError>) -> Response {
    let (status, challenge, body) = match error {
        None => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"portcullis\"".to_owned(),
            json!({"error": "invalid_request", "error_description": "an access token is required"}),
        ),
        Some(error) => {
            let (status, code, description) = match error {
                BearerError::InvalidRequest => (
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the request carries a malformed token".to_owned(),
                ),
                BearerError::InvalidToken => (
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the access token is not valid".to_owned(),
                ),
                BearerError::InsufficientScope(scope) => (
                    StatusCode::FORBIDDEN,
                    "insufficient_scope",
                    format!("the access token lacks the {scope} scope"),
                ),
            };
            let scope = match error {
                BearerError::InsufficientScope(scope) => format!(", scope=\"{scope}\""),
                _ => String::new(),
            };
            (
                status,
                format!(
                    "Bearer realm=\"portcullis\", error=\"{code}\", error_description=\"{}\"{scope}",
                    quotable(&description)
                ),
                json!({"error": code, "error_description": description}),
            )
        }
    };
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        headers.insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// What stops a page of the sign-in flow (`/authorize`, `/login`,
/// `/consent`, `/signup`, `/account`, logout), on its way to the browser.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Shown on an error page, never redirected: the client or its redirect
    /// URI is not verified, or the form is unusable.
    Shown(StatusCode, std::borrow::Cow<'static, str>),
    /// Sent back to the client's verified redirect URI (RFC 6749 section
    /// 4.1.2.1), with `state` and `iss` (RFC 9207).
    ToClient(Box<ClientError>),
    /// The database or signing failed: a 503 page; details go to the log only.
    Unavailable(String),
}

/// An authorization error for a verified redirect URI.
#[derive(Debug)]
pub(crate) struct ClientError {
    pub redirect_uri: String,
    pub mode: portcullis_core::authorization_request::ResponseMode,
    pub state: Option<String>,
    pub error: &'static str,
    pub description: String,
    pub issuer: String,
}

impl From<portcullis_core::StoreError> for PageError {
    fn from(err: portcullis_core::StoreError) -> Self {
        PageError::Unavailable(err.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        use crate::pages::html::{ErrorPage, page};
        match self {
            PageError::Shown(status, message) => {
                page(status, &ErrorPage { message: &message }, None)
            }
            PageError::Unavailable(detail) => {
                tracing::error!(%detail, "sign-in flow failed");
                let mut response = page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &ErrorPage {
                        message: "The server cannot handle this now. Try again in a moment.",
                    },
                    None,
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
            PageError::ToClient(e) => {
                let mut fields = vec![
                    ("error", e.error),
                    ("error_description", e.description.as_str()),
                ];
                if let Some(s) = e.state.as_deref() {
                    fields.push(("state", s));
                }
                fields.push(("iss", e.issuer.as_str()));
                crate::pages::html::respond(&e.redirect_uri, e.mode, &fields)
            }
        }
    }
}
