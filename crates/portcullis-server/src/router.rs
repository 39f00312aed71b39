//! The routes and the middleware around them.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::routing::{get, post};
use portcullis_core::random;
use tower_http::cors::{AllowOrigin, CorsLayer};
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

/// CORS for the public documents (discovery, JWKS): any origin, no
/// credentials; they hold nothing a page could not fetch through a proxy.
fn public_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET])
        .max_age(std::time::Duration::from_secs(3600))
}

/// CORS for the endpoints browser and desktop clients call with tokens
/// (`/token`, `/register`, `/revoke`, `/userinfo`): only the configured
/// origins (none by default, and then no CORS headers at all), no cookies.
fn client_cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::WWW_AUTHENTICATE])
        .max_age(std::time::Duration::from_secs(600))
}

pub(crate) fn router(state: AppState) -> Router {
    let public = public_cors();
    let clients = client_cors(&state.cors_origins);
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::metadata).layer(public.clone()),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata).layer(public.clone()),
        )
        .route("/jwks.json", get(jwks::jwks).layer(public))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/token", post(token::token).layer(clients.clone()))
        .route(
            "/device_authorization",
            post(device_authorization::device_authorization),
        )
        .route("/device", get(device::device).post(device::enter))
        .route("/device/decision", post(device::decision))
        .route("/authorize", get(authorize::authorize))
        .route(
            "/userinfo",
            get(userinfo::userinfo)
                .post(userinfo::userinfo)
                .layer(clients.clone()),
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
        .route("/revoke", post(revoke::revoke).layer(clients.clone()))
        .route("/register", post(register::register).layer(clients.clone()))
        .route(
            "/register/{client_id}",
            get(register::read)
                .put(register::update)
                .delete(register::delete)
                .layer(clients),
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
