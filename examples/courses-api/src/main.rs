//! Runs the courses API. Configuration: `COURSES_ISSUER` (the Portcullis
//! issuer URL), `COURSES_AUDIENCE` (this API's resource URI), optionally
//! `COURSES_LISTEN` (default 127.0.0.1:3000) and `COURSES_CORS_ORIGINS`
//! (comma-separated; any origin when unset).

use std::process::ExitCode;

use portcullis_guard::Guard;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(issuer), Some(audience)) = (var("COURSES_ISSUER"), var("COURSES_AUDIENCE")) else {
        eprintln!("courses-api: set COURSES_ISSUER and COURSES_AUDIENCE");
        return ExitCode::from(2);
    };
    let listen = var("COURSES_LISTEN").unwrap_or_else(|| "127.0.0.1:3000".into());
    let origins: Vec<String> = var("COURSES_CORS_ORIGINS")
        .map(|o| o.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default();
    let guard = match Guard::builder()
        .issuer(issuer)
        .resource(audience)
        .scopes_supported(["courses:read", "courses:write"])
        .build()
        .await
    {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("courses-api: {err}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("courses-api: cannot listen on {listen}: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        println!("courses-api listening on http://{addr}");
    }
    match axum::serve(listener, courses_api::app(&guard, &origins)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("courses-api: {err}");
            ExitCode::FAILURE
        }
    }
}
