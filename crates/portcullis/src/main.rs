//! `portcullis`: the server, its administration, and token tools.

mod admin_client;
mod client;
mod http_client;
mod jwt;
mod keys;
mod login;
mod registration_token;
mod serve;
mod token;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use portcullis_server::settings::LogFormat;
use portcullis_server::{RawSettings, Settings};

/// Portcullis: an OAuth 2.1 / OpenID Connect server.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about)]
struct Cli {
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(subcommand)]
    command: Command,
}

/// Settings shared by every command (flags beat `PORTCULLIS_*` env, which beats the file).
#[derive(Debug, Args)]
struct SettingsArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "PORTCULLIS_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (master key, SQLite database).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite:PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Signing algorithm for new keys: RS256, PS256, ES256, ES384, EdDSA.
    #[arg(long, global = true)]
    signing_alg: Option<String>,
    /// Access token lifetime, e.g. 900 or 15m.
    #[arg(long, global = true)]
    access_token_ttl: Option<String>,
    /// Log at the `log` setting's level (default info), not only warnings
    /// and errors (commands other than `serve`; `RUST_LOG` also works).
    #[arg(long, global = true)]
    verbose: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the authorization server.
    Serve(serve::ServeArgs),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Create clients for the admin API.
    #[command(subcommand)]
    AdminClient(admin_client::AdminClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Manage users (people who sign in).
    #[command(subcommand)]
    User(user::UserCommand),
    /// Initial access tokens for dynamic client registration.
    #[command(subcommand)]
    RegistrationToken(registration_token::RegistrationTokenCommand),
    /// Get tokens from any OAuth 2 provider (this one or another); revoke this server's.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Decode, verify and sign JWTs with any JOSE algorithm.
    #[command(subcommand)]
    Jwt(jwt::JwtCommand),
    /// Sign in on a device without a browser (the device grant, RFC 8628)
    /// at any provider: prints a URL and a code to approve elsewhere, then
    /// the tokens.
    Login(login::LoginArgs),
}

impl SettingsArgs {
    fn raw(&self) -> RawSettings {
        RawSettings {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            signing_alg: self.signing_alg.clone(),
            access_token_ttl: self
                .access_token_ttl
                .clone()
                .map(portcullis_server::settings::DurationSetting::Text),
            ..RawSettings::default()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The client-side tools need no server settings.
    let command = match cli.command {
        Command::Token(command @ token::TokenCommand::ClientCredentials(_)) => {
            return run(token::exec(command), |()| true);
        }
        Command::Jwt(command) => return run(jwt::exec(command), |valid| valid),
        Command::Login(args) => return run(login::exec(args), |()| true),
        command => command,
    };
    let mut raw = cli.settings.raw();
    if let Command::Serve(args) = &command {
        args.apply(&mut raw);
    }
    let settings = match Settings::load(cli.settings.config.as_deref(), &raw) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("portcullis: {err}");
            return ExitCode::from(2);
        }
    };
    // `serve` logs at the `log` setting; other commands print their output
    // and, unless asked, only warnings and errors.
    let filter = match std::env::var("RUST_LOG") {
        Ok(filter) if !filter.is_empty() => filter,
        _ if matches!(command, Command::Serve(_)) || cli.settings.verbose => settings.log.clone(),
        _ => "warn".to_owned(),
    };
    init_logs(&filter, settings.log_format);
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    run(
        async {
            match command {
                Command::Serve(_) => serve::exec(&settings).await,
                Command::Client(command) => client::exec(&settings, command).await,
                Command::AdminClient(command) => admin_client::exec(&settings, command).await,
                Command::Keys(command) => keys::exec(&settings, command).await,
                Command::User(command) => user::exec(&settings, command).await,
                Command::RegistrationToken(command) => {
                    registration_token::exec(&settings, command).await
                }
                Command::Token(_) => token::revoke(&settings).await,
                Command::Jwt(_) | Command::Login(_) => Ok(()),
            }
        },
        |()| true,
    )
}

/// Runs `work` to completion: exit 0 when `success` says so, 1 otherwise
/// (after one `portcullis: ...` line for an error).
fn run<T>(
    work: impl std::future::Future<Output = anyhow::Result<T>>,
    success: impl FnOnce(T) -> bool,
) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("portcullis: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(value) => {
            if success(value) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("portcullis: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logs(filter: &str, format: LogFormat) {
    use std::io::IsTerminal as _;
    // PostgreSQL's notices ("relation ... already exists, skipping") are
    // noise at info, unless the filter asks for sqlx by name.
    let filter = if filter.contains("sqlx") {
        filter.to_owned()
    } else {
        format!("{filter},sqlx::postgres::notice=warn")
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only for a person at a terminal, never into a file or journald.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}
