//! The control-plane error envelope (Cloudentity ACP `HttpError`): `{"error", "status_code", "details"}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use castellan_control::ControlError;
use castellan_types::ApiErrorBody;
use serde_json::{Map, Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub details: Map<String, Value>,
    /// Sent as `WWW-Authenticate` with a 401.
    pub challenge: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
            details: Map::new(),
            challenge: false,
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
}

impl From<ControlError> for ApiError {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ApiErrorBody {
            error: self.error,
            status_code: self.status.as_u16(),
            details: self.details,
        };
        let parts = ErrorParts {
            field: body.details.get("field").and_then(|f| f.as_str()).map(str::to_owned),
            reason: body
                .details
                .get("reason")
                .or_else(|| body.details.get("id"))
                .and_then(|f| f.as_str())
                .map(str::to_owned),
            error: body.error.clone(),
        };
        let mut resp = (self.status, axum::Json(json!(body))).into_response();
        resp.extensions_mut().insert(parts);
        if self.challenge {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="castellan", charset="UTF-8""#),
            );
        }
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

/// What an error said, kept on its response so that a family with another error shape can render
/// it again (see [`family_errors`]).
#[derive(Debug, Clone)]
struct ErrorParts {
    error: String,
    field: Option<String>,
    /// The rule broken, or the id not found / already taken.
    reason: Option<String>,
}

/// Renders errors of the families whose paths start with `/v1/` (Cloudentity Nexus) as RFC 9457
/// problem details. Their seed lists no 422: a body that breaks a rule is a 400 there, as a
/// malformed one is.
pub(crate) async fn family_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path();
    if !(path == "/v1" || path.starts_with("/v1/")) {
        return next.run(req).await;
    }
    let path = path.to_owned();
    let resp = next.run(req).await;
    let Some(parts) = resp.extensions().get::<ErrorParts>().cloned() else {
        return resp;
    };
    let mut status = resp.status();
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        status = StatusCode::BAD_REQUEST;
    }
    let detail = match &parts.reason {
        Some(r) if !parts.error.contains(r.as_str()) => format!("{}: {r}", parts.error),
        _ => parts.error.clone(),
    };
    let problem = castellan_types::nexus::Problem {
        type_: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail,
        instance: path,
        field: parts.field,
    };
    let mut out = (status, axum::Json(problem)).into_response();
    for name in [header::WWW_AUTHENTICATE, header::CACHE_CONTROL] {
        if let Some(v) = resp.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    out
}
