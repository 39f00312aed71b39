//! `/admin/v1/clients`: list, create, show, delete, rotate the secret.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portcullis_core::admin::clients::{self, ClientAdminError};
use portcullis_core::redirect_uri::RedirectUri;
use portcullis_core::{ClientId, GrantType, NewClient, Resource, ScopeSet};

use super::Body;
use super::auth::Admin;
use super::views::{ClientView, CreatedClient, ErrorBody, NewClientRequest, NewSecret};
use super::{bad_request, not_found};
use crate::clock::system_now;
use crate::error::ApiError;
use crate::state::AppState;

fn client_id(id: &str) -> Result<ClientId, ApiError> {
    ClientId::parse(id).ok_or_else(|| not_found(format!("no client `{id}`")))
}

impl From<ClientAdminError> for ApiError {
    fn from(err: ClientAdminError) -> Self {
        match err {
            ClientAdminError::Store(err) => err.into(),
            ClientAdminError::Itself(_) | ClientAdminError::Public(_) => {
                ApiError::Problem(StatusCode::CONFLICT, "conflict", err.to_string())
            }
            other => bad_request(other.to_string()),
        }
    }
}

/// Every client.
#[utoipa::path(get, path = "/admin/v1/clients", tag = "clients",
    responses((status = 200, body = [ClientView])), security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<Vec<ClientView>>, ApiError> {
    let all = state.store.clients().await?;
    Ok(Json(all.iter().map(ClientView::from).collect()))
}

/// Registers a client; a confidential client's secret is in the answer, once.
#[utoipa::path(post, path = "/admin/v1/clients", tag = "clients", request_body = NewClientRequest,
    responses((status = 201, body = CreatedClient), (status = 400, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(request): Body<NewClientRequest>,
) -> Result<(StatusCode, Json<CreatedClient>), ApiError> {
    let grant_types = request
        .grant_types
        .iter()
        .map(|g| g.parse::<GrantType>().map_err(bad_request))
        .collect::<Result<Vec<_>, _>>()?;
    let scopes = ScopeSet::parse(&request.scope).ok_or_else(|| bad_request("malformed scope"))?;
    let audiences = request
        .audiences
        .iter()
        .map(|a| {
            Resource::parse(a)
                .ok_or_else(|| bad_request(format!("audience `{a}` is not an absolute URI")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let uris = |list: &[String]| {
        list.iter()
            .map(|u| RedirectUri::parse(u).map_err(|e| bad_request(e.to_string())))
            .collect::<Result<Vec<_>, _>>()
    };
    let new = NewClient {
        name: request.name,
        grant_types,
        scopes,
        audiences,
        redirect_uris: uris(&request.redirect_uris)?,
        post_logout_redirect_uris: uris(&request.post_logout_redirect_uris)?,
        public: request.public,
        require_pkce: request.require_pkce,
        allow_impersonation: request.allow_impersonation,
        backchannel_logout_uri: request
            .backchannel_logout_uri
            .map(|u| portcullis_core::backchannel::check_uri(&u))
            .transpose()
            .map_err(bad_request)?,
        backchannel_logout_session_required: request.backchannel_logout_session_required,
    };
    let (client, secret) = clients::create(&*state.store, new, system_now()).await?;
    tracing::info!(admin = %caller.client_id, client_id = %client.id, "admin API: client created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedClient {
            client: ClientView::from(&client),
            client_secret: secret.map(|s| s.expose().to_owned()),
        }),
    ))
}

/// One client.
#[utoipa::path(get, path = "/admin/v1/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientView), (status = 404, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn show(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<ClientView>, ApiError> {
    let id = client_id(&id)?;
    let client = state
        .store
        .client(&id)
        .await?
        .ok_or_else(|| not_found(format!("no client `{id}`")))?;
    Ok(Json(ClientView::from(&client)))
}

/// Deletes a client; its refresh tokens are revoked and its access tokens
/// stop being active. The calling admin client cannot delete itself (409).
#[utoipa::path(delete, path = "/admin/v1/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = client_id(&id)?;
    if !clients::delete_as(&*state.store, &id, &caller.client_id, system_now()).await? {
        return Err(not_found(format!("no client `{id}`")));
    }
    tracing::info!(admin = %caller.client_id, client_id = %id, "admin API: client deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a confidential client a new secret, shown once; the old one stops working.
#[utoipa::path(post, path = "/admin/v1/clients/{client_id}/secret", tag = "clients",
    params(("client_id" = String, Path)),
    responses((status = 200, body = NewSecret), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Json<NewSecret>, ApiError> {
    let id = client_id(&id)?;
    let secret = clients::rotate_secret(&*state.store, &id)
        .await?
        .ok_or_else(|| not_found(format!("no client `{id}`")))?;
    tracing::info!(admin = %caller.client_id, client_id = %id, "admin API: client secret rotated");
    Ok(Json(NewSecret {
        client_id: id.to_string(),
        client_secret: secret.expose().to_owned(),
    }))
}
