//! `portcullis user ...`: create, list, show, set-password, disable, enable, delete.
//!
//! Passwords are read from standard input only: a process's arguments are
//! visible to every user of the machine.

use anyhow::{Context as _, bail};
use clap::Subcommand;
use portcullis_core::admin::{grants, users};
use portcullis_core::password::{Password, PasswordHash, PasswordOwner};
use portcullis_core::sign_in::PasswordWork as _;
use portcullis_core::user::{NewUser, Profile, User, Username};
use portcullis_server::password_work::BlockingPasswordWork;
use portcullis_server::{Settings, startup, system_now};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is the first line of standard input.
    Create {
        /// The sign-in name (unique regardless of case).
        #[arg(long)]
        username: String,
        /// Email address (the `email` claim).
        #[arg(long)]
        email: Option<String>,
        /// Mark the email address as verified (`email_verified`).
        #[arg(long, requires = "email")]
        email_verified: bool,
        /// Full name (the `name` claim).
        #[arg(long)]
        name: Option<String>,
        /// Given name.
        #[arg(long)]
        given_name: Option<String>,
        /// Family name.
        #[arg(long)]
        family_name: Option<String>,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List users (never their password hashes).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one user.
    Show {
        /// The username (any case).
        username: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password from standard input; their sessions end.
    SetPassword {
        /// The username (any case).
        username: String,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable a user: they can no longer sign in or refresh tokens.
    Disable {
        /// The username (any case).
        username: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// The username (any case).
        username: String,
    },
    /// Delete a user.
    Delete {
        /// The username (any case).
        username: String,
    },
    /// Sign a user out of every browser.
    SignOut {
        /// The username (any case).
        username: String,
    },
    /// List the clients a user allowed, or withdraw one (--revoke CLIENT_ID):
    /// consent is asked again and its refresh tokens for the user stop working.
    Grants {
        /// The username (any case).
        username: String,
        /// Withdraw what the user allowed this client.
        #[arg(long, allow_hyphen_values = true)]
        revoke: Option<String>,
    },
}

pub async fn exec(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let (store, _) = startup::open(settings).await?;
    match command {
        UserCommand::Create {
            username,
            email,
            email_verified,
            name,
            given_name,
            family_name,
            password_stdin: _,
            json,
        } => {
            let username = parse_username(&username)?;
            let profile = Profile {
                email,
                email_verified,
                name,
                given_name,
                family_name,
            };
            profile.validate()?;
            let owner = PasswordOwner {
                username: username.as_str(),
                email: profile.email.as_deref(),
            };
            let password_hash = hash(read_password(settings, owner)?).await?;
            let new = NewUser {
                username,
                profile,
                password_hash,
            };
            let user = users::create(&*store, new, system_now()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&describe(&user))?);
            } else {
                println!("created user {} (sub {})", user.username, user.id);
            }
        }
        UserCommand::List { json } => {
            let all = store.users().await?;
            if json {
                let list: Vec<_> = all.iter().map(describe).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!("{:<24} {:<24} {:<9} EMAIL", "USERNAME", "SUB", "STATUS");
                for u in &all {
                    println!(
                        "{:<24} {:<24} {:<9} {}",
                        u.username,
                        u.id,
                        status(u),
                        u.profile.email.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        UserCommand::Show { username, json } => {
            let user = users::find(&*store, &parse_username(&username)?).await?;
            let value = describe(&user);
            if json {
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else if let Some(fields) = value.as_object() {
                for (name, v) in fields {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    println!("{:<20} {text}", format!("{name}:"));
                }
            }
        }
        UserCommand::SetPassword { username, .. } => {
            let user = users::find(&*store, &parse_username(&username)?).await?;
            let owner = PasswordOwner {
                username: user.username.as_str(),
                email: user.profile.email.as_deref(),
            };
            let password_hash = hash(read_password(settings, owner)?).await?;
            let user =
                users::set_password(&*store, &user.username, &password_hash, system_now()).await?;
            println!("password of {} set", user.username);
        }
        UserCommand::Disable { username } => {
            let user =
                users::set_disabled(&*store, &parse_username(&username)?, true, system_now())
                    .await?;
            println!(
                "{} disabled; their sessions and refresh tokens ended",
                user.username
            );
        }
        UserCommand::Enable { username } => {
            let user =
                users::set_disabled(&*store, &parse_username(&username)?, false, system_now())
                    .await?;
            println!("{} enabled", user.username);
        }
        UserCommand::Delete { username } => {
            let user = users::delete(&*store, &parse_username(&username)?, system_now()).await?;
            println!("{} deleted", user.username);
        }
        UserCommand::SignOut { username } => {
            let user =
                users::end_sessions(&*store, &parse_username(&username)?, system_now()).await?;
            println!("{} signed out everywhere", user.username);
        }
        UserCommand::Grants { username, revoke } => {
            let username = parse_username(&username)?;
            match revoke {
                Some(client) => {
                    let id = portcullis_core::ClientId::parse(&client)
                        .with_context(|| format!("`{client}` is not a client id"))?;
                    if !grants::revoke(&*store, &username, &id, system_now()).await? {
                        bail!("{username} has not allowed client `{client}`");
                    }
                    println!("{username} no longer allows {client}");
                }
                None => {
                    println!("{:<24} {:<20} SCOPE", "CLIENT_ID", "GRANTED_AT");
                    for grant in grants::list(&*store, &username).await? {
                        println!(
                            "{:<24} {:<20} {}",
                            grant.client_id, grant.granted_at.0, grant.scope
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

fn parse_username(text: &str) -> anyhow::Result<Username> {
    Username::parse(text).with_context(|| format!("--username `{text}`"))
}

/// The first line of standard input, checked against the password policy.
fn read_password(settings: &Settings, owner: PasswordOwner<'_>) -> anyhow::Result<Password> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let text = line.trim_end_matches(['\r', '\n']);
    if text.is_empty() {
        bail!("no password on standard input");
    }
    let password = settings.password_policy.check(text, owner)?;
    line.clear();
    Ok(password)
}

/// Argon2id on the blocking pool, as the server does it.
async fn hash(password: Password) -> anyhow::Result<PasswordHash> {
    Ok(BlockingPasswordWork.hash(password).await)
}

fn status(user: &User) -> &'static str {
    if user.disabled { "disabled" } else { "active" }
}

fn describe(user: &User) -> serde_json::Value {
    let p = &user.profile;
    json!({
        "sub": user.id.as_str(),
        "username": user.username.as_str(),
        "email": p.email,
        "email_verified": p.email_verified,
        "name": p.name,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "status": status(user),
        "created_at": user.created_at.0,
        "password_changed_at": user.password_changed_at.0,
    })
}
