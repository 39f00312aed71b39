//! `/jwks.json`: the published public keys (next, active and recently retired).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;

use crate::state::AppState;

pub(crate) async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let cache = HeaderValue::from_str(&state.jwks_cache_control)
        .unwrap_or_else(|_| HeaderValue::from_static("no-cache"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            ),
            (header::CACHE_CONTROL, cache),
        ],
        state.keys.jwks(),
    )
}
