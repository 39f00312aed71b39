//! `portcullis client ...`: create, list, show, delete, rotate-secret.

use anyhow::{Context as _, bail};
use clap::Subcommand;
use portcullis_core::admin::clients;
use portcullis_core::{Client, ClientId, GrantType, NewClient, Resource, ScopeSet};
use portcullis_server::{Settings, startup, system_now};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a confidential client; prints its secret once.
    Create {
        /// A human-readable name.
        #[arg(long)]
        name: String,
        /// A grant type it may use (repeatable).
        #[arg(long = "grant-type", required = true)]
        grant_types: Vec<String>,
        /// Scopes it may be granted, space-separated.
        #[arg(long, default_value = "")]
        scope: String,
        /// A resource (audience URI) it may request tokens for (repeatable).
        #[arg(long = "audience")]
        audiences: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List clients.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one client.
    Show {
        /// The client id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a client; its secret stops working at once.
    Delete {
        /// The client id.
        id: String,
    },
    /// Give a client a new secret; prints it once. The old one stops working.
    RotateSecret {
        /// The client id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn exec(settings: &Settings, command: ClientCommand) -> anyhow::Result<()> {
    let (store, _) = startup::open(settings).await?;
    match command {
        ClientCommand::Create {
            name,
            grant_types,
            scope,
            audiences,
            json,
        } => {
            let new = NewClient {
                name,
                grant_types: grant_types
                    .iter()
                    .map(|g| g.parse::<GrantType>().map_err(anyhow::Error::msg))
                    .collect::<anyhow::Result<_>>()?,
                scopes: ScopeSet::parse(&scope).context(
                    "--scope: scopes are space-separated tokens without quotes or backslashes",
                )?,
                audiences: audiences
                    .iter()
                    .map(|a| {
                        Resource::parse(a).with_context(|| {
                            format!("--audience `{a}`: expected an absolute URI without a fragment")
                        })
                    })
                    .collect::<anyhow::Result<_>>()?,
            };
            let (client, secret) = clients::create(&*store, new, system_now()).await?;
            if json {
                let mut value = describe(&client);
                value["client_secret"] = json!(secret.expose());
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                println!("client_id:     {}", client.id);
                println!("client_secret: {}", secret.expose());
                eprintln!("The secret is shown only now; store it safely.");
            }
        }
        ClientCommand::List { json } => {
            let all = store.clients().await?;
            if json {
                let list: Vec<_> = all.iter().map(describe).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!("{:<24} {:<24} {:<20} SCOPES", "CLIENT_ID", "NAME", "GRANTS");
                for c in &all {
                    println!("{:<24} {:<24} {:<20} {}", c.id, c.name, grants(c), c.scopes);
                }
            }
        }
        ClientCommand::Show { id, json } => {
            let id = parse_id(&id)?;
            let Some(client) = store.client(&id).await? else {
                bail!("no client with id `{id}`");
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&describe(&client))?);
            } else {
                println!("client_id:   {}", client.id);
                println!("name:        {}", client.name);
                println!("grant_types: {}", grants(&client));
                println!("scope:       {}", client.scopes);
                let audiences: Vec<_> = client.audiences.iter().map(Resource::as_str).collect();
                println!("audiences:   {}", audiences.join(" "));
                println!("created_at:  {}", client.created_at.0);
            }
        }
        ClientCommand::Delete { id } => {
            let id = parse_id(&id)?;
            if !store.delete_client(&id).await? {
                bail!("no client with id `{id}`");
            }
            eprintln!("deleted client {id}");
        }
        ClientCommand::RotateSecret { id, json } => {
            let id = parse_id(&id)?;
            let Some(secret) = clients::rotate_secret(&*store, &id).await? else {
                bail!("no client with id `{id}`");
            };
            if json {
                println!(
                    "{}",
                    json!({"client_id": id.as_str(), "client_secret": secret.expose()})
                );
            } else {
                println!("client_id:     {id}");
                println!("client_secret: {}", secret.expose());
                eprintln!(
                    "The old secret no longer works (servers notice within client_cache_ttl)."
                );
            }
        }
    }
    Ok(())
}

fn parse_id(id: &str) -> anyhow::Result<ClientId> {
    ClientId::parse(id).with_context(|| format!("`{id}` is not a client id"))
}

fn grants(client: &Client) -> String {
    client
        .grant_types
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn describe(client: &Client) -> serde_json::Value {
    json!({
        "client_id": client.id.as_str(),
        "client_name": client.name,
        "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "scope": client.scopes.to_string(),
        "audiences": client.audiences.iter().map(Resource::as_str).collect::<Vec<_>>(),
        "created_at": client.created_at.0,
    })
}
