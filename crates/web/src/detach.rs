//! Every request runs to completion in its own task, even when the caller goes away.
//!
//! Without this, a client that disconnects (a timeout, a closed tab, a load generator stopping)
//! makes hyper drop the handler's future wherever it is waiting. A write has work after its
//! commit: the process that wrote applies the change to its own configuration snapshot
//! (`Engine::changed`; on the embedded store nothing else tells it), so a handler dropped
//! between the commit and that call would leave this node serving the old configuration — a
//! deleted client still authenticating — until the next change. A detached
//! task finishes it whatever the caller does; a panic in a handler becomes a 500 instead of a
//! dropped connection. (The stores separately make their `BEGIN` cancel-safe, for callers that
//! are not requests.)

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Requests this layer runs inline: reads that never open a transaction (a task per request
/// costs ~8% of the throughput of the gateway authorizer and of `/health/live`,
/// `bench/gateway.sh`), and token requests, whose handler detaches the grants that write
/// ([`detached`]) and answers `client_credentials` inline (it writes nothing; the task and the
/// wake-up of another worker thread were a tenth of a token's cost, `bench/limit.sh`).
fn inline(req: &Request) -> bool {
    let path = req.uri().path();
    if *req.method() == Method::POST {
        return path.ends_with("/oauth2/token");
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return false;
    }
    path.starts_with("/health/")
        || path == "/metrics"
        || path.contains("/.well-known/")
        || (path.starts_with("/api/gateway/") && path.ends_with("/authorize"))
}

pub(crate) async fn run_to_completion(req: Request, next: Next) -> Response {
    if inline(&req) {
        return next.run(req).await;
    }
    detached(next.run(req)).await.unwrap_or_else(|()| {
        ApiError::<crate::error::Acp>::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
    })
}

/// Runs `work` in a task of its own, so that it finishes even when its caller goes away; `Err`
/// when it panicked (logged here).
pub(crate) async fn detached<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> Result<T, ()> {
    tokio::spawn(work).await.map_err(|e| {
        tracing::error!(panicked = e.is_panic(), "a request handler did not finish");
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::routing::any;
    use tower::ServiceExt;

    use super::*;

    async fn buggy() -> &'static str {
        panic!("a handler bug")
    }

    /// `/slow` (any method) sets `done` after 50 ms; `/panic` panics.
    fn app(done: Arc<AtomicBool>) -> Router {
        let slow = move || {
            let done = done.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                done.store(true, Ordering::SeqCst);
                "done"
            }
        };
        Router::new()
            .route("/slow", any(slow.clone()))
            .route("/health/slow", any(slow))
            .route("/panic", any(buggy))
            .layer(axum::middleware::from_fn(run_to_completion))
    }

    /// Sends `method path` and gives up after 5 ms, as a disconnecting client does; whether the
    /// handler still finished.
    async fn finished_after_the_caller_left(method: Method, path: &str) -> bool {
        let done = Arc::new(AtomicBool::new(false));
        let req = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
        let answered = tokio::time::timeout(Duration::from_millis(5), app(done.clone()).oneshot(req)).await;
        assert!(answered.is_err(), "the caller left before the answer");
        tokio::time::sleep(Duration::from_millis(200)).await;
        done.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_request_runs_to_completion_when_its_caller_goes_away() {
        assert!(finished_after_the_caller_left(Method::POST, "/slow").await);
        assert!(finished_after_the_caller_left(Method::GET, "/slow").await);
        // Reads that never write stay inline and stop with their caller.
        assert!(!finished_after_the_caller_left(Method::GET, "/health/slow").await);
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500() {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/panic")
            .body(Body::empty())
            .unwrap();
        let resp = app(Arc::default()).oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn only_reads_that_never_write_and_token_requests_stay_inline() {
        let inline = |method: Method, path: &str| {
            super::inline(&Request::builder().method(method).uri(path).body(Body::empty()).unwrap())
        };
        assert!(inline(Method::GET, "/health/live"));
        assert!(inline(Method::HEAD, "/metrics"));
        assert!(inline(Method::GET, "/t/s/.well-known/openid-configuration"));
        assert!(inline(Method::GET, "/api/gateway/t/edge/authorize"));
        assert!(!inline(Method::POST, "/api/gateway/t/edge/authorize"));
        assert!(!inline(Method::POST, "/health/live"));
        assert!(!inline(Method::GET, "/api/admin/t/clients"));
        assert!(!inline(Method::GET, "/t/s/oauth2/authorize"));
        // The token handler detaches the grants that write itself.
        assert!(inline(Method::POST, "/t/s/oauth2/token"));
        assert!(!inline(Method::POST, "/t/s/oauth2/revoke"));
        assert!(!inline(Method::POST, "/t/s/oauth2/introspect"));
    }
}
