//! Creating, listing, deleting clients and rotating their secrets.

use crate::client::ClientRejected;
use crate::store::RefreshHolder;
use crate::{Client, ClientId, ClientSecret, NewClient, Store, StoreError, UnixTime};

/// Why an administrative change to a client did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ClientAdminError {
    /// The registration contradicts itself.
    #[error(transparent)]
    Rejected(#[from] ClientRejected),
    /// A public client has no secret to rotate.
    #[error("client `{0}` is public: it has no secret")]
    Public(ClientId),
    /// An admin client asked to delete itself.
    #[error(
        "client `{0}` is the admin client making this call; delete it with another admin client or `portcullis client delete`"
    )]
    Itself(ClientId),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Registers a client (checked with [`NewClient::validate`] first); returns it
/// with its secret, shown once, unless it is public.
pub async fn create(
    store: &dyn Store,
    new: NewClient,
    now: UnixTime,
) -> Result<(Client, Option<ClientSecret>), ClientAdminError> {
    new.validate()?;
    let (client, secret) = new.register(now);
    store.insert_client(&client, None).await?;
    Ok((client, secret))
}

/// Deletes a client and revokes its refresh tokens; its access tokens stop
/// being active for introspection. `false` if there was no such client.
pub async fn delete(store: &dyn Store, id: &ClientId, now: UnixTime) -> Result<bool, StoreError> {
    if !store.delete_client(id).await? {
        return Ok(false);
    }
    store
        .revoke_refresh_of(RefreshHolder::Client(id), now)
        .await?;
    Ok(true)
}

/// Deletes a client at the request of the admin client `caller`, which may
/// not delete itself: the token it is calling with would die mid-session,
/// and deleting the last admin client would leave only the CLI as a way in.
/// `false` if there was no such client.
pub async fn delete_as(
    store: &dyn Store,
    id: &ClientId,
    caller: &ClientId,
    now: UnixTime,
) -> Result<bool, ClientAdminError> {
    if id == caller {
        return Err(ClientAdminError::Itself(id.clone()));
    }
    Ok(delete(store, id, now).await?)
}

/// Gives a confidential client a new secret; the old one stops working.
/// `None` if there is no such client.
pub async fn rotate_secret(
    store: &dyn Store,
    id: &ClientId,
) -> Result<Option<ClientSecret>, ClientAdminError> {
    match store.client(id).await? {
        None => return Ok(None),
        Some(client) if client.is_public() => return Err(ClientAdminError::Public(id.clone())),
        Some(_) => {}
    }
    let secret = ClientSecret::generate();
    Ok(store
        .set_client_secret(id, &secret.hash())
        .await?
        .then_some(secret))
}
