//! The tower layer that guards a route.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::{Layer, Service};

use crate::{Guard, Scopes};

/// A [`Layer`] that admits only requests with a valid bearer token holding
/// the route's scopes, and hands the verified [`AccessClaims`](crate::AccessClaims)
/// to the handler through the request's extensions.
///
/// ```no_run
/// # async fn run(guard: portcullis_guard::Guard) {
/// use axum::{Router, routing::post};
/// let app: Router = Router::new()
///     .route("/courses", post(|| async { "created" }).layer(guard.require_all(["courses:write"])));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RequireBearer {
    guard: Guard,
    scopes: Arc<Scopes>,
}

impl RequireBearer {
    /// Guards with `guard`, requiring `scopes`.
    pub fn new(guard: Guard, scopes: Scopes) -> Self {
        RequireBearer {
            guard,
            scopes: Arc::new(scopes),
        }
    }
}

impl<S> Layer<S> for RequireBearer {
    type Service = RequireBearerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireBearerService {
            inner,
            guard: self.guard.clone(),
            scopes: self.scopes.clone(),
        }
    }
}

/// The [`Service`] made by [`RequireBearer`].
#[derive(Debug, Clone)]
pub struct RequireBearerService<S> {
    inner: S,
    guard: Guard,
    scopes: Arc<Scopes>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireBearerService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone is not ready; keep the ready service for this call (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        let scopes = self.scopes.clone();
        Box::pin(async move {
            match guard.authorize(request.headers(), &scopes).await {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    inner.call(request).await
                }
                Err(rejection) => {
                    Ok(rejection.into_http_with(guard.realm(), guard.resource_metadata_url()))
                }
            }
        })
    }
}
