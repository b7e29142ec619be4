use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The control-plane error envelope of Cloudentity ACP (`HttpError`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(as = Error, example = json!({"error": "authorization server not found", "status_code": 404, "details": {"id": "missing"}}))]
pub struct ApiErrorBody {
    /// Human-readable summary of what went wrong.
    pub error: String,
    /// The HTTP status code, repeated in the body.
    pub status_code: u16,
    /// Machine-readable particulars, e.g. `{"field": "secret", "reason": "..."}` for a 400.
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, serde_json::Value>,
}
