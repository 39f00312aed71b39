//! Delivering logout tokens (OpenID Connect Back-Channel Logout 1.0): a
//! worker in every replica claims the due notices `core::backchannel` and
//! the store wrote when sessions ended, signs a logout token for each (with
//! the ID token key), POSTs it to the client's `backchannel_logout_uri`,
//! and records the outcome: delivered, retried later, or failed.
//!
//! Off the user's request: a sign-out answers at once, whatever the
//! clients do. Each delivery is bounded (3 s to connect, 5 s in all, no
//! redirects). Clients an administrator created may be on private
//! networks; a self-registered or metadata-document client's URI is only
//! reached at public addresses, so registering one cannot make the server
//! call into its own network.

use std::sync::Arc;
use std::time::Duration;

use portcullis_core::backchannel::{Delivery, LogoutNotice, LogoutTokenClaims, TYP};
use portcullis_core::client_document::names_a_document;
use portcullis_core::{Seconds, UnixTime};
use tokio::task::JoinHandle;

use crate::client_documents::PublicOnly;
use crate::clock::system_now;
use crate::state::AppState;

/// How often the worker looks for due notices.
const POLL: Duration = Duration::from_secs(1);
/// How long a claimed notice is this replica's.
const LEASE: Seconds = Seconds(30);
/// The most notices claimed at once.
const BATCH: u32 = 32;

fn http_client(allow_private: bool) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(5))
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(PublicOnly { allow_private })
        .build()
}

/// Starts the delivery worker; abort the handle to stop it.
pub(crate) fn spawn(state: AppState) -> Result<JoinHandle<()>, reqwest::Error> {
    let anywhere = http_client(true)?;
    let public = http_client(false)?;
    let clients = Arc::new((anywhere, public));
    Ok(tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = system_now();
            let due = match state.store.claim_logout_notices(now, LEASE, BATCH).await {
                Ok(due) => due,
                Err(err) => {
                    tracing::warn!(%err, "logout notices cannot be read");
                    continue;
                }
            };
            for notice in due {
                let (state, clients) = (state.clone(), clients.clone());
                tokio::spawn(async move {
                    let result = deliver(&state, &clients, &notice, system_now()).await;
                    let delivery = Delivery::after(&notice, result, system_now());
                    match &delivery {
                        Delivery::Delivered => {
                            tracing::info!(client_id = %notice.client_id, "logout token delivered");
                        }
                        Delivery::Retry(_, why) => {
                            tracing::info!(client_id = %notice.client_id, %why, "logout token not delivered; will retry");
                        }
                        Delivery::Failed(why) => {
                            tracing::warn!(client_id = %notice.client_id, %why, "logout token not delivered; giving up");
                        }
                    }
                    state.metrics.logout_delivery(match delivery {
                        Delivery::Delivered => "delivered",
                        Delivery::Retry(..) => "retry",
                        Delivery::Failed(_) => "failed",
                    });
                    if let Err(err) = state
                        .store
                        .settle_logout_notice(&notice.id, &delivery, system_now())
                        .await
                    {
                        tracing::warn!(%err, "a logout delivery could not be recorded");
                    }
                });
            }
        }
    }))
}

/// One delivery: the signed logout token POSTed to the client.
async fn deliver(
    state: &AppState,
    (anywhere, public): &(reqwest::Client, reqwest::Client),
    notice: &LogoutNotice,
    now: UnixTime,
) -> Result<(), String> {
    let client = state
        .store
        .client(&notice.client_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the client was deleted")?;
    let uri = client
        .backchannel_logout_uri
        .as_deref()
        .ok_or("the client no longer has a backchannel_logout_uri")?;
    let self_registered = names_a_document(&client.id, true)
        || state
            .store
            .client_registration_token(&client.id)
            .await
            .map_err(|e| e.to_string())?
            .is_some();
    let key = state.id_token_key(now).ok_or("no active signing key")?;
    let claims = LogoutTokenClaims::new(&state.token_policy.issuer, notice, now);
    let token = key.sign_jwt(TYP, &claims).map_err(|e| e.to_string())?;
    let http = if self_registered { public } else { anywhere };
    let response = http
        .post(uri)
        .form(&[("logout_token", token.as_str())])
        .send()
        .await
        .map_err(|e| format!("cannot reach it: {e}"))?;
    match response.status().as_u16() {
        200 | 204 => Ok(()),
        other => Err(format!("it answered {other}")),
    }
}
