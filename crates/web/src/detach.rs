//! Every request runs to completion in its own task, even when the caller goes away.
//!
//! Without this, a client that disconnects (a timeout, a closed tab, a load generator stopping)
//! makes hyper drop the handler's future wherever it is waiting. Dropping a store transaction
//! that was opened is safe (it rolls back), but the driver's `BEGIN` is not cancel-safe: a future
//! dropped inside it can hand the connection back to the pool with the transaction still open
//! and holding SQLite's write lock, so every later writer waits out its busy timeout. A detached
//! task finishes its transaction (commit or rollback) whatever the caller does; a panic in a
//! handler becomes a 500 instead of a dropped connection.

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Reads that never open a transaction run inline: a task per request costs ~8% of the
/// throughput of the gateway authorizer and of `/health/live` (`bench/gateway.sh`).
fn read_only(req: &Request) -> bool {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return false;
    }
    let path = req.uri().path();
    path.starts_with("/health/")
        || path == "/metrics"
        || path.contains("/.well-known/")
        || (path.starts_with("/api/gateway/") && path.ends_with("/authorize"))
}

pub(crate) async fn run_to_completion(req: Request, next: Next) -> Response {
    if read_only(&req) {
        return next.run(req).await;
    }
    match tokio::spawn(next.run(req)).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::error!(panicked = e.is_panic(), "a request handler did not finish");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
