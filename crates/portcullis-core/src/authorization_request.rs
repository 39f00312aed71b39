//! Validating an authorization request (RFC 6749 section 4.1.1 and 4.2.1,
//! OIDC Core 3.1.2.1 and 3.2.2.1, RFC 7636, RFC 9700).
//!
//! Until the client and its redirect URI are known to be genuine, an error is
//! shown to the user and never redirected (RFC 6749 section 4.1.2.1): an
//! attacker must not be able to use the server as an open redirector. After
//! that, errors go back to the client at its redirect URI.

use crate::pkce::CodeChallenge;
use crate::{Client, GrantType, ScopeSet};

/// What the client asked to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `code`: the authorization code flow.
    Code,
    /// `token`: an access token in the fragment (implicit clients only).
    Token,
    /// `id_token`: an ID token in the fragment (implicit clients only).
    IdToken,
    /// `id_token token`: both (implicit clients only).
    IdTokenToken,
}

impl ResponseType {
    /// Parses a `response_type` value (its space-separated words in any order).
    pub fn parse(text: &str) -> Option<Self> {
        let mut words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
        words.sort_unstable();
        match words.as_slice() {
            ["code"] => Some(ResponseType::Code),
            ["token"] => Some(ResponseType::Token),
            ["id_token"] => Some(ResponseType::IdToken),
            ["id_token", "token"] => Some(ResponseType::IdTokenToken),
            _ => None,
        }
    }

    /// Whether this response type belongs to the implicit flow.
    pub fn is_implicit(self) -> bool {
        self != ResponseType::Code
    }

    /// Whether an ID token is in the authorization response itself.
    pub fn has_id_token(self) -> bool {
        matches!(self, ResponseType::IdToken | ResponseType::IdTokenToken)
    }
}

/// How the response travels back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the redirect URI's query.
    Query,
    /// In the redirect URI's fragment.
    Fragment,
    /// In an auto-submitted HTML form POSTed to the redirect URI.
    FormPost,
}

impl ResponseMode {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "query" => Some(ResponseMode::Query),
            "fragment" => Some(ResponseMode::Fragment),
            "form_post" => Some(ResponseMode::FormPost),
            _ => None,
        }
    }
}

/// `prompt` (OIDC Core 3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: no page may be shown; fail with `login_required` or `consent_required`.
    pub none: bool,
    /// `login`: ask for the password even with a session.
    pub login: bool,
    /// `consent`: ask for consent even if it was given before.
    pub consent: bool,
}

/// A valid authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The redirect URI, as the client sent it (or its only registered one).
    pub redirect_uri: String,
    /// What to return.
    pub response_type: ResponseType,
    /// How to return it.
    pub response_mode: ResponseMode,
    /// What was asked for (a subset of what the client may have).
    pub scope: ScopeSet,
    /// Echoed back to the client.
    pub state: Option<String>,
    /// Bound into the ID token.
    pub nonce: Option<String>,
    /// The PKCE challenge (present for the code flow unless
    /// [`crate::pkce::pkce_required`] allowed it away).
    pub code_challenge: Option<CodeChallenge>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age` in seconds: an older sign-in must be repeated.
    pub max_age: Option<u64>,
    /// `login_hint`: prefilled username.
    pub login_hint: Option<String>,
}

impl AuthorizationRequest {
    /// Whether a sign-in made at `auth_time` must be repeated at `now`
    /// (OIDC Core 3.1.2.1): `prompt=login`, `max_age=0` (which means the
    /// same), or a sign-in older than `max_age` seconds.
    pub fn requires_sign_in_again(&self, auth_time: crate::UnixTime, now: crate::UnixTime) -> bool {
        let elapsed = now.0.saturating_sub(auth_time.0);
        self.prompt.login
            || self
                .max_age
                .is_some_and(|max| max == 0 || elapsed > i64::try_from(max).unwrap_or(i64::MAX))
    }
}

/// An error that must be shown to the user, because the client or the
/// redirect URI cannot be trusted with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShownError(pub &'static str);

/// An error returned to the client at its redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    /// Where to send it.
    pub redirect_uri: String,
    /// How to send it.
    pub response_mode: ResponseMode,
    /// The client's `state`, echoed.
    pub state: Option<String>,
    /// The registered error code.
    pub error: &'static str,
    /// A sentence for `error_description`.
    pub description: String,
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown on an error page.
    Shown(ShownError),
    /// Sent back to the client.
    Redirect(Box<RedirectError>),
}

/// The most characters of `state`, `nonce` and `login_hint` accepted.
const MAX_PARAM: usize = 2048;

/// Validates the parameters of an authorization request. `client` is the
/// client named by `client_id`, looked up by the caller (`None` when unknown).
pub fn validate(
    params: &[(String, String)],
    client: Option<&Client>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let shown = |reason| Err(AuthorizeError::Shown(ShownError(reason)));
    let single = |name: &str| -> Result<Option<&str>, ()> {
        let mut values = params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(()),
            (value, None) => Ok(value.filter(|v| !v.is_empty())),
            (None, Some(_)) => Ok(None),
        }
    };
    let Ok(client_id) = single("client_id") else {
        return shown("the client_id parameter is repeated");
    };
    if client_id.is_none() {
        return shown("the request has no client_id");
    }
    let Some(client) = client.filter(|c| Some(c.id.as_str()) == client_id) else {
        return shown("the client is not registered here");
    };
    let Ok(presented) = single("redirect_uri") else {
        return shown("the redirect_uri parameter is repeated");
    };
    let redirect_uri = match presented {
        Some(uri) if client.redirect_uris.iter().any(|r| r.matches(uri)) => uri.to_owned(),
        Some(_) => return shown("the redirect_uri is not one registered for this client"),
        None => match client.redirect_uris.as_slice() {
            [only] => only.as_str().to_owned(),
            _ => return shown("the request has no redirect_uri"),
        },
    };

    // The redirect URI is genuine: from here on, errors go back to the client.
    let state = single("state").ok().flatten().map(str::to_owned);
    let response_type = single("response_type")
        .ok()
        .flatten()
        .and_then(ResponseType::parse);
    let default_mode = match response_type {
        Some(t) if t.is_implicit() => ResponseMode::Fragment,
        _ => ResponseMode::Query,
    };
    let response_mode = single("response_mode")
        .ok()
        .flatten()
        .and_then(ResponseMode::parse)
        .unwrap_or(default_mode);
    let fail = |error: &'static str, description: &str| {
        Err(AuthorizeError::Redirect(Box::new(RedirectError {
            redirect_uri: redirect_uri.clone(),
            response_mode,
            state: state.clone(),
            error,
            description: description.to_owned(),
        })))
    };

    for name in [
        "response_type",
        "response_mode",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "max_age",
        "login_hint",
    ] {
        if single(name).is_err() {
            return fail(
                "invalid_request",
                &format!("the {name} parameter is repeated"),
            );
        }
    }
    if params.iter().any(|(k, _)| k == "request") {
        return fail("request_not_supported", "request objects are not supported");
    }
    if params.iter().any(|(k, _)| k == "request_uri") {
        return fail("request_uri_not_supported", "request_uri is not supported");
    }
    let Some(response_type) = response_type else {
        return match single("response_type").ok().flatten() {
            None => fail("invalid_request", "the request has no response_type"),
            Some(_) => fail(
                "unsupported_response_type",
                "response_type must be code (or, for implicit clients, token, id_token or id_token token)",
            ),
        };
    };
    if let Some(mode) = single("response_mode").ok().flatten()
        && ResponseMode::parse(mode).is_none()
    {
        return fail(
            "invalid_request",
            "response_mode must be query, fragment or form_post",
        );
    }
    if response_type.is_implicit() && response_mode == ResponseMode::Query {
        return fail("invalid_request", "tokens are never sent in the query");
    }
    let needed = if response_type.is_implicit() {
        GrantType::Implicit
    } else {
        GrantType::AuthorizationCode
    };
    if !client.allows(needed) {
        return fail(
            "unauthorized_client",
            "this client may not use this response_type",
        );
    }

    let Some(scope) = ScopeSet::parse(single("scope").ok().flatten().unwrap_or("")) else {
        return fail("invalid_scope", "the scope is malformed");
    };
    if !scope.is_subset_of(&client.scopes) {
        return fail(
            "invalid_scope",
            "the scope exceeds what this client may ask for",
        );
    }
    let openid = scope.iter().any(|s| s.as_str() == "openid");
    if response_type.has_id_token() && !openid {
        return fail("invalid_scope", "an id_token needs the openid scope");
    }

    let nonce = single("nonce").ok().flatten().map(str::to_owned);
    if response_type.has_id_token() && nonce.is_none() {
        return fail("invalid_request", "the implicit flow needs a nonce");
    }
    let code_challenge = match (
        single("code_challenge").ok().flatten(),
        single("code_challenge_method").ok().flatten(),
    ) {
        (Some(challenge), method) => match CodeChallenge::parse(challenge, method) {
            Ok(challenge) => Some(challenge),
            Err(err) => return fail("invalid_request", &err.to_string()),
        },
        (None, Some(_)) => {
            return fail(
                "invalid_request",
                "code_challenge_method without code_challenge",
            );
        }
        (None, None)
            if response_type == ResponseType::Code
                && crate::pkce::pkce_required(
                    client.is_public(),
                    client.require_pkce,
                    openid && nonce.is_some(),
                ) =>
        {
            return fail(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            );
        }
        (None, None) => None,
    };

    let mut prompt = Prompt::default();
    for word in single("prompt")
        .ok()
        .flatten()
        .unwrap_or("")
        .split(' ')
        .filter(|w| !w.is_empty())
    {
        match word {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            _ => {
                return fail(
                    "invalid_request",
                    "prompt must be none, login, consent or select_account",
                );
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return fail(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        );
    }
    let max_age = match single("max_age").ok().flatten() {
        None => None,
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) => Some(seconds),
            Err(_) => return fail("invalid_request", "max_age must be a number of seconds"),
        },
    };
    let login_hint = single("login_hint").ok().flatten().map(str::to_owned);
    for (name, value) in [
        ("state", &state),
        ("nonce", &nonce),
        ("login_hint", &login_hint),
    ] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_PARAM)
        {
            return fail(
                "invalid_request",
                &format!("{name} is longer than {MAX_PARAM} characters"),
            );
        }
    }

    Ok(AuthorizationRequest {
        redirect_uri,
        response_type,
        response_mode,
        scope,
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redirect_uri::RedirectUri;
    use crate::{ClientId, UnixTime};

    #[test]
    fn max_age_zero_and_prompt_login_always_ask_again_and_older_sign_ins_too() {
        let request = |max_age: Option<u64>, login: bool| AuthorizationRequest {
            redirect_uri: "https://a.example/cb".into(),
            response_type: ResponseType::Code,
            response_mode: ResponseMode::Query,
            scope: ScopeSet::default(),
            state: None,
            nonce: None,
            code_challenge: None,
            prompt: Prompt {
                login,
                ..Prompt::default()
            },
            max_age,
            login_hint: None,
        };
        let signed_in = UnixTime(100);
        let asks =
            |r: AuthorizationRequest, now: i64| r.requires_sign_in_again(signed_in, UnixTime(now));
        assert!(
            asks(request(Some(0), false), 100),
            "max_age=0 within the same second"
        );
        assert!(asks(request(None, true), 100), "prompt=login");
        assert!(!asks(request(None, false), 10_000));
        assert!(!asks(request(Some(60), false), 160));
        assert!(asks(request(Some(60), false), 161));
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client(grants: &[GrantType], uris: &[&str]) -> Client {
        Client {
            id: ClientId::parse("spa").unwrap_or_else(|| unreachable!()),
            name: "SPA".into(),
            secret_hash: None,
            grant_types: grants.to_vec(),
            scopes: ScopeSet::parse("openid profile email offline_access").unwrap_or_default(),
            audiences: vec![],
            redirect_uris: uris
                .iter()
                .map(|u| RedirectUri::parse(u).unwrap_or_else(|e| panic!("{e}")))
                .collect(),
            post_logout_redirect_uris: vec![],
            require_pkce: false,
            allow_impersonation: false,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            created_at: UnixTime(0),
        }
    }

    fn spa() -> Client {
        client(
            &[GrantType::AuthorizationCode],
            &["https://spa.example/cb", "http://127.0.0.1/cb"],
        )
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("client_id", "spa"),
            ("redirect_uri", "https://spa.example/cb"),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("state", "xyz"),
            ("nonce", "n-0S6"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
    }

    fn with(changes: &[(&'static str, Option<&'static str>)]) -> Vec<(String, String)> {
        let mut pairs = good();
        for (name, value) in changes {
            pairs.retain(|(k, _)| k != name);
            if let Some(value) = value {
                pairs.push((name, value));
            }
        }
        params(&pairs)
    }

    fn redirect_error(result: Result<AuthorizationRequest, AuthorizeError>) -> RedirectError {
        match result {
            Err(AuthorizeError::Redirect(e)) => *e,
            other => panic!("expected a redirected error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_code_request_is_accepted() {
        let request = validate(&with(&[]), Some(&spa())).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(request.redirect_uri, "https://spa.example/cb");
        assert_eq!(request.response_type, ResponseType::Code);
        assert_eq!(request.response_mode, ResponseMode::Query);
        assert_eq!(request.scope.to_string(), "openid profile");
        assert_eq!(request.state.as_deref(), Some("xyz"));
        assert_eq!(request.nonce.as_deref(), Some("n-0S6"));
        assert!(request.code_challenge.is_some());
    }

    #[test]
    fn unknown_clients_and_unregistered_redirects_are_shown_never_redirected() {
        let cases = [
            (with(&[("client_id", None)]), Some(spa())),
            (with(&[("client_id", Some("other"))]), Some(spa())),
            (with(&[]), None),
            (
                with(&[("redirect_uri", Some("https://evil.example/cb"))]),
                Some(spa()),
            ),
            (
                with(&[("redirect_uri", Some("https://spa.example/cb/"))]),
                Some(spa()),
            ),
            (
                with(&[("redirect_uri", Some("https://spa.example/cb?x=1"))]),
                Some(spa()),
            ),
            (with(&[("redirect_uri", None)]), Some(spa())),
        ];
        for (request, client) in cases {
            assert!(
                matches!(
                    validate(&request, client.as_ref()),
                    Err(AuthorizeError::Shown(_))
                ),
                "{request:?}"
            );
        }
        let mut repeated = with(&[]);
        repeated.push(("redirect_uri".into(), "https://spa.example/cb".into()));
        assert!(matches!(
            validate(&repeated, Some(&spa())),
            Err(AuthorizeError::Shown(_))
        ));
    }

    #[test]
    fn a_loopback_redirect_may_use_any_port_and_a_single_registration_may_be_omitted() {
        let request = validate(
            &with(&[("redirect_uri", Some("http://127.0.0.1:49152/cb"))]),
            Some(&spa()),
        );
        assert_eq!(
            request.map(|r| r.redirect_uri).ok().as_deref(),
            Some("http://127.0.0.1:49152/cb")
        );
        let one = client(&[GrantType::AuthorizationCode], &["https://one.example/cb"]);
        let mut request = with(&[("redirect_uri", None)]);
        request.retain(|(k, _)| k != "client_id");
        request.push(("client_id".into(), "spa".into()));
        let request = validate(&request, Some(&one)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(request.redirect_uri, "https://one.example/cb");
    }

    #[test]
    fn errors_after_the_redirect_uri_is_trusted_go_back_to_the_client() {
        type Case = (Vec<(String, String)>, &'static str);
        let cases: Vec<Case> = vec![
            (with(&[("response_type", None)]), "invalid_request"),
            (
                with(&[("response_type", Some("code token"))]),
                "unsupported_response_type",
            ),
            (
                with(&[("response_type", Some("token"))]),
                "unauthorized_client",
            ),
            (with(&[("scope", Some("openid admin"))]), "invalid_scope"),
            (with(&[("scope", Some("openid \"x"))]), "invalid_scope"),
            (
                with(&[("code_challenge", None), ("code_challenge_method", None)]),
                "invalid_request",
            ),
            (
                with(&[("code_challenge_method", Some("plain"))]),
                "invalid_request",
            ),
            (
                with(&[("code_challenge", Some("short"))]),
                "invalid_request",
            ),
            (with(&[("prompt", Some("none login"))]), "invalid_request"),
            (with(&[("prompt", Some("sometimes"))]), "invalid_request"),
            (with(&[("max_age", Some("-1"))]), "invalid_request"),
            (
                with(&[("response_mode", Some("web_message"))]),
                "invalid_request",
            ),
            (
                with(&[("request", Some("eyJ..."))]),
                "request_not_supported",
            ),
            (
                with(&[("request_uri", Some("https://x/r"))]),
                "request_uri_not_supported",
            ),
        ];
        for (request, error) in cases {
            let e = redirect_error(validate(&request, Some(&spa())));
            assert_eq!(e.error, error, "{request:?}");
            assert_eq!(e.redirect_uri, "https://spa.example/cb");
            assert_eq!(e.state.as_deref(), Some("xyz"), "state is echoed");
        }
        let mut repeated = with(&[]);
        repeated.push(("scope".into(), "openid".into()));
        assert_eq!(
            redirect_error(validate(&repeated, Some(&spa()))).error,
            "invalid_request"
        );
        let long = "s".repeat(MAX_PARAM + 1);
        let mut request = with(&[("state", None)]);
        request.push(("state".into(), long));
        assert_eq!(
            redirect_error(validate(&request, Some(&spa()))).error,
            "invalid_request"
        );
    }

    #[test]
    fn the_implicit_flow_is_for_opted_in_clients_with_a_nonce_and_never_in_the_query() {
        let implicit = client(&[GrantType::Implicit], &["https://old.example/cb"]);
        let base = [
            ("client_id", "spa"),
            ("redirect_uri", "https://old.example/cb"),
            ("response_type", "id_token token"),
            ("scope", "openid"),
            ("nonce", "n"),
        ];
        let request = validate(&params(&base), Some(&implicit)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(request.response_mode, ResponseMode::Fragment);
        assert_eq!(request.response_type, ResponseType::IdTokenToken);

        let mut no_nonce = params(&base);
        no_nonce.retain(|(k, _)| k != "nonce");
        assert_eq!(
            redirect_error(validate(&no_nonce, Some(&implicit))).error,
            "invalid_request"
        );
        let mut query = params(&base);
        query.push(("response_mode".into(), "query".into()));
        assert_eq!(
            redirect_error(validate(&query, Some(&implicit))).error,
            "invalid_request"
        );
        let mut code = params(&base);
        code.retain(|(k, _)| k != "response_type");
        code.push(("response_type".into(), "code".into()));
        code.push(("code_challenge".into(), CHALLENGE.into()));
        code.push(("code_challenge_method".into(), "S256".into()));
        assert_eq!(
            redirect_error(validate(&code, Some(&implicit))).error,
            "unauthorized_client"
        );
    }
}
