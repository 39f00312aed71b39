//! `portcullis jwt decode|verify|encode`: the token debugger, for every JOSE
//! signature algorithm, offline or against any issuer's JWKS.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use clap::{ArgGroup, Subcommand};
use portcullis_jose::{
    AnyAlgorithm, ClaimsPolicy, JsonObject, JwkSet, Verified, Verifier, decode_unverified,
    encode_with_pem, encode_with_secret, parse_any_algorithm,
};
use serde_json::{Value, json};

use crate::http_client;

/// The environment variable read for a shared secret when no key is given.
const SECRET_ENV: &str = "PORTCULLIS_JWT_SECRET";

#[derive(Debug, Subcommand)]
pub enum JwtCommand {
    /// Print a token's header and claims WITHOUT verifying anything.
    Decode(DecodeArgs),
    /// Verify a token's signature and claims. Prints the header and claims
    /// and exits 0 when valid; prints one line `invalid: REASON` and exits 1
    /// when not.
    Verify(VerifyArgs),
    /// Sign claims into a token (HS*, RS*, PS*, ES256, ES384, EdDSA).
    Encode(EncodeArgs),
}

#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// The token; `-` or nothing reads it from standard input.
    token: Option<String>,
}

#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("source").args(["jwks", "key", "secret", "secret_file", "secret_stdin"])))]
pub struct VerifyArgs {
    /// The token; `-` or nothing reads it from standard input.
    token: Option<String>,
    /// The expected issuer (`iss`). Without another key source, its JWKS is
    /// found by discovery.
    #[arg(long, visible_alias = "iss")]
    issuer: Option<String>,
    /// A JWKS (or a single JWK): a file, or an http(s) URL.
    #[arg(long, value_name = "FILE|URL")]
    jwks: Option<String>,
    /// A public key file: PEM (RSA, EC P-256/P-384 or Ed25519), a JWK or a JWKS.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// A shared HMAC secret. Prefer --secret-stdin, --secret-file or
    /// PORTCULLIS_JWT_SECRET: other users can read a process's arguments.
    #[arg(long)]
    secret: Option<String>,
    /// A file holding the shared HMAC secret (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Read the shared HMAC secret from standard input (the token then comes
    /// from the command line).
    #[arg(long)]
    secret_stdin: bool,
    /// An accepted audience (`aud`); repeatable. Without it `aud` is not checked.
    #[arg(long = "audience", visible_alias = "aud", value_name = "AUD")]
    audiences: Vec<String>,
    /// Tolerated clock skew for `exp`, `nbf` and `iat`, e.g. 30s.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    leeway: Duration,
    /// Require this header `typ`, e.g. at+jwt for RFC 9068 access tokens.
    #[arg(long)]
    typ: Option<String>,
    /// Refuse a token without `exp` (by default one is accepted, with a note).
    #[arg(long)]
    require_exp: bool,
}

#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("signer").args(["key", "secret", "secret_file", "secret_stdin"])))]
pub struct EncodeArgs {
    /// The algorithm; HS256 by default with a secret. Required with --key.
    #[arg(long)]
    alg: Option<String>,
    /// A PEM private key file (PKCS#8; PKCS#1 for RSA and SEC1 for EC work too).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// A shared HMAC secret. Prefer --secret-stdin, --secret-file or
    /// PORTCULLIS_JWT_SECRET.
    #[arg(long)]
    secret: Option<String>,
    /// A file holding the shared HMAC secret (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Read the shared HMAC secret from standard input.
    #[arg(long)]
    secret_stdin: bool,
    /// The claims as a JSON object, `@FILE`, or `-` for standard input.
    #[arg(value_name = "CLAIMS_JSON")]
    claims_arg: Option<String>,
    /// The claims, like CLAIMS_JSON.
    #[arg(long, conflicts_with = "claims_arg")]
    claims: Option<String>,
    /// One claim, NAME=VALUE; VALUE is read as JSON when it parses (5, true,
    /// ["a","b"]) and as a string otherwise. Repeatable; overrides --claims.
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    claim: Vec<String>,
    /// Set `exp` to now + this duration, e.g. 25s or 15m.
    #[arg(long, visible_alias = "expires-in", value_parser = parse_duration)]
    exp: Option<Duration>,
    /// Set `nbf` to now + this duration (0s: valid from now).
    #[arg(long, value_parser = parse_duration)]
    nbf: Option<Duration>,
    /// Set `iat` to now.
    #[arg(long)]
    iat: bool,
}

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text.trim())
            .map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. 30 or 15m")),
    }
}

/// Runs a `jwt` command; `Ok(false)` means the token is not valid (the
/// reason is already on standard error).
pub async fn exec(command: JwtCommand) -> anyhow::Result<bool> {
    match command {
        JwtCommand::Decode(args) => {
            let token = read_token(args.token.as_deref())?;
            let (header, claims) = match decode_unverified(&token) {
                Ok(parts) => parts,
                Err(err) => {
                    eprintln!("invalid: {err}");
                    return Ok(false);
                }
            };
            eprintln!("note: NOT verified; use `portcullis jwt verify` to check the signature");
            print_json(&header, &claims)?;
            Ok(true)
        }
        JwtCommand::Verify(args) => verify(args).await,
        JwtCommand::Encode(args) => {
            println!("{}", encode(args)?);
            Ok(true)
        }
    }
}

async fn verify(args: VerifyArgs) -> anyhow::Result<bool> {
    let secret_on_stdin = args.secret_stdin || args.secret_file.as_deref() == Some(Path::new("-"));
    if secret_on_stdin && matches!(args.token.as_deref(), None | Some("-")) {
        bail!("the secret comes from standard input, so give the token as an argument");
    }
    let token = read_token(args.token.as_deref())?;
    let verifier = verifier(&args).await?;
    let mut policy = match (&args.issuer, args.audiences.is_empty()) {
        (Some(issuer), false) => ClaimsPolicy::new(issuer.clone(), args.audiences.clone()),
        (Some(issuer), true) => ClaimsPolicy::issuer_only(issuer.clone()),
        (None, false) => ClaimsPolicy::audience_only(args.audiences.clone()),
        (None, true) => ClaimsPolicy::times_only(),
    };
    policy = policy.leeway(i64::try_from(args.leeway.as_secs()).unwrap_or(i64::MAX));
    if let Some(typ) = &args.typ {
        policy = policy.require_type(typ.clone());
    }
    if !args.require_exp {
        policy = policy.exp_optional();
    }
    match verifier.verify(&token, &policy, unix_now()) {
        Ok(verified) => {
            eprintln!("{}", summary(&verified, &args));
            print_json(&verified.header, &verified.claims)?;
            Ok(true)
        }
        Err(err) => {
            eprintln!("invalid: {err}");
            Ok(false)
        }
    }
}

/// One line on standard error: what was checked, and what was not.
fn summary(verified: &Verified, args: &VerifyArgs) -> String {
    let alg = verified.header["alg"].as_str().unwrap_or("?");
    let mut checked = vec![match &verified.kid {
        Some(kid) => format!("{alg} signature (kid {kid})"),
        None => format!("{alg} signature"),
    }];
    let mut unchecked = Vec::new();
    for (claim, present) in [
        ("exp", verified.claims.contains_key("exp")),
        ("nbf", verified.claims.contains_key("nbf")),
        ("iat", verified.claims.contains_key("iat")),
    ] {
        if present {
            checked.push(claim.to_owned());
        }
    }
    if !verified.claims.contains_key("exp") {
        unchecked.push("exp (absent: the token never expires)");
    }
    match &args.issuer {
        Some(_) => checked.push("iss".to_owned()),
        None => unchecked.push("iss (give --issuer)"),
    }
    if args.audiences.is_empty() {
        unchecked.push("aud (give --audience)");
    } else {
        checked.push("aud".to_owned());
    }
    if args.typ.is_some() {
        checked.push("typ".to_owned());
    }
    let mut line = format!("valid: {}", checked.join(", "));
    if !unchecked.is_empty() {
        line.push_str(&format!("; not checked: {}", unchecked.join(", ")));
    }
    line
}

async fn verifier(args: &VerifyArgs) -> anyhow::Result<Verifier> {
    if let Some(path) = &args.key {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        if bytes.trim_ascii_start().starts_with(b"{") {
            let text = String::from_utf8_lossy(&bytes);
            let jwks = parse_jwks(&text)
                .with_context(|| format!("{} is not a JWK or a JWKS", path.display()))?;
            return Verifier::from_jwks(&jwks).with_context(|| format!("{}", path.display()));
        }
        return Verifier::from_pem(&bytes).with_context(|| format!("{}", path.display()));
    }
    if let Some(secret) = secret(
        args.secret.as_deref(),
        args.secret_file.as_deref(),
        args.secret_stdin,
    )? {
        return Ok(Verifier::hmac(secret.as_bytes()));
    }
    let jwks = match (&args.jwks, &args.issuer) {
        (Some(source), _) => load_jwks(source).await?,
        (None, Some(issuer)) => {
            let http = http_client::client()?;
            let document = http_client::discover(&http, issuer).await?;
            let uri = document["jwks_uri"]
                .as_str()
                .context("the discovery document has no jwks_uri")?;
            fetch_jwks(&http, uri).await?
        }
        (None, None) => bail!(
            "no key to verify with: give --issuer, --jwks, --key, --secret-stdin or {SECRET_ENV}"
        ),
    };
    Verifier::from_jwks(&jwks).context("the JWKS")
}

async fn load_jwks(source: &str) -> anyhow::Result<JwkSet> {
    if source.starts_with("https://") || source.starts_with("http://") {
        return fetch_jwks(&http_client::client()?, source).await;
    }
    let text = std::fs::read_to_string(source).with_context(|| format!("cannot read {source}"))?;
    parse_jwks(&text).with_context(|| format!("{source} is not a JWKS or a JWK"))
}

async fn fetch_jwks(http: &reqwest::Client, url: &str) -> anyhow::Result<JwkSet> {
    let response = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    let text = response
        .text()
        .await
        .with_context(|| format!("cannot read {url}"))?;
    parse_jwks(&text).with_context(|| format!("{url} is not a JWKS"))
}

/// A JWKS, or a single JWK taken as a set of one.
fn parse_jwks(text: &str) -> anyhow::Result<JwkSet> {
    let value: Value = serde_json::from_str(text)?;
    if value.get("keys").is_some() {
        Ok(serde_json::from_value(value)?)
    } else {
        Ok(JwkSet {
            keys: vec![serde_json::from_value(value)?],
        })
    }
}

fn encode(args: EncodeArgs) -> anyhow::Result<String> {
    let mut claims = match args.claims.as_deref().or(args.claims_arg.as_deref()) {
        None => JsonObject::new(),
        Some(text) => {
            let text = match text {
                "-" => read_stdin()?,
                _ => match text.strip_prefix('@') {
                    Some(path) => std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {path}"))?,
                    None => text.to_owned(),
                },
            };
            match serde_json::from_str(&text) {
                Ok(Value::Object(object)) => object,
                _ => bail!("--claims must be a JSON object"),
            }
        }
    };
    for pair in &args.claim {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("--claim `{pair}` is not NAME=VALUE");
        };
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.into()));
        claims.insert(name.to_owned(), value);
    }
    let now = unix_now();
    let later = |d: Duration| now.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if let Some(lifetime) = args.exp {
        claims.insert("exp".into(), json!(later(lifetime)));
    }
    if let Some(delay) = args.nbf {
        claims.insert("nbf".into(), json!(later(delay)));
    }
    if args.iat {
        claims.insert("iat".into(), json!(now));
    }
    let claims = Value::Object(claims);
    let alg = |default: Option<AnyAlgorithm>| -> anyhow::Result<AnyAlgorithm> {
        match (&args.alg, default) {
            (Some(name), _) => Ok(parse_any_algorithm(name)?),
            (None, Some(alg)) => Ok(alg),
            (None, None) => bail!("give --alg with --key (e.g. RS256, PS256, ES256, EdDSA)"),
        }
    };
    if let Some(path) = &args.key {
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(encode_with_pem(alg(None)?, &pem, &claims)?);
    }
    match secret(
        args.secret.as_deref(),
        args.secret_file.as_deref(),
        args.secret_stdin,
    )? {
        Some(secret) => Ok(encode_with_secret(
            alg(Some(AnyAlgorithm::HS256))?,
            secret.as_bytes(),
            &claims,
        )?),
        None => bail!("no key to sign with: give --key, --secret-stdin or {SECRET_ENV}"),
    }
}

/// The shared secret from the flag, a file, standard input, or the
/// environment, in that order.
fn secret(flag: Option<&str>, file: Option<&Path>, stdin: bool) -> anyhow::Result<Option<String>> {
    if let Some(secret) = flag {
        return Ok(Some(secret.to_owned()));
    }
    let file = if stdin { Some(Path::new("-")) } else { file };
    if let Some(path) = file {
        let text = if path == Path::new("-") {
            read_stdin()?
        } else {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?
        };
        return Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()));
    }
    Ok(std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty()))
}

fn read_token(arg: Option<&str>) -> anyhow::Result<String> {
    let token = match arg {
        None | Some("-") => read_stdin()?,
        Some(token) => token.to_owned(),
    };
    let token = token.trim();
    // Accept a pasted `Authorization` header value as well.
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    if token.is_empty() {
        bail!("no token given");
    }
    Ok(token.to_owned())
}

fn read_stdin() -> anyhow::Result<String> {
    std::io::read_to_string(std::io::stdin()).context("cannot read standard input")
}

/// Prints the header, the claims, and the time claims as dates with what they
/// mean now (`expired`, `not yet valid`).
fn print_json(header: &JsonObject, claims: &JsonObject) -> anyhow::Result<()> {
    let now = unix_now();
    let mut times = JsonObject::new();
    for name in ["iat", "nbf", "exp", "auth_time"] {
        let Some(seconds) = claims.get(name).and_then(Value::as_f64) else {
            continue;
        };
        let seconds = seconds as i64;
        let date = u64::try_from(seconds)
            .ok()
            .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
            .map_or_else(
                || format!("{seconds} (not a representable date)"),
                |t| humantime::format_rfc3339_seconds(t).to_string(),
            );
        let state = match name {
            "exp" if seconds <= now => " (expired)",
            "exp" => " (not expired)",
            "nbf" if seconds > now => " (not yet valid)",
            "iat" if seconds > now => " (in the future)",
            _ => "",
        };
        times.insert(name.to_owned(), Value::String(format!("{date}{state}")));
    }
    let mut all = json!({"header": header, "claims": claims});
    if !times.is_empty() {
        all["times"] = Value::Object(times);
    }
    println!("{}", serde_json::to_string_pretty(&all)?);
    Ok(())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
