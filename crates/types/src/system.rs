//! The system API (`/api/system/…`): what spans tenants. Only credentials of the system tenant
//! (the one the first start bootstrapped) hold `system.read` / `system.write`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Tenant;

/// Body of `POST /api/system/tenants`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "acme", "name": "Acme Corp"}))]
pub struct SystemTenantRequest {
    /// The new tenant's id (letters, digits, `-`, `_`; unique: 409 when taken).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name; the id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Key type of the new tenant's servers: `rsa` (default), `ecdsa` or `ps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
}

/// Answer to `POST /api/system/tenants`: the tenant and the credentials of its admin client
/// (the secret is shown only here).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"tenant": {"id": "acme", "name": "Acme Corp", "url": "https://id.example.com/acme"},
    "authorization_server_id": "admin", "client_id": "bootstrap", "client_secret": "hW5WhKX_7w7BLwUQ6mn7Cp70_OoKI_F1y1hLS5U8lIU"}))]
pub struct SystemTenantCreated {
    pub tenant: Tenant,
    /// The server the admin client belongs to (`admin`).
    pub authorization_server_id: String,
    pub client_id: String,
    pub client_secret: String,
}
