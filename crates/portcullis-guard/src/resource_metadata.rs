//! OAuth 2.0 Protected Resource Metadata (RFC 9728): what a client (an MCP
//! client, for one) reads to learn which authorization server issues tokens
//! for this API, and where the 401 challenges point it.

use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

/// The metadata document of a protected resource (RFC 9728 section 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceMetadata {
    /// The resource identifier: this API's URL, the audience of its tokens.
    pub resource: String,
    /// The issuers whose tokens it accepts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// How tokens are sent: in the `Authorization` header only.
    pub bearer_methods_supported: Vec<&'static str>,
    /// The scopes its routes ask for, when configured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// A human-readable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
}

impl ResourceMetadata {
    /// Where the document is served, relative to the resource's origin
    /// (RFC 9728 section 3.1: the well-known path, then the resource's path).
    ///
    /// ```
    /// use portcullis_guard::ResourceMetadata;
    /// let at = |resource: &str| ResourceMetadata::path_for(resource);
    /// assert_eq!(at("https://api.example/courses"), Some("/.well-known/oauth-protected-resource/courses".into()));
    /// assert_eq!(at("https://api.example"), Some("/.well-known/oauth-protected-resource".into()));
    /// assert_eq!(at("https://api.example/"), Some("/.well-known/oauth-protected-resource".into()));
    /// assert_eq!(at("not a url"), None);
    /// ```
    pub fn path_for(resource: &str) -> Option<String> {
        let uri: http::Uri = resource.parse().ok()?;
        uri.scheme()?;
        uri.authority()?;
        let path = uri.path().trim_end_matches('/');
        Some(format!("/.well-known/oauth-protected-resource{path}"))
    }

    /// The document's absolute URL, for `resource_metadata` in challenges.
    pub fn url_for(resource: &str) -> Option<String> {
        let uri: http::Uri = resource.parse().ok()?;
        let origin = format!("{}://{}", uri.scheme()?, uri.authority()?);
        Some(format!("{origin}{}", Self::path_for(resource)?))
    }

    /// The document as a response, with any body type built from a `String`.
    pub fn into_http<B: From<String>>(&self) -> Response<B> {
        let body = serde_json::to_string(self).unwrap_or_default();
        let mut response = Response::new(B::from(body));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        );
        response
    }
}

impl axum_core::response::IntoResponse for ResourceMetadata {
    fn into_response(self) -> axum_core::response::Response {
        self.into_http::<axum_core::body::Body>()
    }
}
