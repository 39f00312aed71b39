//! A real Portcullis server running inside the test process, on `127.0.0.1:0`.

use std::sync::Arc;

use portcullis_core::admin::clients;
use portcullis_core::{GrantType, NewClient, Resource, ScopeSet, Store};
use portcullis_server::{RawSettings, Settings, startup, system_now};
use tokio::sync::oneshot;

use crate::TestDatabase;

/// A Portcullis server in this process; stopped when dropped.
#[derive(Debug)]
pub struct InProcessServer {
    /// Its base URL, also its issuer.
    pub url: String,
    store: Arc<dyn Store>,
    stop: Option<oneshot::Sender<()>>,
}

impl InProcessServer {
    /// Starts a server over `db`; `configure` may change any setting.
    pub async fn start(db: &TestDatabase, configure: impl FnOnce(&mut RawSettings)) -> Self {
        let mut raw = RawSettings {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(db.dir.path().to_owned()),
            database_url: Some(db.url.clone()),
            ..RawSettings::default()
        };
        configure(&mut raw);
        let settings = Settings::load(None, &raw).expect("valid test settings");
        let server = startup::prepare(&settings).await.expect("server starts");
        let url = server.local_url();
        let (store, _) = startup::open(&settings).await.expect("store opens");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        InProcessServer {
            url,
            store,
            stop: Some(stop),
        }
    }

    /// Registers a client_credentials client; returns `(client_id, client_secret)`.
    pub async fn create_client(&self, scope: &str, audiences: &[&str]) -> (String, String) {
        let new = NewClient {
            name: "test".into(),
            grant_types: vec![GrantType::ClientCredentials],
            scopes: ScopeSet::parse(scope).expect("valid scopes"),
            audiences: audiences
                .iter()
                .map(|a| Resource::parse(a).expect("absolute URI"))
                .collect(),
            ..NewClient::default()
        };
        let (client, secret) = clients::create(&*self.store, new, system_now())
            .await
            .expect("client stored");
        let secret = secret.expect("a confidential client has a secret");
        (client.id.to_string(), secret.expose().to_owned())
    }

    /// Gets an access token with the client credentials grant.
    pub async fn token(&self, id: &str, secret: &str, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/token", self.url))
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("token response");
        response["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {response}"))
            .to_owned()
    }

    /// The server's store, to change state behind its back.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
