//! OAuth clients: who may ask for tokens, with which grants, scopes and audiences.

use std::fmt;
use std::str::FromStr;

use crate::{ClientSecret, Resource, ScopeSet, SecretHash, UnixTime, random};

/// A client identifier: random, URL-safe and unguessable when generated here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    /// A new random identifier (128 bits).
    pub fn generate() -> Self {
        ClientId(random::token::<16>())
    }

    /// Parses an identifier received from outside: 1 to 255 visible ASCII characters.
    pub fn parse(text: &str) -> Option<Self> {
        let ok =
            !text.is_empty() && text.len() <= 255 && text.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| ClientId(text.to_owned()))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A grant type a client may use at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    /// RFC 6749 section 4.4.
    ClientCredentials,
}

impl GrantType {
    /// Every grant type the server implements.
    pub const ALL: [GrantType; 1] = [GrantType::ClientCredentials];

    /// The registered name.
    pub const fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GrantType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        GrantType::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| format!("unsupported grant type `{s}`"))
    }
}

/// A registered client as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Its identifier.
    pub id: ClientId,
    /// A human name, shown to people.
    pub name: String,
    /// Hash of its secret; `None` for a public client.
    pub secret_hash: Option<SecretHash>,
    /// Grants it may use.
    pub grant_types: Vec<GrantType>,
    /// Scopes it may be granted.
    pub scopes: ScopeSet,
    /// Resources (audiences) it may request tokens for; when none is requested,
    /// tokens are issued for all of them.
    pub audiences: Vec<Resource>,
    /// When it was registered.
    pub created_at: UnixTime,
}

impl Client {
    /// Whether this client may use `grant`.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether `secret` is this client's secret (constant time).
    pub fn secret_matches(&self, secret: &ClientSecret) -> bool {
        self.secret_hash.is_some_and(|hash| hash.matches(secret))
    }
}

/// What an administrator asks for when creating a confidential client.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// A human name.
    pub name: String,
    /// Grants it may use (at least one).
    pub grant_types: Vec<GrantType>,
    /// Scopes it may be granted.
    pub scopes: ScopeSet,
    /// Resources it may request tokens for.
    pub audiences: Vec<Resource>,
}

impl NewClient {
    /// The client to store and its secret, to show once.
    pub fn register(self, now: UnixTime) -> (Client, ClientSecret) {
        let secret = ClientSecret::generate();
        let mut grant_types = self.grant_types;
        grant_types.sort();
        grant_types.dedup();
        let client = Client {
            id: ClientId::generate(),
            name: self.name,
            secret_hash: Some(secret.hash()),
            grant_types,
            scopes: self.scopes,
            audiences: self.audiences,
            created_at: now,
        };
        (client, secret)
    }
}
