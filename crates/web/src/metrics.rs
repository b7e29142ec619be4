//! `/metrics` in the Prometheus text format: tokens issued by grant and outcome, token-endpoint
//! latency, introspections.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    grant_type: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IntrospectionLabels {
    active: String,
}

pub struct Metrics {
    registry: Registry,
    tokens: Family<TokenLabels, Counter>,
    latency: Histogram,
    introspections: Family<IntrospectionLabels, Counter>,
}

/// Label values come from requests; only known ones are kept, so a caller cannot grow the series.
const KNOWN_GRANTS: [&str; 7] = [
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "password",
    "implicit",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
];

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("castellan");
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "token_requests",
            "Token endpoint requests by grant type and outcome",
            tokens.clone(),
        );
        // 100 µs .. ~3.3 s
        let latency = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        registry.register(
            "token_request_duration_seconds",
            "Token endpoint latency",
            latency.clone(),
        );
        let introspections = Family::<IntrospectionLabels, Counter>::default();
        registry.register(
            "introspections",
            "Introspection requests by result",
            introspections.clone(),
        );
        Self {
            registry,
            tokens,
            latency,
            introspections,
        }
    }
}

impl Metrics {
    pub fn token_request(&self, grant: &str, outcome: &str, took: Duration) {
        let grant = if KNOWN_GRANTS.contains(&grant) { grant } else { "other" };
        self.tokens
            .get_or_create(&TokenLabels {
                grant_type: grant.into(),
                outcome: outcome.into(),
            })
            .inc();
        self.latency.observe(took.as_secs_f64());
    }

    pub fn introspection(&self, active: bool) {
        self.introspections
            .get_or_create(&IntrospectionLabels {
                active: active.to_string(),
            })
            .inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
