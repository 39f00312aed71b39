//! Single-core signing and verification with key pairs parsed once: the
//! ceiling the token endpoint and the guard are measured against.
//!
//! `cargo bench -p portcullis-jose --bench sign`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_jose::{Algorithm, ClaimsPolicy, SigningKey, Verifier};
use serde_json::json;

fn claims() -> serde_json::Value {
    json!({
        "iss": "http://127.0.0.1:8080",
        "sub": "q2lz6I6Sycn7_0tpbYW0Ig",
        "aud": "https://courses.example/api",
        "client_id": "q2lz6I6Sycn7_0tpbYW0Ig",
        "scope": "courses:read courses:write",
        "jti": "KljwS75XmBgdFXcr9iD-Bw",
        "iat": 1_795_492_060,
        "exp": 1_795_492_960,
    })
}

fn bench(c: &mut Criterion) {
    let algorithms = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];
    let keys: Vec<SigningKey> = algorithms
        .iter()
        .map(|a| SigningKey::generate(*a).expect("key"))
        .collect();
    let claims = claims();

    let mut sign = c.benchmark_group("sign_jwt");
    for key in &keys {
        sign.bench_function(key.alg().as_str(), |b| {
            b.iter(|| black_box(key.sign_jwt("at+jwt", black_box(&claims)).expect("sign")))
        });
    }
    sign.finish();

    let policy = ClaimsPolicy::new("http://127.0.0.1:8080", ["https://courses.example/api"]);
    let mut verify = c.benchmark_group("verify_jwt");
    for key in &keys {
        let token = key.sign_jwt("at+jwt", &claims).expect("sign");
        let verifier = Verifier::from_jwks(&key.public_jwks()).expect("verifier");
        verify.bench_function(key.alg().as_str(), |b| {
            b.iter(|| {
                black_box(
                    verifier
                        .verify(black_box(&token), &policy, 1_795_492_100)
                        .expect("valid"),
                )
            })
        });
    }
    verify.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = bench
}
criterion_main!(benches);
