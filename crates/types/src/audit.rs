//! The admin audit trail (`GET /api/admin/{tid}/audit`): one event per management write.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// One management write. `payload_signature` is a compact JWS (ES256, the tenant's ledger key,
/// published at `GET /api/admin/{tid}/events/key`) whose claims chain the event to the one
/// before it, as on the privacy ledger, with `"chain": "audit"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    /// Its place in the tenant's trail (1 is the first).
    pub sequence: i64,
    pub id: String,
    /// RFC 3339.
    pub date: String,
    /// The operation, named as in the OpenAPI document (`createClient`, `rotateSigningKeys`, …).
    pub operation: String,
    /// The object written, `{kind}/{id}` (`clients/shop-web`, `servers/shop`); just `{kind}`
    /// when the operation names no single object (a configuration import).
    pub object: String,
    /// Who wrote it: `client:{client_id}`, `person:{sub}` (a person signed in, e.g. on the
    /// console), `developer:{sub}`, `operator:operator` (`castellan import`, `castellan admin
    /// reset-secret`).
    pub actor: String,
    /// The whole signed record: `actor`, `tenant_id`, `operation`, `object`, `via` (`api`,
    /// `console`, or `cli` for an operator command on the store), `request` (`method`, `path`, `status`), `from` (`address`, `user_agent`), and
    /// `before`/`after`: base64url SHA-256 digests of the object as the API shows it (no
    /// secret is ever part of a record), `null` when it did not exist.
    #[schema(value_type = Object)]
    pub payload: Value,
    pub payload_signature: String,
}

/// A page of the trail, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvents {
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}
