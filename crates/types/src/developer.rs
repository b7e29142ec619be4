//! The developer API (Cloudentity ACP `/api/developer/{tid}/…`): developers register and manage
//! their own clients and see the servers and scopes they may use.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Client, ClientRequest, Jwks};

/// What a developer sets on a client: the Cloudentity ACP client fields a developer may choose.
/// Each is optional; on create, omitted fields take the same defaults as the admin API (grant
/// `authorization_code` with response type `code`, `client_secret_basic`); `PUT` replaces the
/// whole client, so an omitted field returns to its default there too.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DeveloperClientFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// Read-only; ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_issued_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    /// Grant types enabled on the client's server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    /// Scopes of the client's server whose developer policy passes for the caller (403 naming
    /// the first that does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Space-separated alternative to `scopes`; `scopes` wins when both are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    /// `true` makes a public client (authentication method `none`, no secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_signing_alg: Option<String>,
    /// An object (privacy settings per scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub privacy: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_uris: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_dns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_email: Option<String>,
    /// Only `false` (certificate-bound access tokens are not issued yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
}

impl DeveloperClientFields {
    /// The same fields as an admin client request (no id, secret, `trusted` or `system`: a
    /// developer sets none of those).
    pub fn into_client_request(self) -> ClientRequest {
        ClientRequest {
            client_name: self.client_name,
            client_id_issued_at: self.client_id_issued_at,
            client_secret_expires_at: self.client_secret_expires_at,
            grant_types: self.grant_types,
            response_types: self.response_types,
            token_endpoint_auth_method: self.token_endpoint_auth_method,
            redirect_uris: self.redirect_uris,
            scopes: self.scopes,
            scope: self.scope,
            audience: self.audience,
            public: self.public,
            jwks: self.jwks,
            jwks_uri: self.jwks_uri,
            description: self.description,
            client_uri: self.client_uri,
            logo_uri: self.logo_uri,
            policy_uri: self.policy_uri,
            tos_uri: self.tos_uri,
            token_endpoint_signing_alg: self.token_endpoint_signing_alg,
            privacy: self.privacy,
            request_object_signing_alg: self.request_object_signing_alg,
            request_uris: self.request_uris,
            sector_identifier_uri: self.sector_identifier_uri,
            userinfo_signed_response_alg: self.userinfo_signed_response_alg,
            tls_client_auth_subject_dn: self.tls_client_auth_subject_dn,
            tls_client_auth_san_dns: self.tls_client_auth_san_dns,
            tls_client_auth_san_uri: self.tls_client_auth_san_uri,
            tls_client_auth_san_ip: self.tls_client_auth_san_ip,
            tls_client_auth_san_email: self.tls_client_auth_san_email,
            tls_client_certificate_bound_access_tokens: self.tls_client_certificate_bound_access_tokens,
            ..ClientRequest::default()
        }
    }
}

/// Body of `POST /api/developer/{tid}/clients` (Cloudentity ACP `DeveloperCreateClientRequest`).
/// The client id and secret are always generated.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"client_name": "My app", "authorization_server_id": "default",
    "grant_types": ["authorization_code", "refresh_token"], "redirect_uris": ["https://app.example.com/callback"],
    "scopes": ["openid", "offline_access"]}))]
pub struct DeveloperCreateClientRequest {
    /// The server the client belongs to: an existing one that is not a system server (422) and
    /// whose developer policy passes for the caller (403).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server_id: Option<String>,
    #[serde(flatten)]
    pub fields: DeveloperClientFields,
}

/// Body of `PUT /api/developer/{tid}/clients/{cid}` (Cloudentity ACP
/// `DeveloperUpdateClientRequest`): the whole client; what is left out returns to its default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"client_name": "My app", "grant_types": ["authorization_code"],
    "redirect_uris": ["https://app.example.com/callback"], "scopes": ["openid"]}))]
pub struct DeveloperUpdateClientRequest {
    /// Must be absent or empty: a developer client's secret is generated and kept as a hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(flatten)]
    pub fields: DeveloperClientFields,
}

/// A client as its developer sees it (Cloudentity ACP `DeveloperClientResponse`).
/// `client_secret` is given once, in the answer to the create; afterwards it is empty (only its
/// hash is kept).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"client_id": "c5a7b0e4d3f24f0e9a0a3b1c2d4e5f60", "client_name": "My app",
    "authorization_server_id": "default", "client_secret": "hW5WhKX_7w7BLwUQ6mn7Cp70_OoKI_F1y1hLS5U8lIU",
    "client_id_issued_at": 1700000000, "client_secret_expires_at": 0,
    "grant_types": ["authorization_code"], "response_types": ["code"], "token_endpoint_auth_method": "client_secret_basic",
    "redirect_uris": ["https://app.example.com/callback"], "scopes": ["openid"], "scope": "openid",
    "audience": [], "public": false, "tls_client_certificate_bound_access_tokens": false}))]
pub struct DeveloperClientResponse {
    pub client_id: String,
    pub client_name: String,
    pub authorization_server_id: String,
    pub client_secret: String,
    pub client_id_issued_at: i64,
    pub client_secret_expires_at: i64,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub scope: String,
    pub audience: Vec<String>,
    pub public: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_signing_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub privacy: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_dns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_email: Option<String>,
    pub tls_client_certificate_bound_access_tokens: bool,
}

impl From<Client> for DeveloperClientResponse {
    fn from(c: Client) -> Self {
        Self {
            client_id: c.client_id,
            client_name: c.client_name,
            authorization_server_id: c.authorization_server_id,
            client_secret: c.client_secret,
            client_id_issued_at: c.client_id_issued_at,
            client_secret_expires_at: c.client_secret_expires_at,
            grant_types: c.grant_types,
            response_types: c.response_types,
            token_endpoint_auth_method: c.token_endpoint_auth_method,
            redirect_uris: c.redirect_uris,
            scopes: c.scopes,
            scope: c.scope,
            audience: c.audience,
            public: c.public,
            jwks: c.jwks,
            jwks_uri: c.jwks_uri,
            description: c.description,
            client_uri: c.client_uri,
            logo_uri: c.logo_uri,
            policy_uri: c.policy_uri,
            tos_uri: c.tos_uri,
            token_endpoint_signing_alg: c.token_endpoint_signing_alg,
            privacy: c.privacy,
            request_object_signing_alg: c.request_object_signing_alg,
            request_uris: c.request_uris,
            sector_identifier_uri: c.sector_identifier_uri,
            userinfo_signed_response_alg: c.userinfo_signed_response_alg,
            tls_client_auth_subject_dn: c.tls_client_auth_subject_dn,
            tls_client_auth_san_dns: c.tls_client_auth_san_dns,
            tls_client_auth_san_uri: c.tls_client_auth_san_uri,
            tls_client_auth_san_ip: c.tls_client_auth_san_ip,
            tls_client_auth_san_email: c.tls_client_auth_san_email,
            tls_client_certificate_bound_access_tokens: c.tls_client_certificate_bound_access_tokens,
        }
    }
}

/// `GET /api/developer/{tid}/clients` (Cloudentity ACP `DeveloperClients`): the caller's own
/// clients.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DeveloperClients {
    pub clients: Vec<DeveloperClientResponse>,
}

/// An authorization server as a developer sees it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"id": "default", "name": "Default", "issuer_url": "https://id.example.com/default/default",
    "grant_types": ["authorization_code", "implicit", "client_credentials", "refresh_token"]}))]
pub struct DeveloperServer {
    pub id: String,
    pub name: String,
    pub issuer_url: String,
    /// The grant types a client of this server may use.
    pub grant_types: Vec<String>,
}

/// `GET /api/developer/{tid}/servers` (Cloudentity ACP `ListServersDeveloperResponse`): the
/// servers that are not system servers and whose developer policy passes for the caller.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ListServersDeveloperResponse {
    pub servers: Vec<DeveloperServer>,
}

/// A scope a developer may assign (Cloudentity ACP `ScopeWithServiceDeveloper`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"scope_id": "1", "scope_name": "offline_access", "scope_display_name": "Offline access",
    "scope_description": "This scope value requests offline access using refresh token", "with_service": false}))]
pub struct DeveloperScope {
    pub scope_id: String,
    pub scope_name: String,
    pub scope_display_name: String,
    pub scope_description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_description: Option<String>,
    /// Whether the scope belongs to a service.
    pub with_service: bool,
}

/// `GET /api/developer/{tid}/servers/{aid}` (Cloudentity ACP
/// `GetServerWithScopesDeveloperResponse`): the server and the scopes whose developer policy
/// passes for the caller.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct GetServerWithScopesDeveloperResponse {
    #[serde(flatten)]
    pub server: DeveloperServer,
    pub scopes: Vec<DeveloperScope>,
}
