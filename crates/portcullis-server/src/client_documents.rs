//! Fetching Client ID Metadata Documents (`core::client_document` decides
//! what they make): when `client_id_metadata_documents` is on, a
//! `client_id` that is an https URL is fetched there.
//!
//! Every fetch is bounded: 3 s to connect and 5 s in all, 5 KiB, no
//! redirects, no proxies, and (unless `client_id_metadata_allow_private`)
//! only https to public addresses: the resolver drops loopback, private,
//! link-local and other special addresses, and IP literals are checked the
//! same way, so a client id cannot make the server call into its own
//! network. Answers are kept as HTTP caching says (`max-age`, at most a
//! day; 5 minutes without one; `no-store` not at all), failures for a
//! minute, and the client is stored so that its tokens and grants are
//! those of a known client.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use portcullis_core::client_document::{self, MAX_DOCUMENT_BYTES};
use portcullis_core::registration::SelfService;
use portcullis_core::{Client, ClientId, Store, StoreError};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

const MAX_ENTRIES: usize = 10_000;
const DEFAULT_TTL: Duration = Duration::from_secs(300);
const MAX_TTL: Duration = Duration::from_secs(86_400);
const FAILURE_TTL: Duration = Duration::from_secs(60);

/// A document lookup and until when it holds.
type Entry = (Instant, Option<Arc<Client>>);

/// Clients known by their metadata documents.
#[derive(Debug)]
pub(crate) struct DocumentClients {
    http: reqwest::Client,
    allow_private: bool,
    policy: SelfService,
    entries: RwLock<HashMap<ClientId, Entry>>,
}

impl DocumentClients {
    /// Fetches documents for clients getting `policy`; `allow_private`
    /// admits http and private addresses.
    pub fn new(allow_private: bool, policy: SelfService) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(PublicOnly { allow_private })
            .build()?;
        Ok(DocumentClients {
            http,
            allow_private,
            policy,
            entries: RwLock::new(HashMap::new()),
        })
    }

    /// Whether `id` names a document this server fetches.
    pub fn names(&self, id: &ClientId) -> bool {
        client_document::names_a_document(id, self.allow_private)
    }

    /// The client document `id` describes: from the cache while it holds,
    /// else fetched, checked and stored. `None` when it cannot be fetched or
    /// is refused (the reason is logged).
    pub async fn get(
        &self,
        store: &dyn Store,
        id: &ClientId,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        if let Ok(entries) = self.entries.read()
            && let Some((until, client)) = entries.get(id)
            && Instant::now() < *until
        {
            return Ok(client.clone());
        }
        let (client, ttl) = match self.fetch(id).await {
            Ok((client, ttl)) => {
                keep(store, &client).await?;
                (Some(Arc::new(client)), ttl)
            }
            Err(why) => {
                tracing::info!(client_id = %id, %why, "client metadata document refused");
                (None, FAILURE_TTL)
            }
        };
        if !ttl.is_zero()
            && let Ok(mut entries) = self.entries.write()
        {
            if entries.len() >= MAX_ENTRIES {
                let now = Instant::now();
                entries.retain(|_, (until, _)| now < *until);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(id.clone(), (Instant::now() + ttl, client.clone()));
        }
        Ok(client)
    }

    async fn fetch(&self, id: &ClientId) -> Result<(Client, Duration), String> {
        let url = reqwest::Url::parse(id.as_str()).map_err(|e| e.to_string())?;
        // The resolver never sees an IP literal; check it here.
        let literal = url
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<IpAddr>().ok());
        if let Some(ip) = literal
            && !self.allow_private
            && !is_public(ip)
        {
            return Err(format!("{ip} is not a public address"));
        }
        let mut response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot fetch it: {e}"))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(format!("it answered {}", response.status()));
        }
        let ttl = cache_lifetime(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("it is larger than {MAX_DOCUMENT_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let client =
            client_document::client_from_document(id, &body, &self.policy, crate::system_now())
                .map_err(|e| e.to_string())?;
        Ok((client, ttl))
    }
}

/// Stores the client a document describes (or its new metadata), so that
/// its grants and tokens belong to a known client.
async fn keep(store: &dyn Store, client: &Client) -> Result<(), StoreError> {
    match store.client(&client.id).await? {
        None => match store.insert_client(client, None).await {
            Err(StoreError::Conflict(_)) => store.update_client(client).await.map(|_| ()),
            other => other,
        },
        Some(stored) => {
            // Everything but when it was first stored comes from the document.
            let unchanged = Client {
                created_at: stored.created_at,
                ..client.clone()
            } == stored;
            if unchanged {
                Ok(())
            } else {
                store.update_client(client).await.map(|_| ())
            }
        }
    }
}

/// How long an answer may be kept, by its `Cache-Control`.
fn cache_lifetime(headers: &reqwest::header::HeaderMap) -> Duration {
    let Some(value) = headers
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
    else {
        return DEFAULT_TTL;
    };
    let mut ttl = DEFAULT_TTL;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Duration::ZERO;
        }
        if let Some(seconds) = lower.strip_prefix("max-age=")
            && let Ok(seconds) = seconds.trim_matches('"').parse::<u64>()
        {
            ttl = Duration::from_secs(seconds).min(MAX_TTL);
        }
    }
    ttl
}

/// Whether `ip` is an ordinary public address (not loopback, private,
/// link-local, shared, documentation, multicast, unspecified or reserved).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || first == 0x0064)
        }
    }
}

/// A resolver that keeps only public addresses, unless told otherwise.
pub(crate) struct PublicOnly {
    pub allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::7f00:1",
        ] {
            let ip: IpAddr = private.parse().unwrap_or_else(|e| panic!("{private}: {e}"));
            assert!(!is_public(ip), "{private}");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = public.parse().unwrap_or_else(|e| panic!("{public}: {e}"));
            assert!(is_public(ip), "{public}");
        }
    }

    #[test]
    fn answers_are_kept_as_http_caching_says() {
        let with = |value: &str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(
                reqwest::header::CACHE_CONTROL,
                value.parse().unwrap_or_else(|_| unreachable!()),
            );
            cache_lifetime(&headers)
        };
        assert_eq!(
            cache_lifetime(&reqwest::header::HeaderMap::new()),
            DEFAULT_TTL
        );
        assert_eq!(with("public, max-age=60"), Duration::from_secs(60));
        assert_eq!(with("max-age=999999999"), MAX_TTL);
        assert_eq!(with("no-store"), Duration::ZERO);
        assert_eq!(with("max-age=60, no-cache"), Duration::ZERO);
    }
}
