//! Registering clients through the API (RFC 7591), managing them with their
//! registration access token (RFC 7592), and the initial access tokens an
//! administrator hands out.

use crate::registration::{ClientMetadata, MetadataError, RegistrationMode, SelfService};
use crate::{Client, ClientId, ClientSecret, Seconds, Store, StoreError, UnixTime};

/// Why a registration or management request fails.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// Registration is off.
    #[error("client registration is not enabled")]
    Disabled,
    /// The bearer token (initial access or registration access) is missing,
    /// unknown, expired or used up; or the client is unknown.
    #[error("the access token is missing, invalid or used up")]
    InvalidToken,
    /// The metadata is refused.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A newly registered client and its credentials, shown once.
#[derive(Debug)]
pub struct Registered {
    /// The client as stored.
    pub client: Client,
    /// Its secret, unless it is public.
    pub secret: Option<ClientSecret>,
    /// The token that manages it (RFC 7592).
    pub registration_token: ClientSecret,
}

/// Creates an initial access token good for `uses` registrations during
/// `lifetime`; returns it in clear (shown once), stores its hash.
pub async fn create_initial_token(
    store: &dyn Store,
    uses: u32,
    lifetime: Seconds,
    now: UnixTime,
) -> Result<ClientSecret, StoreError> {
    let token = ClientSecret::generate();
    store
        .insert_registration_token(&token.hash(), uses, now, now + lifetime)
        .await?;
    Ok(token)
}

/// Registers a client from `metadata`, if `mode` lets the bearer of
/// `initial_token` do so.
pub async fn register(
    store: &dyn Store,
    mode: RegistrationMode,
    policy: &SelfService,
    initial_token: Option<&str>,
    metadata: &ClientMetadata,
    now: UnixTime,
) -> Result<Registered, RegistrationError> {
    match mode {
        RegistrationMode::Off => return Err(RegistrationError::Disabled),
        RegistrationMode::Open => {}
        RegistrationMode::Token => {
            let token = initial_token.ok_or(RegistrationError::InvalidToken)?;
            // Checked before the metadata so that a stranger learns nothing;
            // a refused registration still uses the token up.
            let hash = ClientSecret::new(token).hash();
            if !store.consume_registration_token(&hash, now).await? {
                return Err(RegistrationError::InvalidToken);
            }
        }
    }
    let new = metadata.to_new_client(policy)?;
    let (client, secret) = new.register(now);
    let registration_token = ClientSecret::generate();
    store
        .insert_client(&client, Some(&registration_token.hash()))
        .await?;
    Ok(Registered {
        client,
        secret,
        registration_token,
    })
}

/// The registered client `id`, if `presented` is its registration access
/// token (compared in constant time).
pub async fn authorize(
    store: &dyn Store,
    id: &str,
    presented: Option<&str>,
) -> Result<Client, RegistrationError> {
    let (Some(id), Some(presented)) = (ClientId::parse(id), presented) else {
        return Err(RegistrationError::InvalidToken);
    };
    let presented = ClientSecret::new(presented);
    let Some(hash) = store.client_registration_token(&id).await? else {
        // The same hashing work as a real comparison.
        let _ = ClientSecret::generate().hash().matches(&presented);
        return Err(RegistrationError::InvalidToken);
    };
    if !hash.matches(&presented) {
        return Err(RegistrationError::InvalidToken);
    }
    store
        .client(&id)
        .await?
        .ok_or(RegistrationError::InvalidToken)
}

/// Replaces the metadata of `client` (already authorized) with `metadata`.
/// A client cannot turn from public to confidential or back.
pub async fn update(
    store: &dyn Store,
    client: Client,
    policy: &SelfService,
    metadata: &ClientMetadata,
) -> Result<Client, RegistrationError> {
    let new = metadata.to_new_client(policy)?;
    if new.public != client.is_public() {
        return Err(MetadataError::Metadata(
            "token_endpoint_auth_method cannot change between none and a client secret".into(),
        )
        .into());
    }
    let updated = Client {
        name: new.name,
        grant_types: {
            let mut grants = new.grant_types;
            grants.sort();
            grants.dedup();
            grants
        },
        scopes: new.scopes,
        audiences: new.audiences,
        redirect_uris: new.redirect_uris,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        ..client
    };
    if !store.update_client(&updated).await? {
        return Err(RegistrationError::InvalidToken);
    }
    Ok(updated)
}
