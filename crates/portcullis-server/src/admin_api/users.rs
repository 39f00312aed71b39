//! `/admin/v1/users`: people, their sessions and what they allowed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portcullis_core::ClientId;
use portcullis_core::admin::grants;
use portcullis_core::admin::users::{self, UserAdminError};
use portcullis_core::password::{PasswordHash, PasswordOwner};
use portcullis_core::user::{NewUser, Profile, Username};

use super::Body;
use super::auth::Admin;
use super::views::{
    ErrorBody, GrantView, NewUserRequest, PasswordRequest, StatusRequest, UserView,
};
use super::{bad_request, not_found};
use crate::clock::system_now;
use crate::error::ApiError;
use crate::password_work::BlockingPasswordWork;
use crate::state::AppState;
use portcullis_core::sign_in::PasswordWork as _;

impl From<UserAdminError> for ApiError {
    fn from(err: UserAdminError) -> Self {
        match err {
            UserAdminError::NotFound(_) => not_found(err.to_string()),
            UserAdminError::Taken(_) => {
                ApiError::Problem(StatusCode::CONFLICT, "conflict", err.to_string())
            }
            UserAdminError::Store(err) => err.into(),
        }
    }
}

fn username(text: &str) -> Result<Username, ApiError> {
    Username::parse(text).map_err(|_| not_found(format!("no user `{text}`")))
}

/// Checks a new password for `owner` against the policy, then hashes it.
async fn hash(
    state: &AppState,
    password: &str,
    owner: PasswordOwner<'_>,
) -> Result<PasswordHash, ApiError> {
    let password = state
        .password_policy
        .check(password, owner)
        .map_err(|e| bad_request(e.to_string()))?;
    Ok(BlockingPasswordWork.hash(password).await)
}

/// Every user.
#[utoipa::path(get, path = "/admin/v1/users", tag = "users",
    responses((status = 200, body = [UserView])), security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let all = state.store.users().await?;
    Ok(Json(all.iter().map(UserView::from).collect()))
}

/// Creates a user.
#[utoipa::path(post, path = "/admin/v1/users", tag = "users", request_body = NewUserRequest,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Body(request): Body<NewUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let username = Username::parse(&request.username).map_err(|e| bad_request(e.to_string()))?;
    let profile = Profile {
        email: request.email,
        email_verified: request.email_verified,
        name: request.name,
        given_name: request.given_name,
        family_name: request.family_name,
    };
    profile.validate().map_err(|e| bad_request(e.to_string()))?;
    let owner = PasswordOwner {
        username: username.as_str(),
        email: profile.email.as_deref(),
    };
    let password_hash = hash(&state, &request.password, owner).await?;
    let new = NewUser {
        username,
        profile,
        password_hash,
    };
    let user = users::create(&*state.store, new, system_now()).await?;
    tracing::info!(admin = %caller.client_id, user = %user.id, "admin API: user created");
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// One user.
#[utoipa::path(get, path = "/admin/v1/users/{username}", tag = "users",
    params(("username" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn show(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = users::find(&*state.store, &username(&name)?).await?;
    Ok(Json(UserView::from(&user)))
}

/// Sets a user's password; every session of the user ends.
#[utoipa::path(put, path = "/admin/v1/users/{username}/password", tag = "users",
    params(("username" = String, Path)), request_body = PasswordRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn set_password(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(name): Path<String>,
    Body(request): Body<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let name = username(&name)?;
    let user = users::find(&*state.store, &name).await?;
    let owner = PasswordOwner {
        username: user.username.as_str(),
        email: user.profile.email.as_deref(),
    };
    let hash = hash(&state, &request.password, owner).await?;
    let user = users::set_password(&*state.store, &name, &hash, system_now()).await?;
    tracing::info!(admin = %caller.client_id, user = %user.id, "admin API: password set");
    Ok(StatusCode::NO_CONTENT)
}

/// Disables (ending sessions and refresh tokens) or enables a user.
#[utoipa::path(put, path = "/admin/v1/users/{username}/status", tag = "users",
    params(("username" = String, Path)), request_body = StatusRequest,
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn set_status(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(name): Path<String>,
    Body(request): Body<StatusRequest>,
) -> Result<Json<UserView>, ApiError> {
    let name = username(&name)?;
    users::set_disabled(&*state.store, &name, request.disabled, system_now()).await?;
    let user = users::find(&*state.store, &name).await?;
    tracing::info!(admin = %caller.client_id, user = %user.id, disabled = request.disabled, "admin API: user status set");
    Ok(Json(UserView::from(&user)))
}

/// Deletes a user; their sessions end and refresh tokens are revoked.
#[utoipa::path(delete, path = "/admin/v1/users/{username}", tag = "users",
    params(("username" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = users::delete(&*state.store, &username(&name)?, system_now()).await?;
    tracing::info!(admin = %caller.client_id, user = %user.id, "admin API: user deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Signs a user out of every browser.
#[utoipa::path(delete, path = "/admin/v1/users/{username}/sessions", tag = "users",
    params(("username" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn end_sessions(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = users::end_sessions(&*state.store, &username(&name)?, system_now()).await?;
    tracing::info!(admin = %caller.client_id, user = %user.id, "admin API: sessions ended");
    Ok(StatusCode::NO_CONTENT)
}

/// What a user allowed which clients.
#[utoipa::path(get, path = "/admin/v1/users/{username}/grants", tag = "users",
    params(("username" = String, Path)),
    responses((status = 200, body = [GrantView]), (status = 404, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn list_grants(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    let all = grants::list(&*state.store, &username(&name)?).await?;
    Ok(Json(all.iter().map(GrantView::from).collect()))
}

/// Withdraws what a user allowed a client: consent is asked again and the
/// client's refresh tokens for the user stop working.
#[utoipa::path(delete, path = "/admin/v1/users/{username}/grants/{client_id}", tag = "users",
    params(("username" = String, Path), ("client_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = ["portcullis:admin"])))]
pub(crate) async fn revoke_grant(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((name, client)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let name = username(&name)?;
    let client = ClientId::parse(&client).ok_or_else(|| not_found("no such grant"))?;
    if !grants::revoke(&*state.store, &name, &client, system_now()).await? {
        return Err(not_found("no such grant"));
    }
    tracing::info!(admin = %caller.client_id, client_id = %client, "admin API: grant revoked");
    Ok(StatusCode::NO_CONTENT)
}
