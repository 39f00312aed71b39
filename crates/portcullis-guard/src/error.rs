//! RFC 6750 error responses, with a stable machine-readable code.

use http::{HeaderValue, Response, StatusCode, header};
use portcullis_jose::Error as JoseError;

/// Why a request was refused. Becomes an RFC 6750 response: the
/// `WWW-Authenticate: Bearer` challenge and a JSON body with `error`, a
/// stable `error_code` and a human `error_description`.
///
/// ```
/// use portcullis_guard::Rejection;
/// let response = Rejection::missing().into_http::<String>(None);
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["www-authenticate"], "Bearer");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: StatusCode,
    /// The RFC 6750 error, `None` when the request carried no credentials.
    error: Option<&'static str>,
    code: &'static str,
    description: String,
    scope: Option<String>,
}

impl Rejection {
    fn new(
        status: StatusCode,
        error: Option<&'static str>,
        code: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Rejection {
            status,
            error,
            code,
            description: description.into(),
            scope: None,
        }
    }

    /// No `Authorization: Bearer` header: 401 with a bare challenge (RFC 6750 section 3.1).
    pub fn missing() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "authorization_header_missing",
            "an Authorization: Bearer header is required",
        )
    }

    /// A malformed `Authorization` header: 400 `invalid_request`.
    pub fn invalid_header(why: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            Some("invalid_request"),
            "invalid_header",
            why,
        )
    }

    /// The token lacks a required scope: 403 `insufficient_scope`.
    pub fn insufficient_scope(needed: &crate::Scopes) -> Self {
        let mut rejection = Self::new(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "insufficient_scope",
            format!("the token lacks the scope this resource requires: {needed}"),
        );
        rejection.scope = Some(needed.to_string());
        rejection
    }

    /// The keys could not be obtained from the issuer yet: 503.
    pub(crate) fn keys_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "keys_unavailable",
            "the issuer's keys cannot be obtained now; retry later",
        )
    }

    /// The introspection endpoint says the token is not active.
    pub(crate) fn inactive() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            "inactive_token",
            "the token is not active",
        )
    }

    /// A handler asked for claims on a route that is not protected.
    pub(crate) fn not_protected() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "route_not_protected",
            "this route is not behind the bearer token guard",
        )
    }

    /// An invalid token: 401 `invalid_token`, with a code saying why.
    pub(crate) fn invalid_token(err: &JoseError) -> Self {
        let code = match err {
            JoseError::Expired => "token_expired",
            JoseError::NotYetValid | JoseError::IssuedInFuture => "token_not_yet_valid",
            JoseError::InvalidSignature => "invalid_signature",
            JoseError::NoMatchingKey => "no_matching_key",
            JoseError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            JoseError::WrongType => "invalid_type",
            JoseError::WrongIssuer | JoseError::WrongAudience | JoseError::MissingClaim(_) => {
                "invalid_claims"
            }
            _ => "malformed_token",
        };
        Self::new(
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            code,
            err.to_string(),
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable machine-readable code (`token_expired`, `invalid_claims`, ...).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The `WWW-Authenticate` challenge.
    pub fn challenge(&self, realm: Option<&str>) -> String {
        self.challenge_with(realm, None)
    }

    /// The `WWW-Authenticate` challenge, pointing at the resource's
    /// metadata document (RFC 9728 section 5.1) when there is one.
    pub fn challenge_with(&self, realm: Option<&str>, resource_metadata: Option<&str>) -> String {
        let mut params = Vec::new();
        if let Some(realm) = realm {
            params.push(format!("realm=\"{}\"", quote_safe(realm)));
        }
        if let Some(url) = resource_metadata {
            params.push(format!("resource_metadata=\"{}\"", quote_safe(url)));
        }
        if let Some(error) = self.error {
            params.push(format!("error=\"{error}\""));
            params.push(format!(
                "error_description=\"{}\"",
                quote_safe(&self.description)
            ));
        }
        if let Some(scope) = &self.scope {
            params.push(format!("scope=\"{}\"", quote_safe(scope)));
        }
        if params.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer {}", params.join(", "))
        }
    }

    /// The response, with any body type that can be built from a `String`.
    pub fn into_http<B: From<String>>(self, realm: Option<&str>) -> Response<B> {
        self.into_http_with(realm, None)
    }

    /// The response, its challenge naming `realm` and the resource's
    /// metadata document (RFC 9728) when given.
    pub fn into_http_with<B: From<String>>(
        self,
        realm: Option<&str>,
        resource_metadata: Option<&str>,
    ) -> Response<B> {
        let body = serde_json::json!({
            "error": self.error.unwrap_or(if self.status == StatusCode::UNAUTHORIZED { "invalid_token" } else { "server_error" }),
            "error_code": self.code,
            "error_description": self.description,
        });
        let mut response = Response::new(B::from(body.to_string()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if matches!(
            self.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST
        ) && let Ok(value) =
            HeaderValue::from_str(&self.challenge_with(realm, resource_metadata))
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl axum_core::response::IntoResponse for Rejection {
    fn into_response(self) -> axum_core::response::Response {
        self.into_http::<axum_core::body::Body>(None)
    }
}

/// Keeps a header parameter inside its quotes.
fn quote_safe(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '"' && *c != '\\' && (c.is_ascii_graphic() || *c == ' '))
        .collect()
}
