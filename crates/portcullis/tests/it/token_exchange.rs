//! Token exchange (RFC 8693) through real HTTP on both backends: a service
//! that received a user's token gets one for another API, delegated (`act`,
//! nested when chained) or, for clients allowed to, impersonated; scope and
//! audience never go beyond what the subject token and the client allow;
//! the exchanged token dies with the user's grant. Tokens are verified with
//! `jsonwebtoken`, independently of the server.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use portcullis_testkit::{TestDatabase, TestServer, store_kinds};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const PASSWORD: &str = "correct horse battery";
pub(crate) const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub(crate) const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const COURSES: &str = "https://courses.example/api";
const BILLING: &str = "https://billing.example/api";

struct Fixture {
    server: TestServer,
    /// The app the user signs in to (password grant, for brevity).
    app: (String, String),
    /// The courses API, which exchanges the user's token to call billing.
    courses: (String, String),
    /// Billing, which exchanges again to call a third API.
    billing: (String, String),
    /// A client allowed to impersonate.
    batch: (String, String),
    /// A client registered for refresh tokens too.
    portal: (String, String),
}

async fn fixture(db: &TestDatabase) -> Fixture {
    let server = TestServer::spawn(BIN.as_ref(), db, &[]).await;
    server.create_user("hesam", PASSWORD, &[]).await;
    let app = server
        .create_client(&[
            "--name",
            "app",
            "--grant-type",
            "password",
            "--grant-type",
            "refresh_token",
            "--scope",
            "openid courses:read courses:write invoices:read",
            "--audience",
            COURSES,
        ])
        .await;
    let exchanger = |name: &'static str, audience: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![
            "--name",
            name,
            "--grant-type",
            "token_exchange",
            "--grant-type",
            "client_credentials",
            "--scope",
            "courses:read invoices:read",
            "--audience",
            audience,
        ];
        args.extend_from_slice(extra);
        args
    };
    let courses = server
        .create_client(&exchanger("courses", BILLING, &[]))
        .await;
    let billing = server
        .create_client(&exchanger("billing", "https://ledger.example/api", &[]))
        .await;
    let batch = server
        .create_client(&exchanger("batch", BILLING, &["--allow-impersonation"]))
        .await;
    let portal = server
        .create_client(&exchanger(
            "portal",
            BILLING,
            &["--grant-type", "refresh_token"],
        ))
        .await;
    Fixture {
        server,
        app,
        courses,
        billing,
        batch,
        portal,
    }
}

async fn token(
    f: &Fixture,
    client: &(String, String),
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/token", f.server.url))
        .basic_auth(&client.0, Some(&client.1))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The user's tokens from the app: (access token for courses, refresh
/// token, ID token).
async fn signed_in(f: &Fixture, scope: &str) -> (String, String, String) {
    let (status, body) = token(
        f,
        &f.app,
        &[
            ("grant_type", "password"),
            ("username", "hesam"),
            ("password", PASSWORD),
            ("scope", scope),
            ("resource", COURSES),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    (
        text("access_token"),
        text("refresh_token"),
        text("id_token"),
    )
}

/// A client's own token, to present as the actor.
async fn own_token(f: &Fixture, client: &(String, String)) -> String {
    let (status, body) = token(f, client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn exchange(
    f: &Fixture,
    client: &(String, String),
    subject: (&str, &str),
    actor: Option<&str>,
    extra: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", EXCHANGE),
        ("subject_token", subject.0),
        ("subject_token_type", subject.1),
    ];
    if let Some(actor) = actor {
        form.push(("actor_token", actor));
        form.push(("actor_token_type", ACCESS_TOKEN));
    }
    form.extend_from_slice(extra);
    token(f, client, &form).await
}

/// The claims of an access token, verified with `jsonwebtoken` against the
/// published JWKS, for `audience`.
async fn verified(f: &Fixture, access_token: &str, audience: &str) -> Value {
    let jwks: JwkSet = reqwest::get(format!("{}/jwks.json", f.server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(access_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[f.server.url.as_str()]);
    validation.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(
        access_token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims
}

async fn active(f: &Fixture, access_token: &str) -> bool {
    let (_, body) = {
        let response = reqwest::Client::new()
            .post(format!("{}/introspect", f.server.url))
            .basic_auth(&f.billing.0, Some(&f.billing.1))
            .form(&[("token", access_token)])
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    body["active"] == true
}

#[tokio::test]
async fn a_service_exchanges_a_users_token_for_another_api_on_their_behalf() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db).await;
        let (user_token, refresh, _) = signed_in(&f, "courses:read invoices:read").await;
        let user = verified(&f, &user_token, COURSES).await;
        let actor = own_token(&f, &f.courses).await;

        // Delegation: the user's subject, the courses API as the actor.
        let (status, body) = exchange(
            &f,
            &f.courses,
            (&user_token, ACCESS_TOKEN),
            Some(&actor),
            &[("audience", BILLING), ("scope", "invoices:read")],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {body}");
        assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "invoices:read");
        assert!(body.get("refresh_token").is_none(), "{body}");
        let delegated = body["access_token"].as_str().unwrap().to_owned();
        let claims = verified(&f, &delegated, BILLING).await;
        assert_eq!(claims["sub"], user["sub"]);
        assert_eq!(claims["client_id"], f.courses.0.as_str());
        assert_eq!(claims["act"], json!({"sub": f.courses.0}));
        assert_eq!(claims["grant_id"], user["grant_id"], "the user's grant");

        // Chained: billing exchanges again; the earlier actor nests.
        let billing_actor = own_token(&f, &f.billing).await;
        let (status, body) = exchange(
            &f,
            &f.billing,
            (&delegated, ACCESS_TOKEN),
            Some(&billing_actor),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let chained = body["access_token"].as_str().unwrap().to_owned();
        let claims = verified(&f, &chained, "https://ledger.example/api").await;
        assert_eq!(
            claims["act"],
            json!({"sub": f.billing.0, "act": {"sub": f.courses.0}})
        );
        assert_eq!(
            claims["scope"], "invoices:read",
            "never wider than its subject"
        );

        // Impersonation: refused without an actor, unless the client may.
        let (status, body) = exchange(&f, &f.courses, (&user_token, ACCESS_TOKEN), None, &[]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unauthorized_client")),
            "{body}"
        );
        let (status, body) = exchange(&f, &f.batch, (&user_token, ACCESS_TOKEN), None, &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let impersonated = body["access_token"].as_str().unwrap().to_owned();
        let claims = verified(&f, &impersonated, BILLING).await;
        assert!(claims.get("act").is_none(), "{claims}");
        assert_eq!(claims["sub"], user["sub"]);

        // A client registered for refresh tokens gets one; its access
        // tokens keep the subject and the actor, and it gives no ID token.
        let portal_actor = own_token(&f, &f.portal).await;
        let (status, body) = exchange(
            &f,
            &f.portal,
            (&user_token, ACCESS_TOKEN),
            Some(&portal_actor),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let portal_refresh = body["refresh_token"].as_str().unwrap().to_owned();
        let (status, refreshed) = token(
            &f,
            &f.portal,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &portal_refresh),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{kind:?}: {refreshed}");
        assert!(refreshed.get("id_token").is_none(), "{refreshed}");
        let from_refresh = refreshed["access_token"].as_str().unwrap().to_owned();
        let claims = verified(&f, &from_refresh, BILLING).await;
        assert_eq!(claims["sub"], user["sub"]);
        assert_eq!(claims["act"], json!({"sub": f.portal.0}));
        assert_eq!(claims["grant_id"], user["grant_id"]);
        let next_refresh = refreshed["refresh_token"].as_str().unwrap().to_owned();

        // Revoking the user's grant ends every exchanged token, and the
        // subject token can no longer be exchanged.
        for token in [&delegated, &chained, &impersonated, &from_refresh] {
            assert!(active(&f, token).await);
        }
        let response = reqwest::Client::new()
            .post(format!("{}/revoke", f.server.url))
            .basic_auth(&f.app.0, Some(&f.app.1))
            .form(&[("token", refresh.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        for token in [&delegated, &chained, &impersonated, &from_refresh] {
            assert!(
                !active(&f, token).await,
                "{kind:?}: exchanged tokens die with the grant"
            );
        }
        let (_, body) = token(
            &f,
            &f.portal,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &next_refresh),
            ],
        )
        .await;
        assert_eq!(body["error"], "invalid_grant", "{body}");
        let (_, body) = exchange(
            &f,
            &f.courses,
            (&user_token, ACCESS_TOKEN),
            Some(&actor),
            &[],
        )
        .await;
        assert_eq!(body["error"], "invalid_grant", "{body}");
    }
}

#[tokio::test]
async fn exchanges_never_widen_and_refuse_what_they_cannot_prove() {
    for kind in store_kinds() {
        let db = TestDatabase::new(kind).await;
        let f = fixture(&db).await;
        let (user_token, _, id_token) = signed_in(&f, "openid courses:read").await;
        let actor = own_token(&f, &f.courses).await;
        let subject = (user_token.as_str(), ACCESS_TOKEN);
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            // More scope than the subject token carries.
            (vec![("scope", "invoices:read")], "invalid_scope"),
            // An audience the client may not ask for.
            (
                vec![("audience", "https://ledger.example/api")],
                "invalid_target",
            ),
            (vec![("resource", COURSES)], "invalid_target"),
            (vec![("audience", "billing")], "invalid_target"),
            // Only access tokens are issued.
            (
                vec![(
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:refresh_token",
                )],
                "invalid_request",
            ),
        ];
        for (extra, error) in cases {
            let (status, body) = exchange(&f, &f.courses, subject, Some(&actor), &extra).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (StatusCode::BAD_REQUEST, Some(error)),
                "{kind:?} {extra:?}: {body}"
            );
        }
        // Tokens that are not what they say, or not this issuer's.
        for (token, token_type) in [
            (user_token.as_str(), ID_TOKEN),
            (id_token.as_str(), ACCESS_TOKEN),
            ("not.a.token", ACCESS_TOKEN),
            // An ID token issued to the app, presented by another client.
            (id_token.as_str(), ID_TOKEN),
        ] {
            let (status, body) =
                exchange(&f, &f.courses, (token, token_type), Some(&actor), &[]).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (StatusCode::BAD_REQUEST, Some("invalid_grant")),
                "{kind:?} {token_type}: {body}"
            );
        }
        let (_, body) = exchange(&f, &f.courses, subject, Some("not.a.token"), &[]).await;
        assert_eq!(body["error"], "invalid_grant", "a bad actor token: {body}");
        let (_, body) = token(
            &f,
            &f.courses,
            &[("grant_type", EXCHANGE), ("subject_token", &user_token)],
        )
        .await;
        assert_eq!(body["error"], "invalid_request", "{body}");
        // A client not registered for the grant.
        let (_, body) = exchange(&f, &f.app, subject, Some(&actor), &[]).await;
        assert_eq!(body["error"], "unauthorized_client", "{body}");
        // Public clients and impersonation without the grant cannot be registered.
        for extra in [
            &["--public", "--grant-type", "token_exchange"][..],
            &[
                "--grant-type",
                "client_credentials",
                "--allow-impersonation",
            ][..],
        ] {
            let mut args = vec!["client", "create", "--name", "bad"];
            args.extend_from_slice(extra);
            let (ok, _, stderr) = f.server.cli(&args).await;
            assert!(!ok, "{extra:?}");
            assert!(
                stderr.contains("exchange"),
                "{extra:?}: the refusal names the rule: {stderr}"
            );
        }
    }
}
