//! Configuration: defaults < TOML file < `PORTCULLIS_*` environment < flags,
//! validated once into [`Settings`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use portcullis_core::grant::device_code::DevicePolicy;
use portcullis_core::password::PasswordPolicy;
use portcullis_core::registration::RegistrationMode;
use portcullis_core::{ScopeSet, Seconds};
use portcullis_jose::Algorithm;
use serde::{Deserialize, Serialize};

/// A setting that failed to load or validate; its `Display` is one line naming it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct SettingsError(String);

impl SettingsError {
    fn setting(name: &str, problem: impl std::fmt::Display) -> Self {
        SettingsError(format!(
            "setting `{name}` (env PORTCULLIS_{}): {problem}",
            name.to_ascii_uppercase()
        ))
    }
}

/// A duration written as whole seconds (`900`) or with units (`"15m"`, `"1h 30m"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum DurationSetting {
    /// Whole seconds.
    Seconds(u64),
    /// Text for `humantime`.
    Text(String),
}

impl DurationSetting {
    fn parse(&self, name: &str) -> Result<Duration, SettingsError> {
        match self {
            DurationSetting::Seconds(s) => Ok(Duration::from_secs(*s)),
            DurationSetting::Text(t) => match t.trim().parse::<u64>() {
                Ok(s) => Ok(Duration::from_secs(s)),
                Err(_) => humantime::parse_duration(t.trim()).map_err(|e| {
                    SettingsError::setting(
                        name,
                        format!("`{t}` is not a duration ({e}); write e.g. 900 or \"15m\""),
                    )
                }),
            },
        }
    }
}

/// Settings as written by the user; every field may be absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    /// Address to listen on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Public issuer URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Database URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Master key, base64 of 32 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key: Option<String>,
    /// File holding the master key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key_file: Option<PathBuf>,
    /// Signing algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_alg: Option<String>,
    /// Access token lifetime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<DurationSetting>,
    /// JWKS `Cache-Control: max-age`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_max_age: Option<DurationSetting>,
    /// How often the server re-reads the key ring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_refresh: Option<DurationSetting>,
    /// How long a rotated-in key is published before it signs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_publish_delay: Option<DurationSetting>,
    /// How often keys rotate by themselves (0: only by command).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_rotation: Option<DurationSetting>,
    /// How often expired codes, tokens, sessions and deny-list entries are deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleanup_interval: Option<DurationSetting>,
    /// How long a client lookup is cached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cache_ttl: Option<DurationSetting>,
    /// Largest request body accepted, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<usize>,
    /// Whether people may create their own accounts on the sign-up page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signup: Option<bool>,
    /// Proxies whose `X-Forwarded-For` names the client (IPs or CIDRs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxies: Option<String>,
    /// Who may register clients at `/register`: `off`, `open` or `token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
    /// Scopes a client may register for itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_scopes: Option<String>,
    /// Resources (URIs) a self-registered client, or one known by its
    /// metadata document, may request tokens for; space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_audiences: Option<String>,
    /// Whether a `client_id` that is an https URL names a Client ID
    /// Metadata Document, fetched to know the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_documents: Option<bool>,
    /// Whether metadata documents may come from loopback and private
    /// addresses, and over plain http (tests, closed networks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_allow_private: Option<bool>,
    /// How long a browser session lasts after signing in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_ttl: Option<DurationSetting>,
    /// How long an unused refresh token lives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_ttl: Option<DurationSetting>,
    /// How long after a rotation a refresh token may be presented again by
    /// its client for a fresh successor (0: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_reuse_interval: Option<DurationSetting>,
    /// How long a request waits for a database connection before `503`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_timeout: Option<DurationSetting>,
    /// How long a stop (SIGTERM) waits for open requests before closing them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_timeout: Option<DurationSetting>,
    /// How long a client has to send a request's headers, and a kept-alive
    /// connection may wait idle for its next request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_read_timeout: Option<DurationSetting>,
    /// The most connections served at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// How long a request may take from its headers to its response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<DurationSetting>,
    /// The least strength score (zxcvbn, 0 to 4) a new password needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_min_score: Option<u8>,
    /// Origins (`https://app.example`) whose browser code may call `/token`,
    /// `/register`, `/revoke` and `/userinfo` (CORS), comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_origins: Option<String>,
    /// How long a device code waits for its user (RFC 8628).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_code_ttl: Option<DurationSetting>,
    /// The least time a device client waits between two polls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_poll_interval: Option<DurationSetting>,
    /// Log filter (`info`, `debug`, `portcullis_server=debug`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Log line format: `pretty` or `json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Public issuer URL; `None` means `http://` + the bound address.
    pub issuer: Option<String>,
    /// Data directory (default `$XDG_DATA_HOME/portcullis` or `~/.local/share/portcullis`).
    pub data_dir: PathBuf,
    /// Database URL (default: SQLite file `portcullis.db` in the data directory).
    pub database_url: String,
    /// Master key text, when given directly.
    pub master_key: Option<String>,
    /// Master key file (default `master.key` in the data directory, created on first start).
    pub master_key_file: PathBuf,
    /// Signing algorithm for new keys (default RS256).
    pub signing_alg: Algorithm,
    /// Access token lifetime (default 15 minutes).
    pub access_token_ttl: Duration,
    /// JWKS cache lifetime announced to verifiers (default 5 minutes).
    pub jwks_max_age: Duration,
    /// Key ring refresh interval (default 10 s).
    pub key_refresh: Duration,
    /// Publication delay of a new key before it signs (default 6 minutes).
    pub key_publish_delay: Duration,
    /// Automatic key rotation period (default 90 days); `None`: only by command.
    pub key_rotation: Option<Duration>,
    /// Period of the deletion of expired rows (default 10 minutes).
    pub cleanup_interval: Duration,
    /// Client lookup cache lifetime (default 5 s).
    pub client_cache_ttl: Duration,
    /// Largest request body (default 64 KiB).
    pub max_body_bytes: usize,
    /// Whether the sign-up page is on (default true).
    pub signup: bool,
    /// Proxies trusted to name the client in `X-Forwarded-For` (default none).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Who may register clients (default: nobody).
    pub registration: RegistrationMode,
    /// Scopes a self-registered client may have (default `openid profile email offline_access`).
    pub registration_scopes: ScopeSet,
    /// Resources self-registered and metadata-document clients may request.
    pub registration_audiences: Vec<portcullis_core::Resource>,
    /// Whether Client ID Metadata Documents are accepted.
    pub client_id_metadata_documents: bool,
    /// Whether they may come from private addresses and over http.
    pub client_id_metadata_allow_private: bool,
    /// Browser session lifetime (default 12 hours).
    pub session_ttl: Duration,
    /// Lifetime of an unused refresh token; each rotation starts it again (default 30 days).
    pub refresh_token_ttl: Duration,
    /// How long after a rotation the same client may present the rotated
    /// refresh token again and get a fresh successor, the earlier one dying
    /// (default 0: any reuse revokes the family).
    pub refresh_reuse_interval: Duration,
    /// How long a request waits for a PostgreSQL connection before it is
    /// answered `503 temporarily_unavailable` (default 1 s).
    pub database_timeout: Duration,
    /// After SIGTERM, how long requests still open may take before their
    /// connections are closed and the process exits (default 20 s).
    pub shutdown_timeout: Duration,
    /// How long a client has to send a request's headers, and a kept-alive
    /// connection may sit idle (default 10 s).
    pub header_read_timeout: Duration,
    /// The most connections served at once; more wait in the listen backlog
    /// (default 10,000, and always below the open-file limit, which start-up
    /// raises to its hard limit).
    pub max_connections: usize,
    /// How long a request may take from its headers to its response; a
    /// slower one is answered 408 (default 30 s).
    pub request_timeout: Duration,
    /// The rules a new password meets (default: zxcvbn score at least 3).
    pub password_policy: PasswordPolicy,
    /// Device codes' lifetime and poll interval.
    pub device_policy: DevicePolicy,
    /// Origins allowed to call the token endpoints from a browser.
    pub cors_origins: Vec<String>,
    /// Log filter (default `info`).
    pub log: String,
    /// Log line format (default pretty).
    pub log_format: LogFormat,
    /// What loading noticed but did not refuse (unknown `PORTCULLIS_*`
    /// environment variables), for the caller to log once logging is set up.
    pub warnings: Vec<String>,
}

impl Settings {
    /// Loads settings from defaults, the TOML file `config` (if given), the
    /// environment and `flags`, in rising precedence.
    pub fn load(config: Option<&Path>, flags: &RawSettings) -> Result<Self, SettingsError> {
        let mut figment = Figment::new();
        if let Some(path) = config {
            if !path.is_file() {
                return Err(SettingsError(format!(
                    "configuration file `{}` does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // An unknown key in a file is an error; an unknown variable in the
        // environment is only a warning: a deploy script's PORTCULLIS_BIN
        // must not stop the server.
        let known = setting_names();
        let unknown = unknown_variables(std::env::vars_os().map(|(key, _)| key), known);
        figment = figment
            .merge(
                // PORTCULLIS_CONFIG names the file; PORTCULLIS_TEST_* belong to the tests.
                Env::prefixed("PORTCULLIS_")
                    .filter(|key| known.iter().any(|k| key.as_str().eq_ignore_ascii_case(k))),
            )
            .merge(Serialized::defaults(flags));
        let raw: RawSettings = figment.extract().map_err(|e| {
            let first = e
                .into_iter()
                .next()
                .map(|e| e.to_string())
                .unwrap_or_default();
            SettingsError(first.replace('\n', " "))
        })?;
        let mut settings = Self::validate(raw)?;
        if !unknown.is_empty() {
            settings.warnings.push(format!(
                "ignoring unknown environment variable(s) {}",
                unknown.join(", ")
            ));
        }
        Ok(settings)
    }

    fn validate(raw: RawSettings) -> Result<Self, SettingsError> {
        let listen = match raw.listen.as_deref() {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(text) => text.parse().map_err(|_| {
                SettingsError::setting(
                    "listen",
                    format!("`{text}` is not an address like 127.0.0.1:8080"),
                )
            })?,
        };
        let issuer = raw.issuer.map(|i| validate_issuer(&i)).transpose()?;
        let data_dir = raw.data_dir.unwrap_or_else(default_data_dir);
        let database_url = match raw.database_url {
            Some(url) => {
                if portcullis_store::Backend::of(&url).is_none() {
                    return Err(SettingsError::setting(
                        "database_url",
                        "expected sqlite:PATH or postgres://USER@HOST/DB",
                    ));
                }
                url
            }
            None => format!("sqlite://{}", data_dir.join("portcullis.db").display()),
        };
        let signing_alg = match raw.signing_alg.as_deref() {
            None => Algorithm::RS256,
            Some(text) => text.parse().map_err(|_| {
                SettingsError::setting(
                    "signing_alg",
                    format!("`{text}` is not one of RS256, PS256, ES256, ES384, EdDSA"),
                )
            })?,
        };
        let duration = |value: Option<DurationSetting>, name: &str, default: u64| {
            value.map_or(Ok(Duration::from_secs(default)), |v| v.parse(name))
        };
        let access_token_ttl = duration(raw.access_token_ttl, "access_token_ttl", 900)?;
        if access_token_ttl.is_zero() || access_token_ttl > Duration::from_secs(86_400) {
            return Err(SettingsError::setting(
                "access_token_ttl",
                "must be between 1 s and 24 h",
            ));
        }
        let jwks_max_age = duration(raw.jwks_max_age, "jwks_max_age", 300)?;
        let key_refresh = duration(raw.key_refresh, "key_refresh", 10)?;
        if key_refresh.is_zero() {
            return Err(SettingsError::setting(
                "key_refresh",
                "must be at least 1 s",
            ));
        }
        let key_publish_delay = duration(raw.key_publish_delay, "key_publish_delay", 360)?;
        if key_publish_delay < jwks_max_age + key_refresh {
            return Err(SettingsError::setting(
                "key_publish_delay",
                "must be at least jwks_max_age + key_refresh, or verifiers could meet a key before they can know it",
            ));
        }
        let key_rotation = duration(raw.key_rotation, "key_rotation", 90 * 86_400)?;
        if !key_rotation.is_zero() && key_rotation < key_publish_delay {
            return Err(SettingsError::setting(
                "key_rotation",
                "must be 0 (rotate only by command) or at least key_publish_delay",
            ));
        }
        let key_rotation = (!key_rotation.is_zero()).then_some(key_rotation);
        let cleanup_interval = duration(raw.cleanup_interval, "cleanup_interval", 600)?;
        if cleanup_interval.is_zero() {
            return Err(SettingsError::setting(
                "cleanup_interval",
                "must be at least 1 second",
            ));
        }
        let client_cache_ttl = duration(raw.client_cache_ttl, "client_cache_ttl", 5)?;
        let max_body_bytes = raw.max_body_bytes.unwrap_or(64 * 1024);
        if !(1024..=16 * 1024 * 1024).contains(&max_body_bytes) {
            return Err(SettingsError::setting(
                "max_body_bytes",
                "must be between 1024 and 16777216",
            ));
        }
        let session_ttl = duration(raw.session_ttl, "session_ttl", 12 * 3600)?;
        if session_ttl < Duration::from_secs(60) || session_ttl > Duration::from_secs(90 * 86_400) {
            return Err(SettingsError::setting(
                "session_ttl",
                "must be between 1 minute and 90 days",
            ));
        }
        let refresh_token_ttl = duration(raw.refresh_token_ttl, "refresh_token_ttl", 30 * 86_400)?;
        if refresh_token_ttl < Duration::from_secs(60)
            || refresh_token_ttl > Duration::from_secs(400 * 86_400)
        {
            return Err(SettingsError::setting(
                "refresh_token_ttl",
                "must be between 1 minute and 400 days",
            ));
        }
        let refresh_reuse_interval =
            duration(raw.refresh_reuse_interval, "refresh_reuse_interval", 0)?;
        if refresh_reuse_interval > Duration::from_secs(300) {
            return Err(SettingsError::setting(
                "refresh_reuse_interval",
                "must be between 0 and 5 minutes",
            ));
        }
        let database_timeout = duration(raw.database_timeout, "database_timeout", 1)?;
        if database_timeout < Duration::from_millis(100)
            || database_timeout > Duration::from_secs(60)
        {
            return Err(SettingsError::setting(
                "database_timeout",
                "must be between 100 ms and 60 s",
            ));
        }
        let shutdown_timeout = duration(raw.shutdown_timeout, "shutdown_timeout", 20)?;
        if shutdown_timeout > Duration::from_secs(3600) {
            return Err(SettingsError::setting(
                "shutdown_timeout",
                "must be at most 1 hour",
            ));
        }
        let header_read_timeout = duration(raw.header_read_timeout, "header_read_timeout", 10)?;
        if header_read_timeout < Duration::from_secs(1)
            || header_read_timeout > Duration::from_secs(600)
        {
            return Err(SettingsError::setting(
                "header_read_timeout",
                "must be between 1 s and 10 minutes",
            ));
        }
        let max_connections = raw.max_connections.unwrap_or(10_000);
        if !(1..=1_000_000).contains(&max_connections) {
            return Err(SettingsError::setting(
                "max_connections",
                "must be between 1 and 1000000",
            ));
        }
        let request_timeout = duration(raw.request_timeout, "request_timeout", 30)?;
        if request_timeout < Duration::from_secs(1) || request_timeout > Duration::from_secs(600) {
            return Err(SettingsError::setting(
                "request_timeout",
                "must be between 1 s and 10 minutes",
            ));
        }
        let device_code_ttl = duration(raw.device_code_ttl, "device_code_ttl", 600)?;
        if device_code_ttl < Duration::from_secs(1) || device_code_ttl > Duration::from_secs(3600) {
            return Err(SettingsError::setting(
                "device_code_ttl",
                "must be between 1 s and 1 hour",
            ));
        }
        let device_poll_interval = duration(raw.device_poll_interval, "device_poll_interval", 5)?;
        if device_poll_interval < Duration::from_secs(1)
            || device_poll_interval > Duration::from_secs(60)
        {
            return Err(SettingsError::setting(
                "device_poll_interval",
                "must be between 1 s and 60 s",
            ));
        }
        let device_policy = DevicePolicy {
            lifetime: Seconds(device_code_ttl.as_secs() as i64),
            interval: Seconds(device_poll_interval.as_secs() as i64),
        };
        let password_policy = match raw.password_min_score {
            None => PasswordPolicy::default(),
            Some(score) => PasswordPolicy::with_min_score(score).ok_or_else(|| {
                SettingsError::setting("password_min_score", "must be 0, 1, 2, 3 or 4")
            })?,
        };
        let registration = match raw.registration.as_deref() {
            None => RegistrationMode::Off,
            Some(text) => RegistrationMode::parse(text).ok_or_else(|| {
                SettingsError::setting("registration", "must be off, open or token")
            })?,
        };
        let registration_scopes = ScopeSet::parse(
            raw.registration_scopes
                .as_deref()
                .unwrap_or("openid profile email offline_access"),
        )
        .ok_or_else(|| {
            SettingsError::setting("registration_scopes", "must be space-separated scopes")
        })?;
        let registration_audiences = list(
            raw.registration_audiences.as_deref(),
            "registration_audiences",
            "an absolute URI without a fragment",
            portcullis_core::Resource::parse,
        )?;
        let trusted_proxies = list(
            raw.trusted_proxies.as_deref(),
            "trusted_proxies",
            "an IP address or CIDR range",
            |entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .ok()
            },
        )?;
        let cors_origins = list(
            raw.cors_origins.as_deref(),
            "cors_origins",
            "an origin like https://app.example or http://127.0.0.1:5173",
            origin,
        )?;
        let log_format = match raw.log_format.as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(_) => {
                return Err(SettingsError::setting(
                    "log_format",
                    "must be pretty or json",
                ));
            }
        };
        let master_key_file = raw
            .master_key_file
            .unwrap_or_else(|| data_dir.join("master.key"));
        Ok(Settings {
            listen,
            issuer,
            data_dir,
            database_url,
            master_key: raw.master_key,
            master_key_file,
            signing_alg,
            access_token_ttl,
            jwks_max_age,
            key_refresh,
            key_publish_delay,
            key_rotation,
            cleanup_interval,
            client_cache_ttl,
            max_body_bytes,
            signup: raw.signup.unwrap_or(true),
            registration,
            registration_scopes,
            registration_audiences,
            client_id_metadata_documents: raw.client_id_metadata_documents.unwrap_or(false),
            client_id_metadata_allow_private: raw.client_id_metadata_allow_private.unwrap_or(false),
            trusted_proxies,
            session_ttl,
            refresh_token_ttl,
            refresh_reuse_interval,
            database_timeout,
            shutdown_timeout,
            header_read_timeout,
            max_connections,
            request_timeout,
            password_policy,
            device_policy,
            cors_origins,
            log: raw.log.unwrap_or_else(|| "info".to_owned()),
            log_format,
            warnings: Vec::new(),
        })
    }

    /// Key overlap around a rotation: a new key is published `key_publish_delay`
    /// before it signs; a retired key stays published for the longest token
    /// lifetime plus verifier leeway and one key refresh.
    pub fn rotation_timings(&self) -> portcullis_core::keyring::RotationTimings {
        let secs = |d: Duration| portcullis_core::Seconds(d.as_secs() as i64);
        portcullis_core::keyring::RotationTimings {
            publish_delay: secs(self.key_publish_delay),
            retire_after: secs(self.access_token_ttl + self.key_refresh + Duration::from_secs(60)),
        }
    }

    /// The issuer for a server bound to `bound`.
    pub fn issuer_for(&self, bound: SocketAddr) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }
}

/// The entries of a list setting (separated by commas or spaces), each
/// parsed by `parse`; a bad one is named, with what was `expected`.
fn list<T>(
    text: Option<&str>,
    name: &str,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, SettingsError> {
    text.unwrap_or("")
        .split([',', ' '])
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            parse(entry)
                .ok_or_else(|| SettingsError::setting(name, format!("`{entry}` is not {expected}")))
        })
        .collect()
}

/// `entry` as an origin: `http` or `https`, a host, maybe a port, no path.
fn origin(entry: &str) -> Option<String> {
    let uri: axum::http::Uri = entry.parse().ok()?;
    let scheme = uri.scheme_str().filter(|s| *s == "https" || *s == "http")?;
    let authority = uri.authority()?;
    let bare = uri.path().is_empty() || uri.path() == "/";
    (bare && uri.query().is_none() && !authority.as_str().contains('@'))
        .then(|| format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()))
}

fn validate_issuer(issuer: &str) -> Result<String, SettingsError> {
    let bad = |why: &str| SettingsError::setting("issuer", format!("`{issuer}` {why}"));
    let rest = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .ok_or_else(|| bad("must start with https:// (or http:// for local use)"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("has no host"));
    }
    if issuer.contains(['?', '#']) || issuer.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("must not have a query, a fragment or spaces"));
    }
    Ok(issuer.trim_end_matches('/').to_owned())
}

/// The names of the settings, as serde reads them (the fields of
/// [`RawSettings`]).
fn setting_names() -> &'static [&'static str] {
    use serde::de::{Error as _, Visitor};
    /// A deserializer that only notes the fields a struct asks for.
    struct FieldNames(&'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for &mut FieldNames {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("only a struct's field names are read"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields;
            Err(Self::Error::custom("field names read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    static NAMES: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = FieldNames(&[]);
        let _ = RawSettings::deserialize(&mut names);
        names.0
    })
}

/// The `PORTCULLIS_*` variables among `keys` that name no setting, each with
/// the nearest setting when one is close (`PORTCULLIS_ISUER (did you mean
/// PORTCULLIS_ISSUER?)`). `PORTCULLIS_CONFIG` and the tests'
/// `PORTCULLIS_TEST_*` are known.
fn unknown_variables(
    keys: impl Iterator<Item = std::ffi::OsString>,
    known: &[&str],
) -> Vec<String> {
    let mut unknown: Vec<String> = keys
        .filter_map(|key| key.into_string().ok())
        .filter_map(|key| {
            let name = key.strip_prefix("PORTCULLIS_")?.to_ascii_lowercase();
            let ours =
                name == "config" || name.starts_with("test_") || known.contains(&name.as_str());
            if ours {
                return None;
            }
            let nearest = known
                .iter()
                .map(|k| (strsim::damerau_levenshtein(&name, k), *k))
                .min()
                .filter(|(distance, k)| *distance <= 2.max(k.len() / 4));
            Some(match nearest {
                Some((_, k)) => format!(
                    "{key} (did you mean PORTCULLIS_{}?)",
                    k.to_ascii_uppercase()
                ),
                None => key,
            })
        })
        .collect();
    unknown.sort();
    unknown
}

fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("portcullis");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/portcullis"),
        None => PathBuf::from("portcullis-data"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawSettings {
        RawSettings {
            data_dir: Some("/tmp/pc".into()),
            ..RawSettings::default()
        }
    }

    #[test]
    fn defaults_need_nothing() {
        let s = Settings::validate(raw()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.signing_alg, Algorithm::RS256);
        assert_eq!(s.database_url, "sqlite:///tmp/pc/portcullis.db");
        assert_eq!(s.access_token_ttl, Duration::from_secs(900));
        assert_eq!(s.master_key_file, PathBuf::from("/tmp/pc/master.key"));
        assert!(s.signup);
        assert_eq!(s.session_ttl, Duration::from_secs(12 * 3600));
        assert_eq!(s.refresh_token_ttl, Duration::from_secs(30 * 86_400));
        assert_eq!(s.request_timeout, Duration::from_secs(30));
        assert_eq!(s.password_policy.min_score(), 3);
    }

    #[test]
    fn lifetimes_have_sane_bounds() {
        let mut r = raw();
        r.session_ttl = Some(DurationSetting::Seconds(5));
        let err = Settings::validate(r.clone()).unwrap_err().to_string();
        assert!(err.contains("`session_ttl`"), "{err}");
        r.session_ttl = Some(DurationSetting::Text("8h".into()));
        r.refresh_token_ttl = Some(DurationSetting::Text("7days".into()));
        let s = Settings::validate(r).unwrap();
        assert_eq!(s.session_ttl, Duration::from_secs(8 * 3600));
        assert_eq!(s.refresh_token_ttl, Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn durations_take_seconds_or_units() {
        let mut r = raw();
        r.access_token_ttl = Some(DurationSetting::Text("1h".into()));
        assert_eq!(
            Settings::validate(r.clone()).unwrap().access_token_ttl,
            Duration::from_secs(3600)
        );
        r.access_token_ttl = Some(DurationSetting::Text("120".into()));
        assert_eq!(
            Settings::validate(r.clone()).unwrap().access_token_ttl,
            Duration::from_secs(120)
        );
        r.access_token_ttl = Some(DurationSetting::Text("soon".into()));
        let err = Settings::validate(r).unwrap_err().to_string();
        assert!(
            err.contains("access_token_ttl") && !err.contains('\n'),
            "{err}"
        );
    }

    #[test]
    fn cors_origins_are_bare_origins() {
        let mut r = raw();
        r.cors_origins = Some("https://App.example, http://127.0.0.1:5173".into());
        let s = Settings::validate(r).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.cors_origins,
            ["https://app.example", "http://127.0.0.1:5173"]
        );
    }

    #[test]
    fn bad_values_name_their_setting() {
        type Case = (fn(&mut RawSettings), &'static str);
        let cases: [Case; 11] = [
            (|r| r.listen = Some("localhost".into()), "listen"),
            (|r| r.issuer = Some("ftp://x".into()), "issuer"),
            (|r| r.signing_alg = Some("HS256".into()), "signing_alg"),
            (
                |r| r.database_url = Some("mysql://x".into()),
                "database_url",
            ),
            (|r| r.password_min_score = Some(5), "password_min_score"),
            (
                |r| r.request_timeout = Some(DurationSetting::Seconds(0)),
                "request_timeout",
            ),
            (
                |r| r.request_timeout = Some(DurationSetting::Text("1h".into())),
                "request_timeout",
            ),
            (
                |r| r.cors_origins = Some("https://app.example/path".into()),
                "cors_origins",
            ),
            (
                |r| r.cors_origins = Some("app.example".into()),
                "cors_origins",
            ),
            (
                |r| r.device_code_ttl = Some(DurationSetting::Seconds(0)),
                "device_code_ttl",
            ),
            (
                |r| r.device_poll_interval = Some(DurationSetting::Seconds(61)),
                "device_poll_interval",
            ),
        ];
        for (set, name) in cases {
            let mut r = raw();
            set(&mut r);
            let err = Settings::validate(r).unwrap_err().to_string();
            assert!(err.contains(&format!("`{name}`")), "{err}");
        }
    }

    #[test]
    fn every_setting_is_known_and_strangers_are_named_with_the_nearest() {
        let known = setting_names();
        assert!(known.contains(&"listen") && known.contains(&"password_min_score"));
        let keys = [
            "PORTCULLIS_BIN",
            "PORTCULLIS_ISUER",
            "PORTCULLIS_LISTEN",
            "PORTCULLIS_CONFIG",
            "PORTCULLIS_TEST_DATABASE_URL",
            "HOME",
        ]
        .map(std::ffi::OsString::from);
        assert_eq!(
            unknown_variables(keys.into_iter(), known),
            [
                "PORTCULLIS_BIN",
                "PORTCULLIS_ISUER (did you mean PORTCULLIS_ISSUER?)"
            ]
        );
    }

    #[test]
    fn issuer_loses_its_trailing_slash() {
        let mut r = raw();
        r.issuer = Some("https://id.example.com/".into());
        assert_eq!(
            Settings::validate(r).unwrap().issuer.as_deref(),
            Some("https://id.example.com")
        );
    }
}
