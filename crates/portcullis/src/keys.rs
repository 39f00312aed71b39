//! `portcullis keys list|rotate`.

use clap::Subcommand;
use portcullis_core::admin::keys;
use portcullis_core::keyring::KeyRing;
use portcullis_server::{Settings, startup, system_now};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys and their state (next, scheduled, active, retired, expired).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rotate: the pre-published next key starts signing (or a new key of
    /// `signing_alg` is scheduled), and the old key stays published until its
    /// tokens have expired.
    Rotate,
}

pub async fn exec(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let (store, master) = startup::open(settings).await?;
    let now = system_now();
    match command {
        KeysCommand::List { json } => {
            let ring = KeyRing::new(store.keys().await?);
            if json {
                let list: Vec<_> = ring
                    .keys()
                    .map(|k| {
                        json!({
                            "kid": k.kid, "alg": k.alg.as_str(), "state": ring.state(k, now).as_str(),
                            "created_at": k.created_at.0,
                            "activates_at": k.activates_at.map(|t| t.0),
                            "expires_at": k.expires_at.map(|t| t.0),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!(
                    "{:<44} {:<6} {:<10} {:<12} {:<12} EXPIRES",
                    "KID", "ALG", "STATE", "CREATED", "ACTIVATES"
                );
                let opt = |t: Option<portcullis_core::UnixTime>| {
                    t.map_or("-".to_owned(), |t| t.0.to_string())
                };
                for k in ring.keys() {
                    println!(
                        "{:<44} {:<6} {:<10} {:<12} {:<12} {}",
                        k.kid,
                        k.alg.as_str(),
                        ring.state(k, now).as_str(),
                        k.created_at.0,
                        opt(k.activates_at),
                        opt(k.expires_at)
                    );
                }
            }
        }
        KeysCommand::Rotate => {
            keys::bootstrap(&*store, &master, settings.signing_alg, now).await?;
            let plans = keys::rotate(
                &*store,
                &master,
                settings.signing_alg,
                settings.rotation_timings(),
                now,
            )
            .await?;
            for plan in &plans {
                report(plan, now);
            }
        }
    }
    Ok(())
}

/// Prints what one chain's rotation did.
fn report(plan: &portcullis_core::RotationPlan, now: portcullis_core::UnixTime) {
    match &plan.promote {
        Some((kid, at)) if *at <= now => println!("key {kid} now signs new tokens"),
        Some((kid, at)) => println!(
            "key {kid} signs new tokens from {} (in {} s)",
            at.0,
            at.0 - now.0
        ),
        None => {
            let successor = plan.insert.iter().find(|k| k.activates_at.is_some());
            if let Some(k) = successor {
                let at = k.activates_at.map_or(0, |t| t.0);
                println!(
                    "new {} key {} is published and signs from {at} (in {} s)",
                    k.alg,
                    k.kid,
                    at - now.0
                );
            }
        }
    }
    for (kid, until) in &plan.expire {
        println!("key {kid} stays published until {}", until.0);
    }
}
