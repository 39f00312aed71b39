//! A browser as far as HTTP goes: cookies kept, redirects not followed, and
//! the helpers to read what the sign-in pages and redirects carry.

#![allow(clippy::unwrap_used)]

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};

/// A browser: no automatic redirects, cookies kept by name.
#[derive(Debug)]
pub struct Browser {
    http: reqwest::Client,
    cookies: Vec<(String, String)>,
}

impl Browser {
    /// A browser with no cookies.
    pub fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
        }
    }

    /// The `Cookie` header this browser sends.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps the cookies a response sets (an empty value deletes).
    pub fn keep(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    /// `GET url`: (status, headers, body).
    pub async fn get(&mut self, url: &str) -> (StatusCode, HeaderMap, String) {
        let response = self
            .http
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    /// `POST url` with a form: (status, headers, body).
    pub async fn post(
        &mut self,
        url: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let response = self
            .http
            .post(url)
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    /// The browser's whole part of an authorization request: opens
    /// `authorize_url` (`{server}/authorize?...`), signs in as `username`
    /// with `password` when the sign-in page appears, allows the consent
    /// page when it appears, and returns the last response: the redirect to
    /// the client (a code, tokens or an error), a `form_post` page, or a
    /// page that stopped the flow.
    pub async fn sign_in_and_consent(
        &mut self,
        authorize_url: &str,
        username: &str,
        password: &str,
    ) -> (StatusCode, HeaderMap, String) {
        let server = authorize_url
            .split_once("/authorize")
            .map(|(base, _)| base.to_owned())
            .unwrap();
        let (mut status, mut headers, mut html) = self.get(authorize_url).await;
        if status == StatusCode::OK && html.contains("name=\"password\"") {
            (status, headers, html) = self
                .post(
                    &format!("{server}/login"),
                    &[
                        ("csrf", &hidden(&html, "csrf")),
                        ("request", &hidden(&html, "request")),
                        ("username", username),
                        ("password", password),
                    ],
                )
                .await;
        }
        if status == StatusCode::OK && html.contains("name=\"decision\"") {
            (status, headers, html) = self
                .post(
                    &format!("{server}/consent"),
                    &[
                        ("csrf", &hidden(&html, "csrf")),
                        ("request", &hidden(&html, "request")),
                        ("decision", "allow"),
                    ],
                )
                .await;
        }
        (status, headers, html)
    }

    /// The user's part of a device authorization (RFC 8628): opens
    /// `verification_uri_complete`, signs in as `username` with `password`
    /// when the sign-in page appears, follows the redirect back to the
    /// device page, and answers the confirmation page with `decision`
    /// (`allow` or `deny`). Returns the last response; when the page asks
    /// for no decision (a wrong or spent code), that page.
    pub async fn decide_device(
        &mut self,
        verification_uri_complete: &str,
        username: &str,
        password: &str,
        decision: &str,
    ) -> (StatusCode, String) {
        let server = verification_uri_complete
            .split_once("/device")
            .map(|(base, _)| base.to_owned())
            .unwrap();
        let (mut status, mut headers, mut html) = self.get(verification_uri_complete).await;
        if status == StatusCode::OK && html.contains("name=\"password\"") {
            (status, headers, html) = self
                .post(
                    &format!("{server}/login"),
                    &[
                        ("csrf", &hidden(&html, "csrf")),
                        ("request", ""),
                        ("then", &hidden(&html, "then")),
                        ("username", username),
                        ("password", password),
                    ],
                )
                .await;
        }
        if status == StatusCode::SEE_OTHER {
            let location = headers["location"].to_str().unwrap().to_owned();
            (status, _, html) = self.get(&format!("{server}{location}")).await;
        }
        if status == StatusCode::OK && html.contains("name=\"decision\"") {
            (status, _, html) = self
                .post(
                    &format!("{server}/device/decision"),
                    &[
                        ("csrf", &hidden(&html, "csrf")),
                        ("user_code", &hidden(&html, "user_code")),
                        ("decision", decision),
                    ],
                )
                .await;
        }
        (status, html)
    }

    /// Like [`Browser::sign_in_and_consent`] when the flow must end in a
    /// redirect: its `Location`.
    pub async fn authorize(
        &mut self,
        authorize_url: &str,
        username: &str,
        password: &str,
    ) -> String {
        let (status, headers, html) = self
            .sign_in_and_consent(authorize_url, username, password)
            .await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "the flow ends in a redirect: {html}"
        );
        headers[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// Like [`Browser::authorize`], for a code: the callback's `code`.
    pub async fn authorization_code(
        &mut self,
        authorize_url: &str,
        username: &str,
        password: &str,
    ) -> String {
        let location = self.authorize(authorize_url, username, password).await;
        let pairs = query_of(&location);
        param(&pairs, "code")
            .unwrap_or_else(|| panic!("no code in {location}"))
            .to_owned()
    }

    async fn finish(&mut self, response: reqwest::Response) -> (StatusCode, HeaderMap, String) {
        let status = response.status();
        let headers = response.headers().clone();
        self.keep(&headers);
        (status, headers, response.text().await.unwrap())
    }
}

/// A PKCE verifier and its S256 challenge (RFC 7636 appendix B).
pub const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// The S256 challenge of [`PKCE_VERIFIER`].
pub const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// An authorization request URL for the code flow with PKCE
/// ([`PKCE_CHALLENGE`]), with `extra` parameters added or replacing.
pub fn authorize_url(
    server: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("state", "st"),
        ("code_challenge", PKCE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        pairs.push((k, v));
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    format!("{server}/authorize?{query}")
}

/// The value of a hidden field, with HTML character references decoded.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    let mut out = String::new();
    let mut rest = &html[start..end];
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = amp + rest[amp..].find(';').unwrap();
        let entity = &rest[amp + 1..semi];
        let decoded = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ if entity.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&entity[2..], 16).unwrap()).unwrap()
            }
            _ => char::from_u32(entity[1..].parse().unwrap()).unwrap(),
        };
        out.push(decoded);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

/// The query pairs of a URL (or of a `Location`).
pub fn query_of(location: &str) -> Vec<(String, String)> {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The first value of `name` in `pairs`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}
