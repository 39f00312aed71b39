//! The routes and the middleware around them.

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;

use crate::endpoints::{
    account, authorize, discovery, health, introspect, jwks, logout, register, revoke, signup,
    token, userinfo,
};
use crate::state::AppState;
use crate::web;

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
        .route("/authorize", get(authorize::authorize))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/login", post(authorize::login))
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
            Duration::from_secs(30),
        ))
        .with_state(state)
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        web::STYLESHEET,
    )
}
