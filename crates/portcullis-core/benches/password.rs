//! The cost of one password check (Argon2id, m = 19 MiB, t = 2, p = 1, the
//! OWASP parameters): what every sign-in, password grant and sign-up pays on
//! a blocking thread, and what bounds sign-ins per second per core.
//!
//! ```sh
//! taskset -c 0 cargo bench -p portcullis-core --bench password
//! ```

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_core::password::{Password, PasswordHash};

fn password(c: &mut Criterion) {
    let chosen = Password::presented("correct horse battery staple");
    let hash = PasswordHash::create(&chosen);
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(20);
    group.bench_function("verify (right password)", |b| {
        let presented = Password::presented("correct horse battery staple");
        b.iter(|| assert!(hash.verify(&presented)));
    });
    group.bench_function("verify_nothing (unknown user)", |b| {
        let presented = Password::presented("correct horse battery staple");
        b.iter(|| PasswordHash::verify_nothing(&presented));
    });
    group.bench_function("create (sign-up, password change)", |b| {
        b.iter(|| PasswordHash::create(&chosen));
    });
    group.finish();
}

criterion_group!(benches, password);
criterion_main!(benches);
