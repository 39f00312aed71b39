//! `/register` (RFC 7591) and `/register/{client_id}` (RFC 7592): clients
//! register themselves (openly, or with an initial access token) and read,
//! update or delete their registration with the registration access token
//! they received. The registration endpoint answers 404 when it is off.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::admin::clients;
use portcullis_core::admin::registration::{self, RegistrationError};
use portcullis_core::registration::{ClientMetadata, RegistrationMode, metadata_of};
use serde_json::Value;

use crate::bearer::bearer;
use crate::clock::system_now;
use crate::error::{ApiError, BearerError};
use crate::form::read_limited;
use crate::state::AppState;

impl From<RegistrationError> for ApiError {
    fn from(err: RegistrationError) -> Self {
        match err {
            RegistrationError::Disabled => ApiError::NotFound,
            RegistrationError::InvalidToken => ApiError::Bearer(Some(BearerError::InvalidToken)),
            RegistrationError::Metadata(err) => ApiError::BadRequest(err.code(), err.to_string()),
            RegistrationError::Store(err) => err.into(),
        }
    }
}

pub(crate) async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if state.registration == RegistrationMode::Off {
        return Err(ApiError::NotFound);
    }
    let initial_token = match state.registration {
        RegistrationMode::Token => Some(bearer(&headers)?),
        _ => None,
    };
    let metadata = read_metadata(&state, &headers, body).await?;
    let registered = registration::register(
        &*state.store,
        state.registration,
        &state.self_service,
        initial_token,
        &metadata.0,
        system_now(),
    )
    .await?;
    let mut answer = metadata_of(&registered.client);
    if let Some(secret) = &registered.secret {
        answer["client_secret"] = secret.expose().into();
        answer["client_secret_expires_at"] = 0.into();
    }
    answer["registration_access_token"] = registered.registration_token.expose().into();
    answer["registration_client_uri"] = client_uri(&state, registered.client.id.as_str()).into();
    tracing::info!(client_id = %registered.client.id, "client registered");
    Ok(json(StatusCode::CREATED, answer))
}

pub(crate) async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let client = registration::authorize(&*state.store, &id, bearer(&headers).ok()).await?;
    let mut answer = metadata_of(&client);
    answer["registration_client_uri"] = client_uri(&state, &id).into();
    Ok(json(StatusCode::OK, answer))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let client = registration::authorize(&*state.store, &id, bearer(&headers).ok()).await?;
    let (metadata, raw) = read_metadata(&state, &headers, body).await?;
    if raw
        .get("client_id")
        .is_some_and(|v| v.as_str() != Some(id.as_str()))
    {
        return Err(ApiError::BadRequest(
            "invalid_client_metadata",
            "client_id does not match the registration".into(),
        ));
    }
    let updated =
        registration::update(&*state.store, client, &state.self_service, &metadata).await?;
    let mut answer = metadata_of(&updated);
    answer["registration_client_uri"] = client_uri(&state, &id).into();
    Ok(json(StatusCode::OK, answer))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let client = registration::authorize(&*state.store, &id, bearer(&headers).ok()).await?;
    clients::delete(&*state.store, &client.id, system_now()).await?;
    tracing::info!(client_id = %client.id, "client deleted its registration");
    Ok((
        StatusCode::NO_CONTENT,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
    )
        .into_response())
}

async fn read_metadata(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(ClientMetadata, Value), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    let invalid = |text: String| ApiError::BadRequest("invalid_client_metadata", text);
    if !is_json {
        return Err(invalid("the request body must be application/json".into()));
    }
    let bytes = read_limited(body, state.max_body_bytes).await?;
    let raw: Value = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("the body is not JSON: {e}")))?;
    if !raw.is_object() {
        return Err(invalid("the body must be a JSON object".into()));
    }
    let metadata = serde_json::from_value(raw.clone())
        .map_err(|e| invalid(format!("malformed metadata: {e}")))?;
    Ok((metadata, raw))
}

fn client_uri(state: &AppState, id: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
    format!("{}/register/{encoded}", state.token_policy.issuer)
}

fn json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
