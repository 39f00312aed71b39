//! Strict `application/x-www-form-urlencoded` request bodies (RFC 6749 section 3.2).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use portcullis_core::TokenError;

use crate::error::ApiError;

/// A parsed form where each parameter may appear once, except those allowed to repeat.
#[derive(Debug)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Reads and parses the body: the content type must be the form type, the
    /// body at most `limit` bytes (else 413), and no parameter outside
    /// `repeatable` may appear twice.
    pub async fn read(
        headers: &HeaderMap,
        body: Body,
        limit: usize,
        repeatable: &[&str],
    ) -> Result<Form, ApiError> {
        if !is_form(headers) {
            return Err(TokenError::InvalidRequest(
                "the request body must be application/x-www-form-urlencoded".into(),
            )
            .into());
        }
        let bytes = read_limited(body, limit).await?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(&bytes) {
            if !repeatable.contains(&name.as_ref()) && pairs.iter().any(|(n, _)| n == &name) {
                return Err(
                    TokenError::InvalidRequest(format!("parameter `{name}` is repeated")).into(),
                );
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Form { pairs })
    }

    /// Every parameter, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of a parameter that appears at most once; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every non-empty value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A parameter that must be present.
    pub fn require(&self, name: &str) -> Result<&str, TokenError> {
        self.get(name)
            .ok_or_else(|| TokenError::InvalidRequest(format!("parameter `{name}` is missing")))
    }
}

/// Whether the request's content type is `application/x-www-form-urlencoded`.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

pub(crate) async fn read_limited(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::PayloadTooLarge)
        }
        Err(_) => {
            Err(TokenError::InvalidRequest("the request body could not be read".into()).into())
        }
    }
}
