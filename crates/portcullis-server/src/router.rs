//! The routes and the middleware around them.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::routing::{get, post};
use portcullis_core::random;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::endpoints::{
    device_authorization, discovery, health, introspect, jwks, metrics, register, revoke, token,
    userinfo,
};
use crate::pages::{account, authorize, device, html, login, logout, signup};
use crate::state::AppState;

/// Gives each request an `x-request-id` (kept when a proxy already set one),
/// echoed in the response and carried by every log line of the request.
#[derive(Debug, Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&random::token::<12>())
            .ok()
            .map(RequestId::new)
    }
}

/// The span of one request: method, path (never the query, which can carry
/// codes and tokens) and request id.
fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
    )
}

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata),
        )
        .route("/jwks.json", get(jwks::jwks))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/token", post(token::token))
        .route(
            "/device_authorization",
            post(device_authorization::device_authorization),
        )
        .route("/device", get(device::device).post(device::enter))
        .route("/device/decision", post(device::decision))
        .route("/authorize", get(authorize::authorize))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/login", post(login::login))
        .route("/consent", post(authorize::consent))
        .route("/signup", get(signup::signup_page).post(signup::signup))
        .route("/account", get(account::account))
        .route("/account/password", post(account::change_password))
        .route("/logout", post(logout::logout))
        .route(
            "/end-session",
            get(logout::end_session).post(logout::end_session),
        )
        .route("/assets/style.css", get(stylesheet))
        .route("/introspect", post(introspect::introspect))
        .route("/metrics", get(metrics::metrics))
        .merge(crate::admin_api::routes())
        .route("/revoke", post(revoke::revoke))
        .route("/register", post(register::register))
        .route(
            "/register/{client_id}",
            get(register::read)
                .put(register::update)
                .delete(register::delete),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::metrics::track,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
        .with_state(state)
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        html::STYLESHEET,
    )
}
