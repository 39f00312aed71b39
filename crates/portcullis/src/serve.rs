//! `portcullis serve`.

use clap::Args;
use portcullis_server::{RawSettings, Settings, startup};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<String>,
    /// Public issuer URL (default http:// + the listen address).
    #[arg(long)]
    issuer: Option<String>,
}

impl ServeArgs {
    pub fn apply(&self, raw: &mut RawSettings) {
        raw.listen.clone_from(&self.listen);
        raw.issuer.clone_from(&self.issuer);
    }
}

pub async fn exec(settings: &Settings) -> anyhow::Result<()> {
    let server = startup::prepare(settings).await?;
    // Tests and scripts read this line to learn the bound address.
    println!("portcullis listening on {}", server.local_url());
    tracing::info!(issuer = %server.issuer, database = backend(&settings.database_url), "serving");
    server.run(shutdown()).await?;
    tracing::info!("stopped");
    Ok(())
}

fn backend(url: &str) -> &'static str {
    match portcullis_store::Backend::of(url) {
        Some(portcullis_store::Backend::Postgres) => "postgres",
        _ => "sqlite",
    }
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
