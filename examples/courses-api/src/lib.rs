//! The courses API of the tutorials, protected by `portcullis-guard`:
//! `GET /api/v1/courses` is public, `POST /api/v1/courses` needs
//! `courses:write`, `GET /api/v1/me/courses` needs `courses:read`.

use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::handler::Handler as _;
use axum::http::{Method, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use portcullis_guard::{AccessClaims, Guard};
use serde::{Deserialize, Serialize};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// A course.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Course {
    /// Its number.
    pub id: u64,
    /// Its title.
    pub title: String,
    /// The subject (user or service) that created it.
    pub owner: String,
}

/// What `POST /api/v1/courses` takes.
#[derive(Debug, Deserialize)]
pub struct NewCourse {
    /// The title, 1 to 200 characters.
    pub title: String,
}

#[derive(Debug, Default, Clone)]
struct Courses(Arc<RwLock<Vec<Course>>>);

impl Courses {
    fn read(&self) -> Vec<Course> {
        self.0.read().map(|c| c.clone()).unwrap_or_default()
    }
}

/// The API behind `guard`; CORS allows `origins` (any origin when empty).
pub fn app(guard: &Guard, origins: &[String]) -> Router {
    let cors = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let cors = if origins.is_empty() {
        cors.allow_origin(AllowOrigin::any())
    } else {
        cors.allow_origin(AllowOrigin::list(
            origins.iter().filter_map(|o| o.parse().ok()),
        ))
    };
    let mut router = Router::new();
    // RFC 9728: where a client that got a 401 learns which issuer to ask.
    if let (Some(path), Some(metadata)) = (
        guard.resource_metadata_path(),
        guard.resource_metadata().cloned(),
    ) {
        router = router.route(&path, get(move || async move { metadata }));
    }
    router
        .route(
            "/api/v1/courses",
            get(list).post(create.layer(guard.require_all(["courses:write"]))),
        )
        .route(
            "/api/v1/me/courses",
            get(mine).layer(guard.require_all(["courses:read"])),
        )
        .with_state(Courses::default())
        .layer(cors)
}

async fn list(State(courses): State<Courses>) -> Json<Vec<Course>> {
    Json(courses.read())
}

async fn mine(State(courses): State<Courses>, claims: AccessClaims) -> Json<Vec<Course>> {
    let me = claims.sub().unwrap_or_default().to_owned();
    Json(
        courses
            .read()
            .into_iter()
            .filter(|c| c.owner == me)
            .collect(),
    )
}

async fn create(
    State(courses): State<Courses>,
    claims: AccessClaims,
    Json(new): Json<NewCourse>,
) -> Result<(StatusCode, Json<Course>), (StatusCode, Json<serde_json::Value>)> {
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({"error": "title must have 1 to 200 characters"})),
        ));
    }
    let mut all = courses.0.write().map_err(|_| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"error": "retry later"})),
        )
    })?;
    let course = Course {
        id: all.len() as u64 + 1,
        title: title.to_owned(),
        owner: claims.sub().unwrap_or_default().to_owned(),
    };
    all.push(course.clone());
    Ok((StatusCode::CREATED, Json(course)))
}
