//! The guard's cost per request for a token it has seen before (cache hit),
//! and for a new one (signature check): `cargo bench -p portcullis-guard`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, header};
use portcullis_guard::{Guard, Scopes};
use portcullis_jose::{Algorithm, SigningKey};
use serde_json::json;

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for alg in [Algorithm::RS256, Algorithm::ES256] {
        let key = SigningKey::generate(alg).expect("key");
        let guard = runtime.block_on(async {
            Guard::builder()
                .jwks(&key.public_jwks())
                .issuer("https://id.example")
                .audience("https://api.example")
                .build()
                .await
                .expect("guard")
        });
        let token = key
            .sign_jwt(
                "at+jwt",
                &json!({"iss": "https://id.example", "sub": "svc", "aud": "https://api.example",
                        "client_id": "svc", "scope": "courses:read", "jti": "j",
                        "iat": 1_700_000_000, "exp": 4_000_000_000_i64}),
            )
            .expect("token");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
        let scopes = Scopes::all(["courses:read"]);
        runtime
            .block_on(guard.authorize(&headers, &scopes))
            .expect("valid");
        c.bench_function(&format!("authorize_cached/{alg}"), |b| {
            b.iter(|| {
                runtime
                    .block_on(guard.authorize(black_box(&headers), &scopes))
                    .expect("valid")
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(30);
    targets = bench
}
criterion_main!(benches);
