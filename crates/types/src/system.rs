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

/// The configuration of one or more tenants (Cloudentity ACP `Dump`), as `GET
/// /api/system/configuration` exports it and `PUT` imports it. Every member is a list and may be
/// left out: a dump may carry only some kinds of objects, for tenants that exist already. Each
/// object names its tenant (`tenant_id`; on import, `?tid=` stands in for a missing one). Objects
/// have the shape of the admin API's create requests, so a hand-written dump needs only what a
/// create needs; an export fills in every member. Castellan adds `gateways`, `roles` and
/// `sts_clients`, and per server `signing_keys`; login methods and their static users travel
/// inside their server's `authentications`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
#[schema(example = json!({"tenants": [{"id": "acme", "name": "Acme Corp"}],
    "policies": [{"id": "staff-only", "policy_name": "Staff only", "tenant_id": "acme", "language": "cloudentity",
        "validators": [{"name": "identity-context", "conf": {"fields": [{"field": "groups", "comparator": "contains", "value": "staff"}]}}]}],
    "clients": [{"client_id": "reports", "client_name": "Reports", "authorization_server_id": "default", "tenant_id": "acme",
        "grant_types": ["client_credentials"], "scopes": ["email"]}]}))]
pub struct Dump {
    pub apis: Vec<crate::services::Api>,
    pub claims: Vec<crate::ClaimRequest>,
    // Boxed: an import converts them one by one, and each is freed as it is converted.
    pub clients: Vec<Box<crate::ClientRequest>>,
    pub consent_actions: Vec<crate::privacy::ConsentActionWithConsents>,
    pub consents: Vec<crate::privacy::Consent>,
    pub policies: Vec<crate::policies::PolicyRequest>,
    /// Scopes that belong to no service (a service's scopes are listed with it).
    pub scopes_without_service: Vec<crate::ScopeRequest>,
    pub servers: Vec<DumpServer>,
    pub services: Vec<DumpService>,
    pub tenants: Vec<crate::TenantRequest>,
    pub gateways: Vec<DumpGateway>,
    pub roles: Vec<DumpRole>,
    pub sts_clients: Vec<DumpStsClient>,
}

/// An authorization server in a dump: the server's settings, and, in an export with secrets,
/// its secret and private signing keys (so tokens it signed stay valid where it is imported).
/// Static users carry `password_hash` (argon2id) in an export with secrets.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DumpServer {
    #[serde(flatten)]
    pub server: crate::ServerRequest,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signing_keys: Vec<DumpSigningKey>,
}

/// A server's signing key with its private part (PKCS#8 DER, base64url), only in an export with
/// secrets. The key is sealed again with the importing installation's master key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DumpSigningKey {
    pub kid: String,
    /// `RS256`, `PS256` or `ES256`.
    pub alg: String,
    /// `current` (signs), `next` (published, signs from `activates_at`), `retired` (published
    /// until `retires_at`; `rotated` is read as `retired`) or `id_token` (the RS256 key of ID
    /// tokens when the server's own key is of another type). Revoked keys are not exported.
    pub status: String,
    pub pkcs8: String,
    /// Unix seconds.
    #[serde(default)]
    pub created_at: i64,
    /// Unix seconds: when a `next` key starts signing, or a `current` one started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activates_at: Option<i64>,
    /// Unix seconds: when a `retired` key leaves the JWK Set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retires_at: Option<i64>,
}

/// A service in a dump, with the scopes that belong to it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DumpService {
    #[serde(flatten)]
    pub service: crate::services::Service,
    #[serde(default)]
    pub scopes: Vec<crate::ScopeRequest>,
}

/// A gateway in a dump; its client is one of the dump's clients.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DumpGateway {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub tenant_id: String,
    #[serde(default)]
    pub authorization_server_id: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `nginx`, `caddy` or `pyron`.
    #[serde(default, rename = "type")]
    pub kind: String,
}

/// A developer role of a tenant (`/v1/roles`): its permissions as space-delimited codes and the
/// groups mapped to it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DumpRole {
    #[serde(default)]
    pub tenant_id: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: String,
    #[serde(default)]
    pub connection_maps: Vec<DumpConnectionMap>,
}

/// A group mapped to a role.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DumpConnectionMap {
    #[serde(default)]
    pub group_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
}

/// An STS client mapping of a tenant (`/v1/sts-clients`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DumpStsClient {
    #[serde(default)]
    pub tenant_id: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Space-delimited permission codes.
    #[serde(default)]
    pub permissions: String,
}

/// Answer to `PUT /api/system/configuration`: what the import wrote.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"tenants": ["acme"], "created": 12, "replaced": 3, "kept": 1}))]
pub struct ConfigurationImported {
    /// The tenants the import touched.
    pub tenants: Vec<String>,
    /// Objects written new.
    pub created: u64,
    /// Objects written over the stored ones (`mode=update`).
    pub replaced: u64,
    /// Objects left as stored: with `mode=ignore`, and system tenants and servers (and the
    /// built-in policies) with `mode=update`.
    pub kept: u64,
}
