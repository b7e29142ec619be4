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
        let mut resp = (self.status, axum::Json(json!(body))).into_response();
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
