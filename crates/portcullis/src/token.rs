//! `portcullis token client-credentials`: get a token from any standard
//! provider; `portcullis token revoke`: revoke one of this server's tokens.

use anyhow::{Context as _, bail};
use clap::{Subcommand, ValueEnum};
use serde_json::Value;

use portcullis_core::admin::tokens;
use portcullis_core::revocation::Revoked;
use portcullis_server::{Settings, startup, system_now};

use crate::http_client::{
    SecretArgs, basic_auth, client, discover, oauth_error, print_tokens, read_stdin_line,
};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Get an access token with the client credentials grant.
    ClientCredentials(ClientCredentialsArgs),
    /// Revoke an access or refresh token issued by this server (read from
    /// standard input), whichever client holds it: an access token is
    /// refused by introspection and /userinfo until it expires, a refresh
    /// token's whole family stops working.
    Revoke,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AuthMethod {
    /// HTTP Basic (client_secret_basic).
    Basic,
    /// In the form body (client_secret_post).
    Post,
}

#[derive(Debug, clap::Args)]
pub struct ClientCredentialsArgs {
    /// The issuer URL; the token endpoint is discovered from it.
    #[arg(long, required_unless_present = "token_endpoint")]
    issuer: Option<String>,
    /// The token endpoint, instead of discovery.
    #[arg(long)]
    token_endpoint: Option<String>,
    /// The client id.
    #[arg(long, allow_hyphen_values = true)]
    client_id: String,
    #[command(flatten)]
    secret: SecretArgs,
    /// Scopes to ask for, space-separated.
    #[arg(long)]
    scope: Option<String>,
    /// A resource (audience) to ask for (RFC 8707); repeatable.
    #[arg(long)]
    resource: Vec<String>,
    /// How to send the credentials.
    #[arg(long, value_enum, default_value_t = AuthMethod::Basic)]
    auth: AuthMethod,
    /// Print only the access token.
    #[arg(long)]
    raw: bool,
}

/// `portcullis token revoke`, on this server's database.
pub async fn revoke(settings: &Settings) -> anyhow::Result<()> {
    let token = read_stdin_line().context("give the token on standard input")?;
    if token.is_empty() {
        bail!("give the token on standard input");
    }
    let (store, _) = startup::open(settings).await?;
    match tokens::revoke(&*store, &token, system_now()).await? {
        Revoked::AccessToken => println!("access token revoked until it expires"),
        Revoked::RefreshFamily => {
            println!("refresh token revoked, with every token of its sign-in")
        }
        Revoked::Nothing => bail!("not a live token of this server"),
    }
    Ok(())
}

pub async fn exec(command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::ClientCredentials(args) = command else {
        bail!("this command needs the server's settings");
    };
    let Some(secret) = args.secret.secret()? else {
        bail!("no client secret: use --client-secret-stdin or PORTCULLIS_CLIENT_SECRET")
    };
    let http = client()?;
    let endpoint = match (&args.token_endpoint, &args.issuer) {
        (Some(endpoint), _) => endpoint.clone(),
        (None, Some(issuer)) => discover(&http, issuer).await?["token_endpoint"]
            .as_str()
            .context("the discovery document has no token_endpoint")?
            .to_owned(),
        (None, None) => bail!("give --issuer or --token-endpoint"),
    };
    let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    if let Some(scope) = &args.scope {
        form.push(("scope", scope));
    }
    for resource in &args.resource {
        form.push(("resource", resource));
    }
    let mut request = http.post(&endpoint);
    match args.auth {
        AuthMethod::Basic => request = basic_auth(request, &args.client_id, &secret),
        AuthMethod::Post => {
            form.push(("client_id", &args.client_id));
            form.push(("client_secret", &secret));
        }
    }
    let response = request
        .form(&form)
        .send()
        .await
        .with_context(|| format!("cannot reach {endpoint}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("{endpoint} answered {status} without JSON"))?;
    if !status.is_success() {
        bail!("{}", oauth_error(&body));
    }
    print_tokens(&body, args.raw)
}
