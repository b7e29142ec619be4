//! One log line per request: method, path (never the query: it may carry codes or tokens),
//! tenant, server, status and latency.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// `(tenant, server)` from `/api/{family}/{tid}/servers/{aid}…` or `/{tid}/{aid}/…`.
fn tenant_and_server(path: &str) -> (&str, &str) {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["api", "admin" | "developer", tid, "servers", aid, ..] => (tid, aid),
        ["api", "admin" | "developer", tid, ..] => (tid, ""),
        ["api" | "health" | "docs" | "metrics", ..] => ("", ""),
        [tid, aid, ..] => (tid, aid),
        _ => ("", ""),
    }
}

/// Where the handling of a request records which client it authenticated, for the log line.
#[derive(Clone, Default)]
pub(crate) struct ClientSlot(Arc<OnceLock<String>>);

impl ClientSlot {
    pub(crate) fn set(&self, client_id: &str) {
        let _ = self.0.set(client_id.to_owned());
    }
}

pub(crate) async fn log_request(mut req: Request, next: Next) -> Response {
    // Nothing is copied for a line that will not be written (`CASTELLAN_LOG=warn`).
    if !tracing::enabled!(target: "castellan::http", tracing::Level::INFO) {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let slot = ClientSlot::default();
    req.extensions_mut().insert(slot.clone());
    let resp = next.run(req).await;
    let (tenant, server) = tenant_and_server(&path);
    tracing::info!(
        target: "castellan::http",
        %method,
        path = %path,
        tenant = %tenant,
        server = %server,
        client = %slot.0.get().map_or("", String::as_str),
        status = resp.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::tenant_and_server;

    #[test]
    fn finds_tenant_and_server() {
        assert_eq!(tenant_and_server("/api/admin/acme/servers/shop"), ("acme", "shop"));
        assert_eq!(tenant_and_server("/api/admin/acme/tenant"), ("acme", ""));
        assert_eq!(tenant_and_server("/acme/shop/oauth2/token"), ("acme", "shop"));
        assert_eq!(tenant_and_server("/health/live"), ("", ""));
    }
}
