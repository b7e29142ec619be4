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
    grant_type: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PurgeLabels {
    table: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IntrospectionLabels {
    active: &'static str,
}

pub struct Metrics {
    registry: Registry,
    tokens: Family<TokenLabels, Counter>,
    latency: Histogram,
    introspections: Family<IntrospectionLabels, Counter>,
    purged: Family<PurgeLabels, Counter>,
}

/// Label values come from requests; only known ones are kept, so a caller cannot grow the series.
const KNOWN_GRANTS: [&str; 8] = [
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "password",
    "implicit",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:device_code",
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
        let purged = Family::<PurgeLabels, Counter>::default();
        registry.register(
            "purged_rows",
            "Expired rows this node's cleanup removed, by table",
            purged.clone(),
        );
        Self {
            registry,
            tokens,
            latency,
            introspections,
            purged,
        }
    }
}

/// The label of a requested `grant_type`: a known one, or `other`.
pub fn grant_label(grant: &str) -> &'static str {
    KNOWN_GRANTS.iter().find(|g| **g == grant).copied().unwrap_or("other")
}

impl Metrics {
    /// `outcome` is `issued` or an OAuth error code. Labels are static texts: a request costs no
    /// allocation here.
    pub fn token_request(&self, grant_type: &'static str, outcome: &'static str, took: Duration) {
        self.tokens.get_or_create(&TokenLabels { grant_type, outcome }).inc();
        self.latency.observe(took.as_secs_f64());
    }

    pub fn introspection(&self, active: bool) {
        self.introspections
            .get_or_create(&IntrospectionLabels {
                active: if active { "true" } else { "false" },
            })
            .inc();
    }

    /// The metrics as text; `purged` is the control plane's count of purged rows by table
    /// (monotonic: the counters are brought up to it).
    pub fn render(&self, purged: &[(&'static str, u64)]) -> String {
        for (table, total) in purged {
            let c = self.purged.get_or_create(&PurgeLabels { table });
            c.inc_by(total.saturating_sub(c.get()));
        }
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
