//! Wire types of the Cloudentity Nexus management family (`/v1/sts-clients`, `/v1/roles`):
//! camelCase members, RFC 9457 problem details for errors.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/sts-clients` and `PUT /v1/sts-clients/{clientId}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"clientId": "reporting@clients", "description": "Nightly reports",
    "permissions": "client.read scope.read"}))]
pub struct StsClientRequest {
    /// The STS client identifier (from JWT `cid` or `sub` claim, e.g. `myclient@clients`): 1–256
    /// characters. On `PUT`, absent or equal to the path's.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Human-readable description of this client registration.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Permissions (space-delimited) to grant to this STS client. These are the only permissions
    /// the client will have — no inheritance from any user.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
}

/// An STS client mapping.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"userId": "bootstrap", "created": "2026-11-23T10:00:00Z",
    "clientId": "reporting@clients", "modified": "2026-11-23T10:00:00Z", "createdBy": "bootstrap",
    "modifiedBy": "bootstrap", "description": "Nightly reports", "permissions": "client.read scope.read"}))]
pub struct StsClient {
    /// The user (or client) that created the mapping: audit only, never a source of permissions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// RFC 3339.
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// RFC 3339.
    pub modified: String,
    /// The `ApplicationToken` of the creating request, else the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Permissions (space-delimited) granted to this STS client: the only ones it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
}

/// `POST /v1/roles`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"audience": "https://api.example.com", "description": "Builds the shop",
    "productName": "Shop"}))]
pub struct RoleRequest {
    /// The audience for the role (e.g. `https://api.example.com`). Required, minLength 1.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The product name. The role will be named `{productName}-developers`. Required, minLength 1.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// An optional description of the role.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PUT /v1/roles/{id}`: members left out keep their value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"audience": "https://api.example.com", "description": "Builds the shop",
    "permissions": "client.read client.write server.read scope.read scope.write"}))]
pub struct RoleUpdate {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The role's permissions, space-delimited (replaces them all).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
}

/// A developer role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "6f1c1bd4-8f0e-4d0b-9d51-3f1f0b1f8a11", "name": "Shop-developers",
    "audience": "https://api.example.com", "description": "Builds the shop",
    "permissions": [{"code": "client.read", "roleId": "6f1c1bd4-8f0e-4d0b-9d51-3f1f0b1f8a11", "permissionId": 5}],
    "connectionMaps": []}))]
pub struct Role {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `{productName}-developers`, unique in the tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub permissions: Vec<RolePermission>,
    pub connection_maps: Vec<ConnectionMap>,
}

/// A permission of a role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RolePermission {
    /// `{resource}.{read|write}`.
    pub code: String,
    pub role_id: String,
    /// The code's fixed number in Castellan's permission catalogue.
    pub permission_id: i32,
}

/// An identity-provider group mapped to a role: people in the group hold the role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionMap {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The role (without its permissions and maps).
    #[schema(no_recursion)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Box<Role>>,
    pub role_id: String,
    /// The group, as the person's authentication context lists it in `groups`.
    pub group_name: String,
    /// The login method (connection) the group comes from; informational.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azo_connection_id: Option<String>,
}

/// `POST /v1/roles/{id}/connection-maps`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"groupName": "shop-team", "name": "Shop team", "azoConnectionId": "static"}))]
pub struct ConnectionMapRequest {
    /// Required, minLength 1.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azo_connection_id: Option<String>,
}

/// RFC 9457 problem details, the error body of this family (`application/problem+json`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"type": "about:blank", "title": "Forbidden", "status": 403,
    "detail": "this operation requires the role.write permission", "instance": "/v1/roles"}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub instance: String,
    /// The request member at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
