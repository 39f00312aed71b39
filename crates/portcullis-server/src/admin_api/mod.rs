//! The admin API under `/admin/v1`: clients, users, sessions, grants, keys
//! and revocations, for a bearer token with the `portcullis:admin` scope. Each
//! handler calls the same `portcullis_core::admin` use case as the CLI; the
//! OpenAPI 3.1 document at `/admin/v1/openapi.json` is generated from the
//! handlers' annotations.

mod auth;
mod clients;
mod keys;
mod schema_rules;
mod users;
mod views;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ApiError;
use crate::state::AppState;

fn bad_request(description: impl ToString) -> ApiError {
    ApiError::Problem(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description.to_string(),
    )
}

fn not_found(description: impl ToString) -> ApiError {
    ApiError::Problem(StatusCode::NOT_FOUND, "not_found", description.to_string())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Portcullis admin API", description = "Manage clients, users, sessions, grants, keys and tokens. Every call needs a bearer access token from this server with the portcullis:admin scope and the urn:portcullis:admin audience (portcullis admin-client create)."),
    paths(
        clients::list, clients::create, clients::show, clients::delete, clients::rotate_secret,
        users::list, users::create, users::show, users::set_password, users::set_status,
        users::delete, users::end_sessions, users::list_grants, users::revoke_grant,
        keys::list, keys::rotate, keys::revoke,
    ),
    modifiers(&BearerScheme, &EveryOperationsErrors),
)]
struct AdminApi;

/// The answers every operation can give besides its own: a missing or
/// invalid token (401), a token without the admin scope (403), the database
/// unreachable (503, with `Retry-After`); with a body, a malformed one (400)
/// and one over `max_body_bytes` (413).
struct EveryOperationsErrors;

impl Modify for EveryOperationsErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let has_body = operation.request_body.is_some();
                let responses = &mut operation.responses.responses;
                let mut add = |status: &str, description: &str| {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description).into());
                };
                add(
                    "401",
                    "No bearer token, or not a live admin token of this server",
                );
                add("403", "The token lacks the portcullis:admin scope");
                add(
                    "503",
                    "The database cannot be reached; retry after Retry-After",
                );
                if has_body {
                    add("400", "The body is not JSON of this operation's schema");
                    add("413", "The body is larger than max_body_bytes");
                }
            }
        }
    }
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// A JSON body of at most `max_body_bytes` (413 beyond); a malformed one is a
/// 400 with the API's error body.
pub(crate) struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(bad_request(
                "the request body must be application/json".to_owned(),
            ));
        }
        // The body limit of every endpoint holds here too: 413 beyond it.
        let bytes = crate::form::read_limited(request.into_body(), state.max_body_bytes).await?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| bad_request(format!("the body does not fit this operation: {e}")))
    }
}

/// The OpenAPI document: utoipa's, with the request rules of
/// [`schema_rules`].
fn openapi_json() -> String {
    let mut document = serde_json::to_value(AdminApi::openapi()).unwrap_or_default();
    schema_rules::refine(&mut document);
    serde_json::to_string_pretty(&document).unwrap_or_else(|_| "{}".to_owned())
}

async fn openapi() -> impl IntoResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        DOCUMENT.get_or_init(openapi_json).clone(),
    )
}

/// The `/admin/v1` routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/openapi.json", get(openapi))
        .route(
            "/admin/v1/clients",
            get(clients::list).post(clients::create),
        )
        .route(
            "/admin/v1/clients/{client_id}",
            get(clients::show).delete(clients::delete),
        )
        .route(
            "/admin/v1/clients/{client_id}/secret",
            post(clients::rotate_secret),
        )
        .route("/admin/v1/users", get(users::list).post(users::create))
        .route(
            "/admin/v1/users/{username}",
            get(users::show).delete(users::delete),
        )
        .route(
            "/admin/v1/users/{username}/password",
            put(users::set_password),
        )
        .route("/admin/v1/users/{username}/status", put(users::set_status))
        .route(
            "/admin/v1/users/{username}/sessions",
            delete(users::end_sessions),
        )
        .route("/admin/v1/users/{username}/grants", get(users::list_grants))
        .route(
            "/admin/v1/users/{username}/grants/{client_id}",
            delete(users::revoke_grant),
        )
        .route("/admin/v1/keys", get(keys::list))
        .route("/admin/v1/keys/rotate", post(keys::rotate))
        .route("/admin/v1/revocations", post(keys::revoke))
}
