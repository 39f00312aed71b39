//! Start-up: data directory, master key, database, keys, then the listener.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::Path;
use std::sync::Arc;

use portcullis_core::admin::keys;
use portcullis_core::grant::TokenPolicy;
use portcullis_core::{MasterKey, Seconds, Store};
use tokio::net::TcpListener;

use crate::client_cache::ClientCache;
use crate::clock::system_now;
use crate::cookies::Cookies;
use crate::endpoints::discovery;
use crate::maintenance::{Maintenance, Rotation};
use crate::signing_keys::{KeyLoadError, SigningKeys};
use crate::state::{AppState, Inner};
use crate::{Settings, router};
use portcullis_core::throttle::ThrottlePolicy;

/// Why the server (or a CLI command) could not start; `Display` is one line.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The data directory or master key file cannot be used.
    #[error("{0}")]
    Files(String),
    /// The master key is malformed.
    #[error("setting `master_key`: expected the base64 of 32 bytes (as in {0})")]
    MasterKey(String),
    /// The database cannot be opened.
    #[error("setting `database_url`: {0}")]
    Database(#[from] portcullis_store::ConnectError),
    /// Keys cannot be created or loaded.
    #[error("{0}")]
    Keys(String),
    /// The listen address cannot be bound.
    #[error("setting `listen`: cannot listen on {0}")]
    Bind(String),
}

impl From<KeyLoadError> for StartupError {
    fn from(err: KeyLoadError) -> Self {
        StartupError::Keys(err.to_string())
    }
}

impl From<keys::KeyError> for StartupError {
    fn from(err: keys::KeyError) -> Self {
        StartupError::Keys(err.to_string())
    }
}

/// Opens what both the server and the admin CLI need: the master key
/// (created with mode 0600 on first use) and the migrated database.
pub async fn open(settings: &Settings) -> Result<(Arc<dyn Store>, MasterKey), StartupError> {
    ensure_dir(&settings.data_dir)?;
    let master = match &settings.master_key {
        Some(text) => MasterKey::parse(text)
            .ok_or_else(|| StartupError::MasterKey("PORTCULLIS_MASTER_KEY".into()))?,
        None => load_or_create_master_key(&settings.master_key_file)?,
    };
    let store =
        portcullis_store::connect_with_timeout(&settings.database_url, settings.database_timeout)
            .await?;
    Ok((store, master))
}

fn ensure_dir(dir: &Path) -> Result<(), StartupError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| {
            StartupError::Files(format!(
                "setting `data_dir`: cannot create {}: {e}",
                dir.display()
            ))
        })
}

fn load_or_create_master_key(path: &Path) -> Result<MasterKey, StartupError> {
    let unreadable = |e: std::io::Error| {
        StartupError::Files(format!(
            "setting `master_key_file`: cannot read {}: {e}",
            path.display()
        ))
    };
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => {
            let key = MasterKey::generate();
            file.write_all(format!("{}\n", key.to_text().as_str()).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(unreadable)?;
            tracing::info!(path = %path.display(), "created a new master key");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = zeroize::Zeroizing::new(fs::read_to_string(path).map_err(unreadable)?);
            MasterKey::parse(&text)
                .ok_or_else(|| StartupError::MasterKey(path.display().to_string()))
        }
        Err(e) => Err(unreadable(e)),
    }
}

/// A server ready to accept connections.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: AppState,
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    key_refresh: std::time::Duration,
    rotation: Option<Rotation>,
    cleanup_interval: std::time::Duration,
    connections: ConnectionLimits,
    /// The issuer URL, also the base URL of every endpoint.
    pub issuer: String,
}

/// Prepares everything (database, keys, listener) without serving yet.
pub async fn prepare(settings: &Settings) -> Result<Server, StartupError> {
    let (store, master) = open(settings).await?;
    let now = system_now();
    let ring = keys::bootstrap(&*store, &master, settings.signing_alg, now).await?;
    if ring.signer_for(settings.signing_alg, now).is_none() {
        tracing::warn!(
            configured = %settings.signing_alg,
            "no active key has the algorithm of signing_alg; run `portcullis keys rotate` to switch"
        );
    }
    if ring.signer_for(keys::ID_TOKEN_ALG, now).is_none() {
        tracing::warn!("no RS256 key signs ID tokens yet; run `portcullis keys rotate` to add one");
    }
    let signing_keys = Arc::new(SigningKeys::default());
    signing_keys.refresh(&*store, &master, now).await?;
    let master = Arc::new(master);
    if signing_keys.signer(settings.signing_alg, now).is_none() {
        return Err(StartupError::Keys(
            "no signing key is active; run `portcullis keys rotate`".into(),
        ));
    }
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| StartupError::Bind(format!("{}: {e}", settings.listen)))?;
    let bound = listener
        .local_addr()
        .map_err(|e| StartupError::Bind(e.to_string()))?;
    let issuer = settings.issuer_for(bound);
    let self_service = portcullis_core::registration::SelfService {
        scopes: settings.registration_scopes.clone(),
        audiences: settings.registration_audiences.clone(),
    };
    let documents = if settings.client_id_metadata_documents {
        let documents = crate::client_documents::DocumentClients::new(
            settings.client_id_metadata_allow_private,
            self_service.clone(),
        )
        .map_err(|e| StartupError::Files(format!("cannot build the HTTP client: {e}")))?;
        Some(documents)
    } else {
        None
    };
    let state = AppState(Arc::new(Inner {
        store: store.clone(),
        clients: ClientCache::new(settings.client_cache_ttl, documents),
        keys: signing_keys,
        signing_alg: settings.signing_alg,
        token_policy: TokenPolicy {
            issuer: issuer.clone(),
            access_token_lifetime: Seconds(settings.access_token_ttl.as_secs() as i64),
            refresh_token_lifetime: Seconds(settings.refresh_token_ttl.as_secs() as i64),
            refresh_reuse_interval: Seconds(settings.refresh_reuse_interval.as_secs() as i64),
        },
        max_body_bytes: settings.max_body_bytes,
        discovery: discovery::document(
            &issuer,
            settings.registration != portcullis_core::registration::RegistrationMode::Off,
            settings.client_id_metadata_documents,
        ),
        cookies: Cookies::for_issuer(&issuer),
        throttle_policy: ThrottlePolicy::default(),
        jwks_cache_control: format!("public, max-age={}", settings.jwks_max_age.as_secs()),
        signup: settings.signup,
        trusted_proxies: settings.trusted_proxies.clone(),
        master: master.clone(),
        rotation_timings: settings.rotation_timings(),
        metrics: Arc::new(crate::metrics::Metrics::default()),
        registration: settings.registration,
        self_service,
        session_lifetime: Seconds(settings.session_ttl.as_secs() as i64),
        password_work: crate::password_work::BlockingPasswordWork,
        password_policy: settings.password_policy,
        request_timeout: settings.request_timeout,
        device_policy: settings.device_policy,
        cors_origins: settings.cors_origins.clone(),
    }));
    Ok(Server {
        listener,
        state,
        store,
        master,
        key_refresh: settings.key_refresh,
        rotation: settings.key_rotation.map(|every| Rotation {
            every,
            access_alg: settings.signing_alg,
            timings: settings.rotation_timings(),
        }),
        cleanup_interval: settings.cleanup_interval,
        connections: ConnectionLimits {
            max: connection_cap(settings.max_connections),
            header_read_timeout: settings.header_read_timeout,
            shutdown_timeout: settings.shutdown_timeout,
        },
        issuer,
    })
}

impl Server {
    /// The base URL clients reach this listener at.
    pub fn local_url(&self) -> String {
        self.listener
            .local_addr()
            .map(|a| format!("http://{a}"))
            .unwrap_or_else(|_| self.issuer.clone())
    }

    /// Serves until `shutdown` completes; in-flight requests then get
    /// `shutdown_timeout` to finish, after which their connections are
    /// closed and this returns, so a stop always completes.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let background = Maintenance {
            store: self.store,
            master: self.master,
            keys: self.state.keys.clone(),
            key_refresh: self.key_refresh,
            rotation: self.rotation,
            cleanup_interval: self.cleanup_interval,
        }
        .spawn();
        let delivery =
            crate::backchannel::spawn(self.state.clone()).map_err(std::io::Error::other)?;
        let app = router::router(self.state);
        let result = serve_connections(self.listener, app, self.connections, shutdown).await;
        for task in background {
            task.abort();
        }
        delivery.abort();
        result
    }
}

/// Limits on the connections of one server.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    /// The most connections served at once; more wait, unaccepted, in the
    /// listen backlog.
    max: usize,
    /// How long a client has to send a request's headers, and how long a
    /// kept-alive connection may sit idle before the next request.
    header_read_timeout: std::time::Duration,
    /// After the stop is asked for, how long open requests may take.
    shutdown_timeout: std::time::Duration,
}

/// Accepts connections (at most `limits.max` at once) and serves `app` on
/// each over HTTP/1.1 until `shutdown`; then stops accepting, lets open
/// requests finish for `limits.shutdown_timeout`, and closes what remains.
async fn serve_connections(
    listener: TcpListener,
    app: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt as _;

    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors or a reset in the backlog: wait a moment.
                    tracing::warn!(%err, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service =
            app.clone()
                .map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    request
                });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = watched.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(
                seconds = limits.shutdown_timeout.as_secs(),
                "requests still open at the shutdown deadline; closing their connections"
            );
        }
    }
    Ok(())
}

/// Files kept open besides connections: database pools, the listener, logs.
const FILES_BESIDES_CONNECTIONS: u64 = 64;

/// Raises the soft open-file limit to the hard one, and keeps `wanted`
/// connections below what it then allows, so accepting never fails for want
/// of a file descriptor. Logs both figures.
fn connection_cap(wanted: usize) -> usize {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(open_files) => {
            let room = open_files.saturating_sub(FILES_BESIDES_CONNECTIONS).max(1);
            let cap = wanted.min(usize::try_from(room).unwrap_or(usize::MAX));
            if cap < wanted {
                tracing::warn!(
                    open_files,
                    max_connections = cap,
                    "the open-file limit allows fewer connections than max_connections"
                );
            } else {
                tracing::info!(open_files, max_connections = cap, "connection limits");
            }
            cap
        }
        Err(err) => {
            tracing::warn!(%err, max_connections = wanted, "cannot read or raise the open-file limit");
            wanted
        }
    }
}
