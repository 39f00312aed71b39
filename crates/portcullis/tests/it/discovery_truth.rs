//! Discovery is the truth: a relying party that believes the metadata
//! document gets what it promises. The test walks the document and proves
//! every advertised grant type, response type and mode, client
//! authentication method, PKCE method and ID token algorithm with a real
//! request, and shows that values it does not advertise are refused. A value
//! added to the document without a proof here fails the test. Through real
//! HTTP on a real server, on both backends.

use portcullis_testkit::browser::{Browser, PKCE_VERIFIER, authorize_url, hidden, param, query_of};
use portcullis_testkit::id_token::verified_claims;
use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const CALLBACK: &str = "http://127.0.0.1:43210/callback";
const PASSWORD: &str = "down the rabbit hole";

/// How a token request authenticates its client.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Basic(&'a str, &'a str),
    Post(&'a str, &'a str),
    None(&'a str),
}

struct Op {
    server: TestServer,
    web: (String, String),
    spa: String,
    svc: (String, String),
    legacy: (String, String),
    implicit: String,
    /// A public client of the device grant.
    tv: String,
    /// A service that exchanges tokens (and gets its own, as the actor).
    gateway: (String, String),
}

impl Op {
    async fn post(&self, path: &str, auth: Auth<'_>, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut form: Vec<(&str, &str)> = form.to_vec();
        let mut request = reqwest::Client::new().post(format!("{}{path}", self.server.url));
        match auth {
            Auth::Basic(id, secret) => request = request.basic_auth(id, Some(secret)),
            Auth::Post(id, secret) => {
                form.push(("client_id", id));
                form.push(("client_secret", secret));
            }
            Auth::None(id) => form.push(("client_id", id)),
        }
        let response = request.form(&form).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A code for `client` through the sign-in page, with PKCE.
    async fn code(&self, browser: &mut Browser, client: &str, scope: &str) -> String {
        let url = authorize_url(&self.server.url, client, CALLBACK, scope, &[]);
        browser.authorization_code(&url, "alice", PASSWORD).await
    }

    /// Where `/authorize` sends the browser for `pairs` (signed in already or not).
    async fn authorize(
        &self,
        browser: &mut Browser,
        pairs: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let (status, headers, html) = browser
            .sign_in_and_consent(
                &format!("{}/authorize?{query}", self.server.url),
                "alice",
                PASSWORD,
            )
            .await;
        let location = headers
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, html)
    }

    async fn exchange(&self, auth: Auth<'_>, code: &str) -> (StatusCode, Value) {
        self.post(
            "/token",
            auth,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", PKCE_VERIFIER),
            ],
        )
        .await
    }
}

async fn setup(db: &TestDatabase) -> Op {
    let server = TestServer::spawn(BIN.as_ref(), db, &[]).await;
    server.create_user("alice", PASSWORD, &[]).await;
    let redirect = ["--redirect-uri", CALLBACK];
    let web = server
        .create_client(
            &[
                &["--name", "web", "--grant-type", "authorization_code"][..],
                &[
                    "--grant-type",
                    "refresh_token",
                    "--scope",
                    "openid profile offline_access",
                ],
                &redirect,
            ]
            .concat(),
        )
        .await;
    let (spa, _) = server
        .create_client(
            &[
                &[
                    "--name",
                    "spa",
                    "--public",
                    "--grant-type",
                    "authorization_code",
                ][..],
                &["--scope", "openid profile"],
                &redirect,
            ]
            .concat(),
        )
        .await;
    let svc = server
        .create_client(&[
            "--name",
            "svc",
            "--grant-type",
            "client_credentials",
            "--scope",
            "read",
        ])
        .await;
    let legacy = server
        .create_client(&[
            "--name",
            "legacy",
            "--grant-type",
            "password",
            "--scope",
            "openid",
        ])
        .await;
    let (implicit, _) = server
        .create_client(
            &[
                &["--name", "implicit", "--public", "--grant-type", "implicit"][..],
                &["--scope", "openid profile"],
                &redirect,
            ]
            .concat(),
        )
        .await;
    let (tv, _) = server
        .create_client(&[
            "--name",
            "tv",
            "--public",
            "--grant-type",
            "device_code",
            "--scope",
            "openid",
        ])
        .await;
    let gateway = server
        .create_client(&[
            "--name",
            "gateway",
            "--grant-type",
            "token_exchange",
            "--grant-type",
            "client_credentials",
            "--scope",
            "openid",
        ])
        .await;
    Op {
        server,
        web,
        spa,
        svc,
        legacy,
        implicit,
        tv,
        gateway,
    }
}

fn strings(metadata: &Value, name: &str) -> Vec<String> {
    metadata[name]
        .as_array()
        .unwrap_or_else(|| panic!("discovery has no {name}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The fragment parameters of an implicit redirect.
fn fragment(location: &str) -> Vec<(String, String)> {
    let (_, fragment) = location.split_once('#').unwrap_or((location, ""));
    form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn every_advertised_value_works_and_the_unadvertised_are_refused() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let op = setup(&db).await;
        let metadata: Value = reqwest::get(format!(
            "{}/.well-known/openid-configuration",
            op.server.url
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let mut browser = Browser::new();
        let (web_id, web_secret) = (op.web.0.as_str(), op.web.1.as_str());
        let (svc_id, svc_secret) = (op.svc.0.as_str(), op.svc.1.as_str());
        let implicit_pairs = |response_type: &'static str| {
            vec![
                ("response_type", response_type),
                ("client_id", op.implicit.as_str()),
                ("redirect_uri", CALLBACK),
                ("scope", "openid profile"),
                ("nonce", "n-1"),
            ]
        };

        for grant in strings(&metadata, "grant_types_supported") {
            let (status, body) = match grant.as_str() {
                "authorization_code" => {
                    let code = op.code(&mut browser, web_id, "openid profile").await;
                    op.exchange(Auth::Basic(web_id, web_secret), &code).await
                }
                "refresh_token" => {
                    let code = op.code(&mut browser, web_id, "openid offline_access").await;
                    let (_, tokens) = op.exchange(Auth::Basic(web_id, web_secret), &code).await;
                    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
                    op.post(
                        "/token",
                        Auth::Basic(web_id, web_secret),
                        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
                    )
                    .await
                }
                "client_credentials" => {
                    op.post(
                        "/token",
                        Auth::Basic(svc_id, svc_secret),
                        &[("grant_type", "client_credentials")],
                    )
                    .await
                }
                "password" => {
                    op.post(
                        "/token",
                        Auth::Basic(&op.legacy.0, &op.legacy.1),
                        &[
                            ("grant_type", "password"),
                            ("username", "alice"),
                            ("password", PASSWORD),
                        ],
                    )
                    .await
                }
                "implicit" => {
                    let (_, location, _) =
                        op.authorize(&mut browser, &implicit_pairs("token")).await;
                    let pairs = fragment(&location);
                    assert!(param(&pairs, "access_token").is_some(), "{location}");
                    (StatusCode::OK, Value::Null)
                }
                crate::device_grant::DEVICE_GRANT => {
                    let endpoint = metadata["device_authorization_endpoint"].as_str().unwrap();
                    let path = endpoint.strip_prefix(&op.server.url).unwrap();
                    let (_, started) = op.post(path, Auth::None(&op.tv), &[]).await;
                    let complete = started["verification_uri_complete"].as_str().unwrap();
                    let (status, page) = browser
                        .decide_device(complete, "alice", PASSWORD, "allow")
                        .await;
                    assert_eq!(status, StatusCode::OK, "{page}");
                    op.post(
                        "/token",
                        Auth::None(&op.tv),
                        &[
                            ("grant_type", &grant),
                            ("device_code", started["device_code"].as_str().unwrap()),
                        ],
                    )
                    .await
                }
                crate::token_exchange::EXCHANGE => {
                    let (_, user) = op
                        .post(
                            "/token",
                            Auth::Basic(&op.legacy.0, &op.legacy.1),
                            &[
                                ("grant_type", "password"),
                                ("username", "alice"),
                                ("password", PASSWORD),
                            ],
                        )
                        .await;
                    let gateway = Auth::Basic(&op.gateway.0, &op.gateway.1);
                    let (_, own) = op
                        .post("/token", gateway, &[("grant_type", "client_credentials")])
                        .await;
                    let access = crate::token_exchange::ACCESS_TOKEN;
                    op.post(
                        "/token",
                        gateway,
                        &[
                            ("grant_type", &grant),
                            ("subject_token", user["access_token"].as_str().unwrap()),
                            ("subject_token_type", access),
                            ("actor_token", own["access_token"].as_str().unwrap()),
                            ("actor_token_type", access),
                        ],
                    )
                    .await
                }
                other => {
                    panic!("discovery advertises grant type {other}, which this test cannot prove")
                }
            };
            assert_eq!(status, StatusCode::OK, "{kind:?} {grant}: {body}");
        }

        for response_type in strings(&metadata, "response_types_supported") {
            let want: &[&str] = match response_type.as_str() {
                "code" => {
                    op.code(&mut browser, web_id, "openid").await;
                    continue;
                }
                "token" => &["access_token"],
                "id_token" => &["id_token"],
                "id_token token" => &["id_token", "access_token"],
                other => panic!(
                    "discovery advertises response type {other}, which this test cannot prove"
                ),
            };
            let pairs = implicit_pairs(if response_type == "token" {
                "token"
            } else if response_type == "id_token" {
                "id_token"
            } else {
                "id_token token"
            });
            let (_, location, _) = op.authorize(&mut browser, &pairs).await;
            let got = fragment(&location);
            for name in want {
                assert!(param(&got, name).is_some(), "{response_type}: {location}");
            }
        }

        for mode in strings(&metadata, "response_modes_supported") {
            let pairs = [
                ("response_type", "code"),
                ("client_id", web_id),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
                (
                    "code_challenge",
                    portcullis_testkit::browser::PKCE_CHALLENGE,
                ),
                ("code_challenge_method", "S256"),
                ("response_mode", mode.as_str()),
            ];
            let (status, location, html) = op.authorize(&mut browser, &pairs).await;
            let code = match mode.as_str() {
                "query" => param(&query_of(&location), "code").map(str::to_owned),
                "fragment" => param(&fragment(&location), "code").map(str::to_owned),
                "form_post" => {
                    assert_eq!(status, StatusCode::OK, "{html}");
                    Some(hidden(&html, "code"))
                }
                other => panic!(
                    "discovery advertises response mode {other}, which this test cannot prove"
                ),
            };
            let code = code.unwrap_or_else(|| panic!("{mode}: no code in {location}{html}"));
            let (status, body) = op.exchange(Auth::Basic(web_id, web_secret), &code).await;
            assert_eq!(status, StatusCode::OK, "{mode}: {body}");
        }

        for method in strings(&metadata, "token_endpoint_auth_methods_supported") {
            let (status, body) = match method.as_str() {
                "client_secret_basic" => {
                    op.post(
                        "/token",
                        Auth::Basic(svc_id, svc_secret),
                        &[("grant_type", "client_credentials")],
                    )
                    .await
                }
                "client_secret_post" => {
                    op.post(
                        "/token",
                        Auth::Post(svc_id, svc_secret),
                        &[("grant_type", "client_credentials")],
                    )
                    .await
                }
                "none" => {
                    let code = op.code(&mut browser, &op.spa, "openid").await;
                    op.exchange(Auth::None(&op.spa), &code).await
                }
                other => panic!(
                    "discovery advertises token auth method {other}, which this test cannot prove"
                ),
            };
            assert_eq!(status, StatusCode::OK, "{method}: {body}");
        }

        let (_, tokens) = op
            .post(
                "/token",
                Auth::Basic(svc_id, svc_secret),
                &[("grant_type", "client_credentials")],
            )
            .await;
        let token = tokens["access_token"].as_str().unwrap().to_owned();
        for method in strings(&metadata, "introspection_endpoint_auth_methods_supported") {
            let auth = match method.as_str() {
                "client_secret_basic" => Auth::Basic(svc_id, svc_secret),
                "client_secret_post" => Auth::Post(svc_id, svc_secret),
                other => panic!(
                    "discovery advertises introspection auth method {other}, which this test cannot prove"
                ),
            };
            let (status, body) = op.post("/introspect", auth, &[("token", &token)]).await;
            assert_eq!(
                (status, &body["active"]),
                (StatusCode::OK, &Value::Bool(true)),
                "{method}: {body}"
            );
        }
        for method in strings(&metadata, "revocation_endpoint_auth_methods_supported") {
            let (auth, token) = match method.as_str() {
                "client_secret_basic" | "client_secret_post" => {
                    let (_, tokens) = op
                        .post(
                            "/token",
                            Auth::Basic(svc_id, svc_secret),
                            &[("grant_type", "client_credentials")],
                        )
                        .await;
                    let token = tokens["access_token"].as_str().unwrap().to_owned();
                    let auth = if method == "client_secret_basic" {
                        Auth::Basic(svc_id, svc_secret)
                    } else {
                        Auth::Post(svc_id, svc_secret)
                    };
                    (auth, token)
                }
                "none" => {
                    let code = op.code(&mut browser, &op.spa, "openid").await;
                    let (_, tokens) = op.exchange(Auth::None(&op.spa), &code).await;
                    (
                        Auth::None(&op.spa),
                        tokens["access_token"].as_str().unwrap().to_owned(),
                    )
                }
                other => panic!(
                    "discovery advertises revocation auth method {other}, which this test cannot prove"
                ),
            };
            let (status, body) = op.post("/revoke", auth, &[("token", &token)]).await;
            assert_eq!(status, StatusCode::OK, "{method}: {body}");
            let (_, body) = op
                .post(
                    "/introspect",
                    Auth::Basic(svc_id, svc_secret),
                    &[("token", &token)],
                )
                .await;
            assert_eq!(body["active"], false, "{method}: revoked");
        }

        assert_eq!(
            strings(&metadata, "code_challenge_methods_supported"),
            ["S256"]
        );
        let algs = strings(&metadata, "id_token_signing_alg_values_supported");
        let code = op.code(&mut browser, web_id, "openid").await;
        let (_, tokens) = op.exchange(Auth::Basic(web_id, web_secret), &code).await;
        let id_token = tokens["id_token"].as_str().unwrap();
        verified_claims(&op.server.url, id_token, web_id).await;
        let header: Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                id_token.split('.').next().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(
            algs.iter().any(|a| header["alg"] == a.as_str()),
            "{header} not in {algs:?}"
        );

        // What the document does not promise is refused, with the error a
        // relying party can act on.
        let (status, body) = op
            .post(
                "/token",
                Auth::Basic(svc_id, svc_secret),
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", "x"),
                ],
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
        );
        let (status, body) = op
            .post(
                "/token",
                Auth::None(svc_id),
                &[
                    ("grant_type", "client_credentials"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", "a.b.c"),
                ],
            )
            .await;
        assert!(
            status.is_client_error()
                && matches!(
                    body["error"].as_str(),
                    Some("invalid_client" | "invalid_request")
                ),
            "private_key_jwt is not advertised: {status} {body}"
        );
        for (extra, error) in [
            (
                ("response_type", "code id_token"),
                "unsupported_response_type",
            ),
            (("response_mode", "query.jwt"), "invalid_request"),
            (("code_challenge_method", "plain"), "invalid_request"),
        ] {
            let mut pairs = vec![
                ("response_type", "code"),
                ("client_id", web_id),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
                ("nonce", "n-2"),
                (
                    "code_challenge",
                    portcullis_testkit::browser::PKCE_CHALLENGE,
                ),
                ("code_challenge_method", "S256"),
            ];
            pairs.retain(|(name, _)| *name != extra.0);
            pairs.push(extra);
            let (_, location, html) = op.authorize(&mut browser, &pairs).await;
            assert_eq!(
                param(&query_of(&location), "error"),
                Some(error),
                "{extra:?}: {location}{html}"
            );
        }
        op.server.stop().await;
    }
}
