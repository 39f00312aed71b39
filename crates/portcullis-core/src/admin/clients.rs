//! Creating, listing, deleting clients and rotating their secrets.

use crate::{Client, ClientId, ClientSecret, NewClient, Store, StoreError, UnixTime};

/// Registers a confidential client; returns it with its secret, shown once.
pub async fn create(
    store: &dyn Store,
    new: NewClient,
    now: UnixTime,
) -> Result<(Client, ClientSecret), StoreError> {
    let (client, secret) = new.register(now);
    store.insert_client(&client).await?;
    Ok((client, secret))
}

/// Gives a client a new secret; the old one stops working. `None` if there is no such client.
pub async fn rotate_secret(
    store: &dyn Store,
    id: &ClientId,
) -> Result<Option<ClientSecret>, StoreError> {
    let secret = ClientSecret::generate();
    Ok(store
        .set_client_secret(id, &secret.hash())
        .await?
        .then_some(secret))
}
