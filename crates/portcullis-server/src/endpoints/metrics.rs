//! `GET /metrics`: the Prometheus text format of `metrics.rs`'s counters.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// `GET /metrics`, in the Prometheus text format.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.metrics.render(state.store.pool_stats());
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}
