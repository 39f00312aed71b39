//! `portcullis client ...`: create, list, show, delete, rotate-secret.

use anyhow::{Context as _, bail};
use clap::Subcommand;
use portcullis_core::admin::clients;
use portcullis_core::redirect_uri::RedirectUri;
use portcullis_core::{Client, ClientId, GrantType, NewClient, Resource, ScopeSet};
use portcullis_server::{Settings, startup, system_now};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its secret once (none for a public client).
    Create {
        /// A human-readable name, shown to people on the consent page.
        #[arg(long)]
        name: String,
        /// A grant type it may use (repeatable): client_credentials,
        /// authorization_code, refresh_token, password, implicit, device_code,
        /// token_exchange (short for the RFC 8628 and RFC 8693 grant URNs).
        #[arg(long = "grant-type", required = true)]
        grant_types: Vec<String>,
        /// Where authorization responses may be sent (repeatable; exact match).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Where the user may be sent after signing out (repeatable; exact match).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (SPA, native or CLI app): no secret, PKCE mandatory.
        #[arg(long)]
        public: bool,
        /// PKCE on every authorization request; otherwise a confidential
        /// client's OpenID Connect request with a nonce may leave it out.
        #[arg(long)]
        require_pkce: bool,
        /// Its token exchanges (the token-exchange grant) may leave out the
        /// actor token: the issued token then speaks for the subject alone.
        #[arg(long)]
        allow_impersonation: bool,
        /// Where to send logout tokens when a session it signed in through
        /// ends (OpenID Connect Back-Channel Logout).
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// Its logout tokens must carry `sid` (they always do).
        #[arg(long, requires = "backchannel_logout_uri")]
        backchannel_logout_session_required: bool,
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
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a client; its secret stops working at once.
    Delete {
        /// The client id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Give a client a new secret; prints it once. The old one stops working.
    RotateSecret {
        /// The client id.
        #[arg(allow_hyphen_values = true)]
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
            redirect_uris,
            post_logout_redirect_uris,
            public,
            require_pkce,
            allow_impersonation,
            backchannel_logout_uri,
            backchannel_logout_session_required,
            scope,
            audiences,
            json,
        } => {
            let uris = |list: &[String], flag: &str| -> anyhow::Result<Vec<RedirectUri>> {
                list.iter()
                    .map(|u| RedirectUri::parse(u).with_context(|| format!("--{flag}")))
                    .collect()
            };
            let new = NewClient {
                name,
                grant_types: grant_types
                    .iter()
                    // Short names for the device and token exchange grants' URNs.
                    .map(|g| match g.as_str() {
                        "device_code" => Ok(GrantType::DeviceCode),
                        "token_exchange" => Ok(GrantType::TokenExchange),
                        other => other.parse::<GrantType>().map_err(anyhow::Error::msg),
                    })
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
                redirect_uris: uris(&redirect_uris, "redirect-uri")?,
                post_logout_redirect_uris: uris(
                    &post_logout_redirect_uris,
                    "post-logout-redirect-uri",
                )?,
                public,
                require_pkce,
                allow_impersonation,
                backchannel_logout_uri: backchannel_logout_uri
                    .map(|u| portcullis_core::backchannel::check_uri(&u))
                    .transpose()
                    .map_err(anyhow::Error::msg)?,
                backchannel_logout_session_required,
            };
            let (client, secret) = clients::create(&*store, new, system_now()).await?;
            for warning in client.grant_types.iter().filter_map(|g| g.warning()) {
                eprintln!("warning: {warning}");
            }
            if json {
                let mut value = describe(&client);
                if let Some(secret) = &secret {
                    value["client_secret"] = json!(secret.expose());
                }
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                println!("client_id:     {}", client.id);
                match &secret {
                    Some(secret) => {
                        println!("client_secret: {}", secret.expose());
                        eprintln!("The secret is shown only now; store it safely.");
                    }
                    None => eprintln!("A public client: no secret; it must use PKCE."),
                }
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
                let join = |uris: &[RedirectUri]| {
                    uris.iter()
                        .map(RedirectUri::as_str)
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                println!("client_id:     {}", client.id);
                println!("name:          {}", client.name);
                println!("type:          {}", client_type(&client));
                println!("grant_types:   {}", grants(&client));
                println!("scope:         {}", client.scopes);
                let audiences: Vec<_> = client.audiences.iter().map(Resource::as_str).collect();
                println!("audiences:     {}", audiences.join(" "));
                println!("redirect_uris: {}", join(&client.redirect_uris));
                println!("post_logout:   {}", join(&client.post_logout_redirect_uris));
                println!("require_pkce:  {}", pkce_rule(&client));
                if client.allows(GrantType::TokenExchange) {
                    println!("impersonation: {}", client.allow_impersonation);
                }
                if let Some(uri) = &client.backchannel_logout_uri {
                    println!("backchannel:   {uri}");
                }
                println!("created_at:    {}", client.created_at.0);
            }
        }
        ClientCommand::Delete { id } => {
            let id = parse_id(&id)?;
            if !clients::delete(&*store, &id, system_now()).await? {
                bail!("no client with id `{id}`");
            }
            eprintln!("deleted client {id}; its refresh tokens are revoked");
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

fn client_type(client: &Client) -> &'static str {
    if client.is_public() {
        "public"
    } else {
        "confidential"
    }
}

fn describe(client: &Client) -> serde_json::Value {
    fn uris(list: &[RedirectUri]) -> Vec<&str> {
        list.iter().map(RedirectUri::as_str).collect()
    }
    json!({
        "client_id": client.id.as_str(),
        "client_name": client.name,
        "client_type": client_type(client),
        "token_endpoint_auth_method": if client.is_public() { "none" } else { "client_secret_basic" },
        "redirect_uris": uris(&client.redirect_uris),
        "post_logout_redirect_uris": uris(&client.post_logout_redirect_uris),
        "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "scope": client.scopes.to_string(),
        "audiences": client.audiences.iter().map(Resource::as_str).collect::<Vec<_>>(),
        "require_pkce": client.require_pkce || client.is_public(),
        "allow_impersonation": client.allow_impersonation,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "backchannel_logout_session_required": client.backchannel_logout_session_required,
        "created_at": client.created_at.0,
    })
}

/// When the client's authorization requests need PKCE.
fn pkce_rule(client: &Client) -> &'static str {
    if client.is_public() {
        "always (public client)"
    } else if client.require_pkce {
        "always"
    } else {
        "unless an OpenID Connect request carries a nonce"
    }
}
