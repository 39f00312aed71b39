//! MCP-ready authorization (the MCP authorization spec of 2025-11-25), end
//! to end as an MCP client does it, on both backends: a guarded resource
//! answers 401 naming its protected resource metadata (RFC 9728), which
//! names the authorization server, whose metadata (RFC 8414) says it takes
//! Client ID Metadata Documents; the client's id is the URL of its document,
//! which the server fetches; the code flow with PKCE and `resource`
//! (RFC 8707) gives a token for that resource, and the resource answers.
//! Also what the server refuses to fetch or believe, and how it caches.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use portcullis_guard::Guard;
use portcullis_testkit::browser::{Browser, PKCE_CHALLENGE, PKCE_VERIFIER, param, query_of};
use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const PASSWORD: &str = "correct horse battery";
const REDIRECT: &str = "http://127.0.0.1:33418/callback";

/// A served document: path, body, `Cache-Control` (or `redirect`), and
/// seconds to wait before answering.
type Served = (String, String, &'static str, u64);

/// A site serving client metadata documents, counting fetches per path.
#[derive(Clone, Default)]
struct Site {
    documents: Arc<std::sync::Mutex<Vec<Served>>>,
    fetches: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Site {
    async fn start(&self) -> String {
        let site = self.clone();
        let app = Router::new().fallback(move |uri: axum::http::Uri| {
            let site = site.clone();
            async move {
                let path = uri.path().to_owned();
                site.fetches.lock().unwrap().push(path.clone());
                let found = site
                    .documents
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|(p, ..)| *p == path)
                    .cloned();
                match found {
                    Some((_, _, "redirect", _)) => (
                        StatusCode::FOUND,
                        [(header::LOCATION, "/elsewhere.json".to_owned())],
                    )
                        .into_response(),
                    Some((_, body, cache, delay)) => {
                        tokio::time::sleep(Duration::from_secs(delay)).await;
                        (
                            [
                                (header::CONTENT_TYPE, "application/json".to_owned()),
                                (header::CACHE_CONTROL, cache.to_owned()),
                            ],
                            body,
                        )
                            .into_response()
                    }
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn serve(&self, path: &str, body: String, cache: &'static str, delay: u64) {
        let mut documents = self.documents.lock().unwrap();
        documents.retain(|(p, ..)| p != path);
        documents.push((path.to_owned(), body, cache, delay));
    }

    fn fetches_of(&self, path: &str) -> usize {
        self.fetches
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == path)
            .count()
    }
}

fn document(client_id: &str, extra: Value) -> String {
    let mut doc = json!({
        "client_id": client_id,
        "client_name": "Desk Agent",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "openid tools:call",
    });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    doc.to_string()
}

async fn json_of(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// The authorization request an MCP client makes (with `resource` unless
/// empty), as the browser follows it: `(status, page or Location)`.
async fn authorize(
    browser: &mut Browser,
    endpoint: &str,
    client_id: &str,
    resource: &str,
) -> (StatusCode, String) {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid tools:call"),
        ("state", "s-1"),
        ("code_challenge", PKCE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    if !resource.is_empty() {
        pairs.push(("resource", resource));
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let (status, headers, html) = browser
        .sign_in_and_consent(&format!("{endpoint}?{query}"), "hesam", PASSWORD)
        .await;
    match headers.get("location") {
        Some(location) => (status, location.to_str().unwrap().to_owned()),
        None => (status, html),
    }
}

#[tokio::test]
async fn an_mcp_client_finds_the_issuer_identifies_by_its_document_and_calls_the_tool() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        // The MCP server's URL is its resource identifier.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mcp = format!("http://{}/mcp", listener.local_addr().unwrap());
        let server = TestServer::spawn(
            BIN.as_ref(),
            &db,
            &[
                ("PORTCULLIS_CLIENT_ID_METADATA_DOCUMENTS", "true"),
                ("PORTCULLIS_CLIENT_ID_METADATA_ALLOW_PRIVATE", "true"),
                (
                    "PORTCULLIS_REGISTRATION_SCOPES",
                    "openid offline_access tools:call",
                ),
                ("PORTCULLIS_REGISTRATION_AUDIENCES", &mcp),
            ],
        )
        .await;
        server.create_user("hesam", PASSWORD, &[]).await;
        let guard = Guard::builder()
            .issuer(&server.url)
            .resource(&mcp)
            .scopes_supported(["tools:call"])
            .build()
            .await
            .unwrap();
        let metadata = guard.resource_metadata().cloned().unwrap();
        let app = Router::new()
            .route(
                "/mcp",
                get(|| async { "tools: [\"search\"]" }).layer(guard.require_all(["tools:call"])),
            )
            .route(
                &guard.resource_metadata_path().unwrap(),
                get(move || async move { metadata }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let site = Site::default();
        let site_url = site.start().await;
        let client_id = format!("{site_url}/agent/client.json");
        site.serve(
            "/agent/client.json",
            document(&client_id, json!({})),
            "max-age=600",
            0,
        );

        // 1. The tool refuses, and says where its metadata is.
        let refused = reqwest::get(&mcp).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
        let prm_url = challenge
            .split("resource_metadata=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{challenge}"))
            .to_owned();
        // 2. Protected resource metadata names the authorization server.
        let prm = json_of(&prm_url).await;
        assert_eq!(prm["resource"], mcp.as_str());
        let issuer = prm["authorization_servers"][0].as_str().unwrap().to_owned();
        assert_eq!(issuer, server.url);
        // 3. Authorization server metadata (RFC 8414 first, as MCP clients try).
        let asm = json_of(&format!("{issuer}/.well-known/oauth-authorization-server")).await;
        assert_eq!(asm["client_id_metadata_document_supported"], true, "{asm}");
        assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
        // 4. Code flow with PKCE and the resource, the client known by its document.
        let mut browser = Browser::new();
        let endpoint = asm["authorization_endpoint"].as_str().unwrap();
        let (status, consent) = {
            // Stop at the consent page to read it.
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("response_type", "code"),
                    ("client_id", client_id.as_str()),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid tools:call"),
                    ("code_challenge", PKCE_CHALLENGE),
                    ("code_challenge_method", "S256"),
                    ("resource", mcp.as_str()),
                ])
                .finish();
            let (_, _, login) = browser.get(&format!("{endpoint}?{query}")).await;
            let (status, _, consent) = browser
                .post(
                    &format!("{issuer}/login"),
                    &[
                        ("csrf", &portcullis_testkit::browser::hidden(&login, "csrf")),
                        (
                            "request",
                            &portcullis_testkit::browser::hidden(&login, "request"),
                        ),
                        ("username", "hesam"),
                        ("password", PASSWORD),
                    ],
                )
                .await;
            (status, consent)
        };
        assert_eq!(status, StatusCode::OK, "{consent}");
        assert!(consent.contains("Allow Desk Agent?"), "{consent}");
        let origin = site_url.trim_start_matches("http://");
        assert!(
            consent.contains(origin),
            "the consent page shows the document's origin: {consent}"
        );
        let (status, location) = authorize(&mut browser, endpoint, &client_id, &mcp).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        let pairs = query_of(&location);
        let code = param(&pairs, "code").unwrap_or_else(|| panic!("{location}"));
        // 5. The token, for the resource.
        let tokens: Value = reqwest::Client::new()
            .post(asm["token_endpoint"].as_str().unwrap())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("client_id", client_id.as_str()),
                ("code_verifier", PKCE_VERIFIER),
                ("resource", mcp.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let access = tokens["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{kind:?}: {tokens}"));
        // 6. The tool answers.
        let called = reqwest::Client::new()
            .get(&mcp)
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(called.status(), StatusCode::OK);
        assert_eq!(called.text().await.unwrap(), "tools: [\"search\"]");
        // The document was fetched once for the whole flow (max-age=600).
        assert_eq!(site.fetches_of("/agent/client.json"), 1);
        // A resource the client may not address is refused at the token endpoint.
        let (_, location) = authorize(&mut browser, endpoint, &client_id, &mcp).await;
        let pairs = query_of(&location);
        let response: Value = reqwest::Client::new()
            .post(asm["token_endpoint"].as_str().unwrap())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", param(&pairs, "code").unwrap()),
                ("redirect_uri", REDIRECT),
                ("client_id", client_id.as_str()),
                ("code_verifier", PKCE_VERIFIER),
                ("resource", "https://elsewhere.example/api"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(response["error"], "invalid_target", "{response}");
    }
}

/// Fails if the server believes a document that lies, fetches one it must
/// not (a private address, a redirect, too large, too slow), or ignores
/// HTTP caching.
#[tokio::test]
async fn documents_are_fetched_safely_believed_only_when_true_and_cached_as_told() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let settings = [
            ("PORTCULLIS_CLIENT_ID_METADATA_DOCUMENTS", "true"),
            ("PORTCULLIS_CLIENT_ID_METADATA_ALLOW_PRIVATE", "true"),
            ("PORTCULLIS_REGISTRATION_SCOPES", "openid tools:call"),
        ];
        let server = TestServer::spawn(BIN.as_ref(), &db, &settings).await;
        server.create_user("hesam", PASSWORD, &[]).await;
        let site = Site::default();
        let site_url = site.start().await;
        let endpoint = format!("{}/authorize", server.url);
        let url = |path: &str| format!("{site_url}{path}");
        let refused = |html: &str| html.contains("not registered here");

        site.serve(
            "/liar.json",
            document("https://other.example/c.json", json!({})),
            "",
            0,
        );
        site.serve(
            "/secret.json",
            document(&url("/secret.json"), json!({"client_secret": "x"})),
            "",
            0,
        );
        site.serve(
            "/big.json",
            document(&url("/big.json"), json!({"padding": "x".repeat(6000)})),
            "",
            0,
        );
        site.serve("/moved.json", String::new(), "redirect", 0);
        site.serve("/slow.json", document(&url("/slow.json"), json!({})), "", 8);
        site.serve(
            "/wide.json",
            document(&url("/wide.json"), json!({"scope": "openid admin"})),
            "",
            0,
        );
        for path in [
            "/liar.json",
            "/secret.json",
            "/big.json",
            "/moved.json",
            "/slow.json",
            "/wide.json",
            "/missing.json",
        ] {
            let (status, page) = authorize(&mut Browser::new(), &endpoint, &url(path), "").await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{kind:?} {path}: {page}");
            assert!(refused(&page), "{kind:?} {path}: {page}");
        }

        // Caching: a whole sign-in within max-age fetches once; after it,
        // the document is fetched again and a change takes effect; no-store
        // is never kept.
        site.serve(
            "/short.json",
            document(&url("/short.json"), json!({})),
            "max-age=2",
            0,
        );
        let (status, location) =
            authorize(&mut Browser::new(), &endpoint, &url("/short.json"), "").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        assert!(location.starts_with(REDIRECT), "{location}");
        assert_eq!(site.fetches_of("/short.json"), 1);
        site.serve(
            "/short.json",
            document(
                &url("/short.json"),
                json!({"redirect_uris": ["http://127.0.0.1:9/other"]}),
            ),
            "max-age=2",
            0,
        );
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let (status, page) =
            authorize(&mut Browser::new(), &endpoint, &url("/short.json"), "").await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "the old redirect URI is gone: {page}"
        );
        assert_eq!(site.fetches_of("/short.json"), 2);
        // Any change of the document reaches the stored client, here its
        // back-channel logout URI alone.
        site.serve(
            "/short.json",
            document(
                &url("/short.json"),
                json!({"redirect_uris": ["http://127.0.0.1:9/other"],
                       "backchannel_logout_uri": "https://agent.example/bcl"}),
            ),
            "max-age=2",
            0,
        );
        tokio::time::sleep(Duration::from_millis(2500)).await;
        authorize(&mut Browser::new(), &endpoint, &url("/short.json"), "").await;
        assert_eq!(site.fetches_of("/short.json"), 3);
        let stored = db
            .count(&format!(
                "SELECT COUNT(*) FROM clients WHERE id = '{}' \
                 AND backchannel_logout_uri = 'https://agent.example/bcl'",
                url("/short.json")
            ))
            .await;
        assert_eq!(stored, 1, "{kind:?}: the document's change is stored");
        site.serve(
            "/fresh.json",
            document(&url("/fresh.json"), json!({})),
            "no-store",
            0,
        );
        let (status, location) =
            authorize(&mut Browser::new(), &endpoint, &url("/fresh.json"), "").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        assert!(
            site.fetches_of("/fresh.json") > 1,
            "every step of the sign-in fetched it"
        );
        server.stop().await;

        // Without the private-address allowance, 127.0.0.1 is never fetched.
        let strict_db = TestDatabase::new(kind).await;
        let strict = TestServer::spawn(
            BIN.as_ref(),
            &strict_db,
            &[("PORTCULLIS_CLIENT_ID_METADATA_DOCUMENTS", "true")],
        )
        .await;
        let before = site.fetches_of("/short.json");
        let https_local = format!(
            "https://{}/short.json",
            site_url.trim_start_matches("http://")
        );
        for id in [
            url("/short.json"),
            https_local,
            "https://localhost/short.json".to_owned(),
        ] {
            let (status, page) = authorize(
                &mut Browser::new(),
                &format!("{}/authorize", strict.url),
                &id,
                "",
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{id}: {page}");
        }
        assert_eq!(
            site.fetches_of("/short.json"),
            before,
            "nothing reached the site"
        );
        let asm = json_of(&format!(
            "{}/.well-known/oauth-authorization-server",
            strict.url
        ))
        .await;
        assert_eq!(asm["client_id_metadata_document_supported"], true);
        strict.stop().await;
    }
}
