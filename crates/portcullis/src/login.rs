//! `portcullis login`: a device-flow client (RFC 8628) of any provider that
//! serves it. It prints where to go and the code to type, polls the token
//! endpoint at the interval the provider asks for, and prints the tokens.

use anyhow::{Context as _, bail};
use serde_json::Value;
use std::time::{Duration, Instant};

use crate::http_client::{SecretArgs, basic_auth, client, discover, oauth_error, print_tokens};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The issuer URL; the device authorization and token endpoints are
    /// discovered from it.
    #[arg(long)]
    issuer: String,
    /// The client id (a client registered for the device grant).
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
    /// Print only the access token.
    #[arg(long)]
    raw: bool,
}

pub async fn exec(args: LoginArgs) -> anyhow::Result<()> {
    let secret = args.secret.secret()?;
    let http = client()?;
    let metadata = discover(&http, &args.issuer).await?;
    let endpoint = |name: &str| {
        metadata[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("the provider does not serve the device grant (no {name})"))
    };
    let (device_endpoint, token_endpoint) = (
        endpoint("device_authorization_endpoint")?,
        endpoint("token_endpoint")?,
    );
    let post = |url: &str, form: Vec<(&str, &str)>| {
        let mut request = http.post(url);
        let mut form = form;
        match &secret {
            Some(secret) => request = basic_auth(request, &args.client_id, secret),
            None => form.push(("client_id", &args.client_id)),
        }
        request.form(&form).send()
    };
    let mut form = Vec::new();
    if let Some(scope) = &args.scope {
        form.push(("scope", scope.as_str()));
    }
    let response = post(&device_endpoint, form)
        .await
        .with_context(|| format!("cannot reach {device_endpoint}"))?;
    let status = response.status();
    let started: Value = response
        .json()
        .await
        .with_context(|| format!("{device_endpoint} answered {status} without JSON"))?;
    if !status.is_success() {
        bail!("{}", oauth_error(&started));
    }
    let field = |name: &str| {
        started[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("the device authorization response has no {name}"))
    };
    let device_code = field("device_code")?;
    let user_code = field("user_code")?;
    let verification_uri = field("verification_uri")?;
    // Instructions go to standard error: standard output carries the tokens.
    eprintln!("To sign in, open {verification_uri} and enter the code {user_code}");
    if let Some(complete) = started["verification_uri_complete"].as_str() {
        eprintln!("or open {complete}");
    }
    let mut interval = Duration::from_secs(started["interval"].as_u64().unwrap_or(5).max(1));
    let expires_in = started["expires_in"].as_u64().unwrap_or(600);
    let deadline = Instant::now() + Duration::from_secs(expires_in);
    loop {
        tokio::time::sleep(interval).await;
        if Instant::now() > deadline {
            bail!("the code expired before it was approved; run portcullis login again");
        }
        let mut form = vec![("grant_type", DEVICE_GRANT), ("device_code", &device_code)];
        for resource in &args.resource {
            form.push(("resource", resource));
        }
        let response = match post(&token_endpoint, form).await {
            Ok(response) => response,
            // A network hiccup while polling: try again at the next interval.
            Err(err) => {
                eprintln!("cannot reach {token_endpoint} ({err}); trying again");
                continue;
            }
        };
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("{token_endpoint} answered {status} without JSON"))?;
        if status.is_success() {
            return print_tokens(&body, args.raw);
        }
        match body["error"].as_str() {
            Some("authorization_pending") => {}
            // RFC 8628 3.5: this and every later poll waits 5 seconds more.
            Some("slow_down") => interval += Duration::from_secs(5),
            Some("access_denied") => bail!("the request was denied"),
            Some("expired_token") => {
                bail!("the code expired before it was approved; run portcullis login again")
            }
            _ => bail!("{}", oauth_error(&body)),
        }
    }
}
