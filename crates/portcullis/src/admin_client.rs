//! `portcullis admin-client create`: the first client of the admin API.

use clap::Subcommand;
use portcullis_core::admin::access::{ADMIN_AUDIENCE, ADMIN_SCOPE};
use portcullis_core::admin::clients;
use portcullis_core::{GrantType, NewClient, Resource, ScopeSet};
use portcullis_server::{Settings, startup, system_now};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum AdminClientCommand {
    /// Create a client that may call the admin API under /admin/v1: it gets
    /// tokens with the client credentials grant, scope portcullis:admin and
    /// audience urn:portcullis:admin. Its secret is shown once.
    Create {
        /// A name for it.
        #[arg(long, default_value = "admin")]
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn exec(settings: &Settings, command: AdminClientCommand) -> anyhow::Result<()> {
    let AdminClientCommand::Create { name, json } = command;
    let (store, _) = startup::open(settings).await?;
    let new = NewClient {
        name,
        grant_types: vec![GrantType::ClientCredentials],
        scopes: ScopeSet::parse(ADMIN_SCOPE).unwrap_or_default(),
        audiences: Resource::parse(ADMIN_AUDIENCE).into_iter().collect(),
        ..NewClient::default()
    };
    let (client, secret) = clients::create(&*store, new, system_now()).await?;
    let secret = secret.map(|s| s.expose().to_owned()).unwrap_or_default();
    if json {
        println!(
            "{}",
            json!({"client_id": client.id.as_str(), "client_secret": secret, "scope": ADMIN_SCOPE, "audience": ADMIN_AUDIENCE})
        );
    } else {
        println!("client_id:     {}", client.id);
        println!("client_secret: {secret}");
        eprintln!(
            "The secret is shown only now. Get a token with:\n  portcullis token client-credentials --issuer ISSUER --client-id {} --scope {ADMIN_SCOPE} --resource {ADMIN_AUDIENCE} --raw",
            client.id
        );
    }
    Ok(())
}
