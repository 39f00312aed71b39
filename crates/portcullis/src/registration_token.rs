//! `portcullis registration-token create`: initial access tokens for dynamic
//! client registration when `registration = "token"`.

use std::time::Duration;

use clap::Subcommand;
use portcullis_core::Seconds;
use portcullis_core::admin::registration;
use portcullis_core::registration::RegistrationMode;
use portcullis_server::{Settings, startup, system_now};
use serde_json::json;

use crate::jwt::parse_duration;

#[derive(Debug, Subcommand)]
pub enum RegistrationTokenCommand {
    /// Create an initial access token (shown once; stored as a hash). A
    /// client registers by sending it as a bearer token to /register.
    Create {
        /// How many clients it may register.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        uses: u32,
        /// How long it stays valid, e.g. 3600, 1h or 7d.
        #[arg(long, default_value = "1d", value_parser = parse_duration)]
        expires_in: Duration,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn exec(settings: &Settings, command: RegistrationTokenCommand) -> anyhow::Result<()> {
    let RegistrationTokenCommand::Create {
        uses,
        expires_in,
        json,
    } = command;
    if expires_in.is_zero() {
        anyhow::bail!("--expires-in must be more than 0 seconds");
    }
    let (store, _) = startup::open(settings).await?;
    let now = system_now();
    let lifetime = Seconds(i64::try_from(expires_in.as_secs()).unwrap_or(i64::MAX / 2));
    let token = registration::create_initial_token(&*store, uses, lifetime, now).await?;
    if json {
        let expires_at = now + lifetime;
        println!(
            "{}",
            json!({"token": token.expose(), "uses": uses, "expires_at": expires_at.0})
        );
    } else {
        println!("{}", token.expose());
    }
    if settings.registration != RegistrationMode::Token {
        eprintln!(
            "note: registration is not `token` in this configuration; set PORTCULLIS_REGISTRATION=token for the server to ask for it"
        );
    }
    Ok(())
}
