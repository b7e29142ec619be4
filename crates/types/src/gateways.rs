//! Wire types of gateways (Cloudentity ACP `/gateways`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Client;

/// `POST /gateways`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Edge nginx", "description": "In front of the pet store", "server_id": "default",
    "type": "nginx"}))]
pub struct CreateGatewayRequest {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The authorization server whose tokens the gateway accepts.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    /// `nginx`, `caddy` or `pyron` (same protocol as `nginx`).
    #[serde(default, rename = "type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `PUT /gateways/{gw}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UpdateGatewayRequest {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A gateway as lists and updates answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"authorization_server_id": "default", "client_id": "6f1c…", "description": "In front of the pet store",
    "id": "edge", "last_active": "2026-11-24T07:47:23Z", "name": "Edge nginx", "tenant_id": "default", "type": "nginx"}))]
pub struct Gateway {
    pub authorization_server_id: String,
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub id: String,
    /// When it last asked the authorizer (RFC 3339; absent: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active: Option<String>,
    pub name: String,
    pub tenant_id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `POST` and `GET /gateways/{gw}`: the gateway with its client (secret included) and where it
/// talks to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GatewayWithClient {
    #[serde(flatten)]
    pub gateway: Gateway,
    pub client: Client,
    /// The issuer of the tokens it accepts.
    pub issuer_url: String,
    /// Castellan's base URL (the authorizer is `{server_url}/api/gateway/{tid}/{gw}/authorize`).
    pub server_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Gateways {
    pub gateways: Vec<Gateway>,
}
