//! A short-lived cache of client lookups, so `/token` usually skips the database.
//!
//! Correctness never depends on it: an entry lives at most `ttl`, so a client
//! deleted or given a new secret by another process stops working within `ttl`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use portcullis_core::{Client, ClientId, Store, StoreError};

const MAX_ENTRIES: usize = 100_000;

/// A lookup result and when it was made.
type Entry = (Instant, Option<Arc<Client>>);

/// Client lookups, positive and negative, remembered for `ttl`.
#[derive(Debug)]
pub(crate) struct ClientCache {
    ttl: Duration,
    entries: RwLock<HashMap<ClientId, Entry>>,
    /// Clients known by their metadata documents, when they are accepted.
    documents: Option<crate::client_documents::DocumentClients>,
}

impl ClientCache {
    pub fn new(ttl: Duration, documents: Option<crate::client_documents::DocumentClients>) -> Self {
        ClientCache {
            ttl,
            entries: RwLock::new(HashMap::new()),
            documents,
        }
    }

    /// The client with this id, from the cache when fresh, else from the store.
    pub async fn get(
        &self,
        store: &dyn Store,
        id: &ClientId,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        if let Some(documents) = &self.documents
            && documents.names(id)
        {
            return documents.get(store, id).await;
        }
        if !self.ttl.is_zero()
            && let Ok(entries) = self.entries.read()
            && let Some((at, client)) = entries.get(id)
            && at.elapsed() < self.ttl
        {
            return Ok(client.clone());
        }
        let client = store.client(id).await?.map(Arc::new);
        if !self.ttl.is_zero()
            && let Ok(mut entries) = self.entries.write()
        {
            if entries.len() >= MAX_ENTRIES {
                let ttl = self.ttl;
                entries.retain(|_, (at, _)| at.elapsed() < ttl);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(id.clone(), (Instant::now(), client.clone()));
        }
        Ok(client)
    }
}
