//! `/healthz` (the process answers) and `/readyz` (it can serve: the
//! database takes a write and a key signs access tokens), for load balancers and
//! orchestrators. Neither needs credentials nor reveals more than that.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::clock::system_now;
use crate::state::AppState;

/// How long `/readyz` waits for the database.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) async fn healthz() -> Response {
    no_store(StatusCode::OK, json!({"status": "ok"}))
}

pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let database = matches!(
        tokio::time::timeout(DATABASE_TIMEOUT, state.store.ready(system_now())).await,
        Ok(Ok(()))
    );
    let keys = state.access_token_key(system_now()).is_some();
    let status = if database && keys {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool, bad: &'static str| if ok { "ok" } else { bad };
    no_store(
        status,
        json!({
            "status": if status == StatusCode::OK { "ready" } else { "unavailable" },
            "checks": {
                "database": word(database, "unreachable"),
                "signing_key": word(keys, "missing"),
            },
        }),
    )
}

fn no_store(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
