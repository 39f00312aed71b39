//! OpenID Connect Back-Channel Logout 1.0 through real HTTP on both
//! backends: ID tokens carry the session's `sid`; when the session ends
//! (sign-out, a password change, a disabled or deleted user, an
//! administrator's sign-out) every client it signed in to with a
//! `backchannel_logout_uri` receives one signed logout token, verified here
//! with `jsonwebtoken`; a client that fails is retried, and one that keeps
//! failing is recorded as failed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode as AxumStatus;
use axum::routing::post;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use portcullis_testkit::browser::{Browser, PKCE_VERIFIER, authorize_url, hidden};
use portcullis_testkit::id_token::verified_claims;
use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const PASSWORD: &str = "correct horse battery";
const CALLBACK: &str = "http://127.0.0.1:43210/callback";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A relying party's back channel: the logout tokens each path received,
/// and how many requests of each path to answer 500 first (`u32::MAX`:
/// always).
#[derive(Clone, Default)]
struct Rp {
    received: Arc<Mutex<Vec<(String, String)>>>,
    fail_first: Arc<Mutex<Vec<(String, u32)>>>,
}

impl Rp {
    async fn start(&self) -> String {
        let app = Router::new()
            .route(
                "/{path}",
                post(
                    |State(rp): State<Rp>, Path(path): Path<String>, body: String| async move {
                        let mut failing = rp.fail_first.lock().unwrap();
                        if let Some((_, left)) = failing.iter_mut().find(|(p, _)| *p == path)
                            && *left > 0
                        {
                            *left = left.saturating_sub(u32::from(*left != u32::MAX));
                            return AxumStatus::INTERNAL_SERVER_ERROR;
                        }
                        drop(failing);
                        for (k, v) in form_urlencoded::parse(body.as_bytes()).into_owned() {
                            if k == "logout_token" {
                                rp.received.lock().unwrap().push((path.clone(), v));
                            }
                        }
                        AxumStatus::OK
                    },
                ),
            )
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn tokens_of(&self, path: &str) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// Waits (up to 20 s) until `path` has received `count` tokens.
    async fn wait_for(&self, path: &str, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let tokens = self.tokens_of(path);
            if tokens.len() >= count {
                return tokens;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{path} received {:?}, not {count} tokens",
            self.tokens_of(path)
        );
    }
}

struct Fixture {
    server: TestServer,
    rp: Rp,
    /// Has a back-channel logout URI (`/app`), session required.
    app: (String, String),
    /// Has none.
    other: (String, String),
}

async fn fixture(db: &TestDatabase) -> Fixture {
    let rp = Rp::default();
    let rp_url = rp.start().await;
    let server = TestServer::spawn(BIN.as_ref(), db, &[]).await;
    server.create_user("hesam", PASSWORD, &[]).await;
    let code_client = |name: &'static str| {
        vec![
            "--name",
            name,
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            CALLBACK,
            "--scope",
            "openid profile",
        ]
    };
    let app_uri = format!("{rp_url}/app");
    let mut args = code_client("app");
    // The app also refreshes, with offline_access.
    args.truncate(args.len() - 2);
    args.extend([
        "--grant-type",
        "refresh_token",
        "--scope",
        "openid profile offline_access",
    ]);
    args.extend(["--backchannel-logout-uri", &app_uri]);
    args.push("--backchannel-logout-session-required");
    let app = server.create_client(&args).await;
    let other = server.create_client(&code_client("other")).await;
    Fixture {
        server,
        rp,
        app,
        other,
    }
}

impl Fixture {
    /// Signs in to `client` in `browser` (a new session unless it has one)
    /// and returns the ID token's claims.
    async fn sign_in(&self, browser: &mut Browser, client: &(String, String)) -> Value {
        self.sign_in_for(browser, client, "openid profile").await.0
    }

    /// Like [`Fixture::sign_in`] for `scope`: the ID token's claims and the
    /// token response.
    async fn sign_in_for(
        &self,
        browser: &mut Browser,
        client: &(String, String),
        scope: &str,
    ) -> (Value, Value) {
        let url = authorize_url(&self.server.url, &client.0, CALLBACK, scope, &[]);
        let code = browser.authorization_code(&url, "hesam", PASSWORD).await;
        let tokens: Value = reqwest::Client::new()
            .post(format!("{}/token", self.server.url))
            .basic_auth(&client.0, Some(&client.1))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CALLBACK),
                ("code_verifier", PKCE_VERIFIER),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id_token = tokens["id_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{tokens}"));
        (
            verified_claims(&self.server.url, id_token, &client.0).await,
            tokens,
        )
    }

    /// The claims of a logout token, verified against the JWKS as a relying
    /// party would (Back-Channel Logout 2.6).
    async fn logout_claims(&self, token: &str, audience: &str) -> Value {
        let jwks: JwkSet = reqwest::get(format!("{}/jwks.json", self.server.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
        let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.server.url.as_str()]);
        validation.set_audience(&[audience]);
        let claims =
            jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
                .unwrap()
                .claims;
        assert!(claims["events"][EVENT].is_object(), "{claims}");
        assert!(claims.get("nonce").is_none(), "{claims}");
        assert!(
            claims["jti"].is_string() && claims["iat"].is_i64(),
            "{claims}"
        );
        claims
    }
}

#[tokio::test]
async fn ending_a_session_tells_every_client_it_signed_in_to() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db).await;

        // One session, two clients: the same sid in both ID tokens.
        let mut browser = Browser::new();
        let id_app = f.sign_in(&mut browser, &f.app).await;
        let id_other = f.sign_in(&mut browser, &f.other).await;
        let sid = id_app["sid"]
            .as_str()
            .unwrap_or_else(|| panic!("{id_app}"))
            .to_owned();
        assert_eq!(id_other["sid"], sid.as_str());
        // A refresh's ID token names the same session.
        let (claims, tokens) = f
            .sign_in_for(&mut browser, &f.app, "openid offline_access")
            .await;
        assert_eq!(claims["sid"], sid.as_str());
        let refreshed: Value = reqwest::Client::new()
            .post(format!("{}/token", f.server.url))
            .basic_auth(&f.app.0, Some(&f.app.1))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let again = verified_claims(
            &f.server.url,
            refreshed["id_token"].as_str().unwrap(),
            &f.app.0,
        )
        .await;
        assert_eq!(again["sid"], sid.as_str(), "{kind:?}");

        // Signing out on the account page: one logout token for the app
        // (the other client has no back channel).
        let (_, _, page) = browser.get(&format!("{}/account", f.server.url)).await;
        let (status, _, _) = browser
            .post(
                &format!("{}/logout", f.server.url),
                &[("csrf", hidden(&page, "csrf").as_str())],
            )
            .await;
        assert!(status.is_success() || status.is_redirection(), "{status}");
        let tokens = f.rp.wait_for("app", 1).await;
        let claims = f.logout_claims(&tokens[0], &f.app.0).await;
        assert_eq!(claims["sid"], sid.as_str(), "{kind:?}");
        assert_eq!(claims["sub"], id_app["sub"]);
        assert_eq!(
            db.count("SELECT COUNT(*) FROM logout_notices WHERE delivered_at IS NOT NULL")
                .await,
            1
        );

        // Every other way a session ends sends one too, each for its own session.
        let commands: [&[&str]; 4] = [
            &["user", "set-password", "hesam", "--password-stdin"],
            &["user", "sign-out", "hesam"],
            &["user", "disable", "hesam"],
            &["user", "delete", "hesam"],
        ];
        for (round, command) in commands.iter().enumerate() {
            let mut browser = Browser::new();
            let claims = f.sign_in(&mut browser, &f.app).await;
            let stdin = format!("{PASSWORD}\n");
            f.server.cli_ok(command, &stdin).await;
            let tokens = f.rp.wait_for("app", round + 2).await;
            let logout = f.logout_claims(&tokens[round + 1], &f.app.0).await;
            assert_eq!(logout["sid"], claims["sid"], "{kind:?} {command:?}");
            if command[1] == "disable" {
                f.server.cli_ok(&["user", "enable", "hesam"], "").await;
            }
        }
        // Exactly one token per ended session.
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(f.rp.tokens_of("app").len(), 5);
        assert!(f.rp.tokens_of("other").is_empty());
        f.server.stop().await;
    }
}

/// Fails if a client that answered 500 is never tried again, if one that
/// keeps failing is retried without end, or if the failure is not recorded.
#[tokio::test]
async fn failed_deliveries_are_retried_a_few_times_then_recorded() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db).await;
        let rp_url = f.rp.start().await;
        let listening = |name: &'static str| {
            let uri = format!("{rp_url}/{name}");
            let server = &f.server;
            async move {
                server
                    .create_client(&[
                        "--name",
                        name,
                        "--grant-type",
                        "authorization_code",
                        "--redirect-uri",
                        CALLBACK,
                        "--scope",
                        "openid profile",
                        "--backchannel-logout-uri",
                        &uri,
                    ])
                    .await
            }
        };
        let flaky = listening("flaky").await;
        let down = listening("down").await;
        {
            let mut failing = f.rp.fail_first.lock().unwrap();
            failing.push(("flaky".into(), 2));
            failing.push(("down".into(), u32::MAX));
        }
        let mut browser = Browser::new();
        f.sign_in(&mut browser, &flaky).await;
        f.sign_in(&mut browser, &down).await;
        f.server.cli_ok(&["user", "sign-out", "hesam"], "").await;

        // Two 500s, then delivered on the third attempt (after 1 s and 2 s).
        let tokens = f.rp.wait_for("flaky", 1).await;
        f.logout_claims(&tokens[0], &flaky.0).await;
        // Four attempts (after 1, 2 and 4 s), then recorded as failed.
        let mut failed = 0;
        for _ in 0..200 {
            failed = db
                .count(&format!(
                    "SELECT COUNT(*) FROM logout_notices WHERE client_id = '{}' \
                     AND failed_at IS NOT NULL AND attempts = 4 AND last_error = 'it answered 500'",
                    down.0
                ))
                .await;
            if failed == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(failed, 1, "{kind:?}: the failure is recorded");
        assert_eq!(
            db.count(&format!(
                "SELECT COUNT(*) FROM logout_notices WHERE client_id = '{}' \
                 AND delivered_at IS NOT NULL AND attempts = 3",
                flaky.0
            ))
            .await,
            1
        );
        assert!(f.rp.tokens_of("down").is_empty());
        f.server.stop().await;
    }
}
