//! Prometheus metrics at `/metrics`: requests by endpoint and status, their
//! latency, token issuance by grant and outcome, failed sign-ins, and the
//! database pool. Labels take only bounded values (route templates, status
//! codes, known grant types and error codes), never a token or a user.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    grant_type: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 4 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

/// The server's metrics.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<EndpointLabels, Histogram, fn() -> Histogram>,
    tokens: Family<TokenLabels, Counter>,
    login_failures: Counter,
    logout_deliveries: Family<OutcomeLabels, Counter>,
    pool: Family<PoolLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("portcullis");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by endpoint (route template) and status code",
            requests.clone(),
        );
        let latency = Family::<EndpointLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by endpoint",
            latency.clone(),
        );
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "token_requests",
            "Token endpoint requests by grant type and outcome (issued, or the error code)",
            tokens.clone(),
        );
        let login_failures = Counter::default();
        registry.register(
            "login_failures",
            "Refused passwords, on the sign-in page and the password grant",
            login_failures.clone(),
        );
        let logout_deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "backchannel_logout_deliveries",
            "Logout token deliveries by outcome (delivered, retry, failed)",
            logout_deliveries.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state (idle, in_use)",
            pool.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            tokens,
            login_failures,
            logout_deliveries,
            pool,
        }
    }
}

/// Grant types counted under their own name; anything else is `other`.
const GRANTS: [&str; 7] = [
    "authorization_code",
    "client_credentials",
    "refresh_token",
    "password",
    "implicit",
    portcullis_core::client::DEVICE_CODE_GRANT,
    portcullis_core::client::TOKEN_EXCHANGE_GRANT,
];

impl Metrics {
    /// Counts one token request.
    pub fn token_request(&self, grant_type: &str, outcome: &'static str) {
        let grant_type = GRANTS
            .into_iter()
            .find(|g| *g == grant_type)
            .unwrap_or("other");
        self.tokens
            .get_or_create(&TokenLabels {
                grant_type,
                outcome,
            })
            .inc();
    }

    /// Counts one attempt to deliver a logout token.
    pub fn logout_delivery(&self, outcome: &'static str) {
        self.logout_deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts one refused password.
    pub fn login_failure(&self) {
        self.login_failures.inc();
    }

    /// The metrics in the Prometheus text format, with the pool as given.
    pub fn render(&self, pool: (u32, u32)) -> String {
        let (size, idle) = pool;
        self.pool
            .get_or_create(&PoolLabels { state: "idle" })
            .set(i64::from(idle));
        self.pool
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(i64::from(size.saturating_sub(idle)));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Middleware: counts and times every request by its route template.
pub(crate) async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics
        .latency
        .get_or_create(&EndpointLabels {
            endpoint: endpoint.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            endpoint,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
