//! The CLI's HTTP client side: discovery against any standard provider.

use anyhow::{Context as _, bail};
use serde_json::Value;

/// A client with a short timeout; the CLI never waits long on a provider.
pub fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .context("cannot build the HTTP client")
}

/// The issuer's metadata: OIDC discovery, else RFC 8414. Checks that the
/// document names this issuer.
pub async fn discover(http: &reqwest::Client, issuer: &str) -> anyhow::Result<Value> {
    let base = issuer.trim_end_matches('/');
    let mut failures = Vec::new();
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let url = format!("{base}{path}");
        match http.get(&url).send().await {
            Ok(response) if response.status().is_success() => {
                let document: Value = response
                    .json()
                    .await
                    .with_context(|| format!("{url} is not JSON"))?;
                let named = document["issuer"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_end_matches('/');
                if named != base {
                    bail!("{url} names issuer `{named}`, not `{base}`");
                }
                return Ok(document);
            }
            Ok(response) => failures.push(format!("{url}: {}", response.status())),
            Err(err) => failures.push(format!("{url}: {err}")),
        }
    }
    bail!("no discovery document: {}", failures.join("; "))
}

/// A client secret from a flag, the environment or standard input.
#[derive(Debug, clap::Args)]
pub struct SecretArgs {
    /// The client secret. Prefer --client-secret-stdin or PORTCULLIS_CLIENT_SECRET:
    /// other users can read a process's arguments.
    #[arg(long, env = "PORTCULLIS_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Read the client secret from the first line of standard input.
    #[arg(long, conflicts_with = "client_secret")]
    client_secret_stdin: bool,
}

impl SecretArgs {
    /// The secret, if one was given.
    pub fn secret(&self) -> anyhow::Result<Option<String>> {
        if self.client_secret_stdin {
            return read_stdin_line().map(Some);
        }
        Ok(self.client_secret.clone())
    }
}

/// `request` authenticated with HTTP Basic as `id` and `secret`, both
/// form-encoded first (RFC 6749 section 2.3.1).
pub fn basic_auth(
    request: reqwest::RequestBuilder,
    id: &str,
    secret: &str,
) -> reqwest::RequestBuilder {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    request.basic_auth(encode(id), Some(encode(secret)))
}

/// An OAuth error response (RFC 6749 5.2) as one line: `code: description`.
pub fn oauth_error(body: &Value) -> String {
    format!(
        "{}: {}",
        body["error"].as_str().unwrap_or("error"),
        body["error_description"]
            .as_str()
            .unwrap_or("(no description)")
    )
}

/// Prints a token response: the whole of it, or with `raw` only the
/// access token.
pub fn print_tokens(body: &Value, raw: bool) -> anyhow::Result<()> {
    let token = body["access_token"]
        .as_str()
        .context("the response has no access_token")?;
    if raw {
        println!("{token}");
    } else {
        println!("{}", serde_json::to_string_pretty(body)?);
    }
    Ok(())
}

/// Reads one line from standard input (a secret piped in), without its newline.
pub fn read_stdin_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
