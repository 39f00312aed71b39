//! What users allowed clients (their consents), and ending it.

use crate::admin::users::{self, UserAdminError};
use crate::store::RefreshHolder;
use crate::user::Username;
use crate::{ClientId, ScopeSet, Store, UnixTime};

/// One client a user allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The client.
    pub client_id: ClientId,
    /// What it may ask for without asking again.
    pub scope: ScopeSet,
    /// When the user allowed it.
    pub granted_at: UnixTime,
}

/// Everything `username` allowed.
pub async fn list(store: &dyn Store, username: &Username) -> Result<Vec<Grant>, UserAdminError> {
    let user = users::find(store, username).await?;
    Ok(store
        .consents_of(&user.id)
        .await?
        .into_iter()
        .map(|(client_id, scope, granted_at)| Grant {
            client_id,
            scope,
            granted_at,
        })
        .collect())
}

/// Withdraws what `username` allowed `client`: the consent page shows again
/// next time and the client's refresh tokens for the user stop working.
/// `false` if the user had not allowed the client.
pub async fn revoke(
    store: &dyn Store,
    username: &Username,
    client: &ClientId,
    now: UnixTime,
) -> Result<bool, UserAdminError> {
    let user = users::find(store, username).await?;
    let had = store.delete_consent(&user.id, client).await?;
    let tokens = store
        .revoke_refresh_of(RefreshHolder::Grant(&user.id, client), now)
        .await?;
    Ok(had || tokens > 0)
}
