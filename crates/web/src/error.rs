//! The error shapes of the API families, one renderer each, chosen by type where each family's
//! router is built: the Cloudentity ACP envelope (`HttpError`: `{"error", "status_code",
//! "details"}`) for `/api/…`, RFC 9457 problem details for the Cloudentity Nexus family
//! (`/v1/…`). A handler, extractor or conversion builds an [`ApiError<F>`]; `F` says how it is
//! rendered.

use std::marker::PhantomData;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use castellan_control::ControlError;
use castellan_types::ApiErrorBody;
use serde_json::{Map, Value, json};

/// How a family renders a failure.
pub trait Family: Send + Sync + 'static {
    fn render(e: ApiError<Self>) -> Response
    where
        Self: Sized;
}

/// The Cloudentity ACP error envelope (the admin, privacy and gateway APIs).
#[derive(Debug)]
pub struct Acp;

/// RFC 9457 problem details (`application/problem+json`), the Cloudentity Nexus family.
#[derive(Debug)]
pub struct Nexus;

/// The TMF error object (workspace clients, `/admin/workspaceClients`).
#[derive(Debug)]
pub struct Tmf;

/// The access-manager family (`/oam/…`): `{message, field}`.
#[derive(Debug)]
pub struct Oam;

/// A failure of an API request, rendered in the shape of the family `F`.
pub struct ApiError<F = Acp> {
    pub status: StatusCode,
    pub error: String,
    pub details: Map<String, Value>,
    /// Sent as `WWW-Authenticate` with a 401.
    pub challenge: bool,
    family: PhantomData<fn() -> F>,
}

impl<F> std::fmt::Debug for ApiError<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("error", &self.error)
            .field("details", &self.details)
            .field("challenge", &self.challenge)
            .finish()
    }
}

impl<F> ApiError<F> {
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
            details: Map::new(),
            challenge: false,
            family: PhantomData,
        }
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }

    pub fn unauthorized(msg: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, msg);
        e.challenge = true;
        e
    }

    pub fn not_found_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "no such API operation")
    }

    /// The same failure, rendered by another family.
    pub fn into_family<G>(self) -> ApiError<G> {
        ApiError {
            status: self.status,
            error: self.error,
            details: self.details,
            challenge: self.challenge,
            family: PhantomData,
        }
    }
}

impl<F> From<ControlError> for ApiError<F> {
    fn from(e: ControlError) -> Self {
        match e {
            // A well-formed body that breaks a rule (the Cloudentity ACP API lists 422 on every create and update).
            ControlError::Invalid { field, reason } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, format!("invalid {field}: {reason}"))
                    .detail("field", field)
                    .detail("reason", reason)
            }
            ControlError::Refused(m) => Self::new(StatusCode::BAD_REQUEST, m),
            ControlError::InUse(m) => Self::new(StatusCode::CONFLICT, m),
            ControlError::Unauthorized(m) => Self::unauthorized(m),
            ControlError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            ControlError::NotFound { what, id } => {
                Self::new(StatusCode::NOT_FOUND, format!("{what} not found")).detail("id", id)
            }
            ControlError::Conflict { what, id } => {
                Self::new(StatusCode::CONFLICT, format!("{what} already exists")).detail("id", id)
            }
            ControlError::Unavailable(detail) => {
                tracing::warn!(%detail, "store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the store is unavailable; try again later",
                )
            }
            ControlError::Internal(detail) => {
                // The detail is for operators only; the caller learns nothing about internals.
                tracing::error!(%detail, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

impl<F: Family> IntoResponse for ApiError<F> {
    fn into_response(self) -> Response {
        F::render(self)
    }
}

fn no_store(resp: &mut Response) {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

impl Family for Acp {
    fn render(e: ApiError<Self>) -> Response {
        let body = ApiErrorBody {
            error: e.error,
            status_code: e.status.as_u16(),
            details: e.details,
        };
        let mut resp = (e.status, axum::Json(json!(body))).into_response();
        if e.challenge {
            challenge(&mut resp);
        }
        no_store(&mut resp);
        resp
    }
}

tokio::task_local! {
    /// The path of the Nexus request being answered: a problem's `instance`.
    static INSTANCE: String;
}

/// The Nexus router's layer: problems name the request's path, and a handler that panics answers
/// a problem too (the handler runs in its own task).
pub(crate) async fn nexus_requests(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path().to_owned();
    let run = INSTANCE.scope(path.clone(), next.run(req));
    match tokio::spawn(crate::audit::carry(run)).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::error!(panicked = e.is_panic(), "a request handler did not finish");
            INSTANCE.sync_scope(path, || {
                ApiError::<Nexus>::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            })
        }
    }
}

impl Family for Nexus {
    /// The Nexus pages list no 422: a body that breaks a rule is a 400 there, as a malformed one is.
    fn render(e: ApiError<Self>) -> Response {
        let status = if e.status == StatusCode::UNPROCESSABLE_ENTITY {
            StatusCode::BAD_REQUEST
        } else {
            e.status
        };
        let (field, detail) = with_field(&e);
        // Outside the Nexus router (an unknown path under /v1) the path is in the details.
        let instance = INSTANCE.try_with(Clone::clone).unwrap_or_else(|_| {
            e.details
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        });
        let problem = castellan_types::nexus::Problem {
            type_: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail,
            instance,
            field,
        };
        let mut resp = (status, axum::Json(problem)).into_response();
        if e.challenge {
            challenge(&mut resp);
        }
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        no_store(&mut resp);
        resp
    }
}

/// The member a failure names, and its message: `error: reason` unless the error already says
/// the reason (the Nexus, TMF and access-manager families all word it so).
fn with_field<F>(e: &ApiError<F>) -> (Option<String>, String) {
    let field = e.details.get("field").and_then(Value::as_str).map(str::to_owned);
    let reason = e
        .details
        .get("reason")
        .or_else(|| e.details.get("id"))
        .and_then(Value::as_str);
    let message = match reason {
        Some(r) if !e.error.contains(r) => format!("{}: {r}", e.error),
        _ => e.error.clone(),
    };
    (field, message)
}

fn challenge(resp: &mut Response) {
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Basic realm="castellan", charset="UTF-8""#),
    );
}

impl Family for Tmf {
    /// The workspace-client page lists no 422: a body that breaks a rule is a 400 there.
    fn render(e: ApiError<Self>) -> Response {
        let status = if e.status == StatusCode::UNPROCESSABLE_ENTITY {
            StatusCode::BAD_REQUEST
        } else {
            e.status
        };
        let (_, message) = with_field(&e);
        let code = status
            .canonical_reason()
            .unwrap_or("Error")
            .to_ascii_uppercase()
            .replace([' ', '-'], "_");
        let body = castellan_types::workspace::TmfError {
            code,
            reason: e.error.clone(),
            message: Some(message),
            status: Some(status.as_u16().to_string()),
            reference_error: None,
            type_: Some("Error".into()),
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if e.challenge {
            challenge(&mut resp);
        }
        no_store(&mut resp);
        resp
    }
}

impl Family for Oam {
    /// The access-manager page answers `422` when a client cannot be created; credentials,
    /// permissions and missing clients keep their own status.
    fn render(e: ApiError<Self>) -> Response {
        let status = match e.status.as_u16() {
            401 | 403 | 404 | 405 | 413 | 500..=599 => e.status,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let (field, message) = with_field(&e);
        let body = castellan_types::oam::OamError { message, field };
        let mut resp = (status, axum::Json(body)).into_response();
        if e.challenge {
            challenge(&mut resp);
        }
        no_store(&mut resp);
        resp
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn bad() -> Result<&'static str, ApiError<Nexus>> {
        Err(ControlError::invalid("clientId", "is required").into())
    }

    async fn buggy() -> &'static str {
        panic!("a handler bug")
    }

    async fn call(path: &str) -> (StatusCode, String, Value) {
        let app: Router = Router::new()
            .route("/v1/bad", get(bad))
            .route("/v1/panic", get(buggy))
            .layer(axum::middleware::from_fn(nexus_requests));
        let r = app
            .oneshot(axum::http::Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let ct = r.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
        let status = r.status();
        let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        (status, ct, serde_json::from_slice(&body).unwrap())
    }

    /// The Nexus family renders by type: a rule broken is a 400 problem naming the member and the
    /// request's path, and a handler that panics answers a problem too.
    #[tokio::test]
    async fn nexus_failures_are_problems_even_when_a_handler_panics() {
        let (status, ct, body) = call("/v1/bad").await;
        assert_eq!(
            (status, ct.as_str()),
            (StatusCode::BAD_REQUEST, "application/problem+json")
        );
        assert_eq!(body["field"], "clientId");
        assert_eq!(body["instance"], "/v1/bad");
        assert_eq!(body["detail"], "invalid clientId: is required");
        let (status, ct, body) = call("/v1/panic").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(
            (body["status"].clone(), body["instance"].clone()),
            (json!(500), json!("/v1/panic"))
        );
    }

    #[test]
    fn the_acp_family_renders_its_envelope() {
        let r = ApiError::<Acp>::from(ControlError::InUse("policy p is in use".into())).into_response();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    }
}
