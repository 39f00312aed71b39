//! Benchmark harness for the guard (used by `bench/guard-throughput.sh`, not a test).
//!
//! Plays the issuer itself so the guard's cost is measured alone: it makes a
//! signing key, serves discovery and the JWKS, mints one reused token and a
//! file of distinct tokens, then serves the courses API with the guard and the
//! same listing unprotected:
//!
//! - `GET /api/v1/me/courses`: behind the guard (`courses:read`);
//! - `GET /bench/unprotected`: the same handler work without the guard;
//! - `GET /bench/stats`: JWKS fetches and signature checks so far.
//!
//! Usage: `courses-api-bench ALG DISTINCT_TOKENS CACHE_CAPACITY OUT_DIR`
//! (ALG: RS256 | ES256 | EdDSA). With fewer cache entries than distinct
//! tokens, cycling through the tokens misses the cache on every request.

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use portcullis_guard::Guard;
use portcullis_jose::{Algorithm, SigningKey};
use serde_json::json;

const AUDIENCE: &str = "https://courses.example/api";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, alg, count, capacity, out] = args.as_slice() else {
        return Err("usage: courses-api-bench ALG DISTINCT_TOKENS CACHE_CAPACITY OUT_DIR".into());
    };
    let alg: Algorithm = alg.parse()?;
    let count: usize = count.parse()?;
    let capacity: usize = capacity.parse()?;
    let key = SigningKey::generate(alg)?;

    let issuer_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let issuer = format!("http://{}", issuer_listener.local_addr()?);
    let discovery = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks.json")});
    let jwks = serde_json::to_value(key.public_jwks())?;
    let issuer_app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { axum::Json(discovery) }),
        )
        .route(
            "/jwks.json",
            get(move || async move {
                (
                    [("cache-control", "public, max-age=3600")],
                    axum::Json(jwks),
                )
            }),
        );
    tokio::spawn(async move { axum::serve(issuer_listener, issuer_app).await });

    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let mint = |jti: usize| {
        key.sign_jwt(
            "at+jwt",
            &json!({
                "iss": issuer, "sub": "bench-client", "aud": AUDIENCE, "client_id": "bench-client",
                "scope": "courses:read", "jti": format!("bench-{jti}"), "iat": now, "exp": now + 3600,
            }),
        )
    };
    std::fs::create_dir_all(out)?;
    std::fs::write(format!("{out}/reused.token"), mint(0)?)?;
    let mut distinct =
        std::io::BufWriter::new(std::fs::File::create(format!("{out}/distinct.tokens"))?);
    for i in 1..=count {
        writeln!(distinct, "{}", mint(i)?)?;
    }
    distinct.flush()?;

    let guard = Guard::builder()
        .issuer(&issuer)
        .audience(AUDIENCE)
        .require_type("at+jwt")
        .cache_capacity(capacity)
        .build()
        .await?;
    let stats_guard = guard.clone();
    let app = courses_api::app(&guard, &[])
        .route(
            "/bench/unprotected",
            get(|| async { axum::Json(Vec::<courses_api::Course>::new()) }),
        )
        .route(
            "/bench/stats",
            get(move || async move {
                axum::Json(json!({
                    "jwks_fetches": stats_guard.jwks_fetches(),
                    "signature_checks": stats_guard.signature_checks(),
                }))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!(
        "courses-api-bench listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
