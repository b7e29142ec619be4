//! Control-plane (Cloudentity ACP) client and scope types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Jwks;

/// An OAuth client as the admin API returns it (Cloudentity ACP `Client`). `client_secret` is shown for
/// clients an admin created and empty for clients a developer created (shown to them once).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"client_id": "shop-backend", "client_name": "Shop backend", "authorization_server_id": "default",
    "tenant_id": "default", "client_secret": "hW5WhKX_7w7BLwUQ6mn7Cp70_OoKI_F1y1hLS5U8lIU",
    "grant_types": ["client_credentials"], "response_types": [], "token_endpoint_auth_method": "client_secret_basic",
    "scopes": ["orders.read"], "scope": "orders.read", "audience": ["https://api.example.com"], "redirect_uris": [],
    "public": false, "trusted": false, "system": false, "client_id_issued_at": 1700000000, "client_secret_expires_at": 0}))]
pub struct Client {
    pub client_id: String,
    pub client_name: String,
    pub authorization_server_id: String,
    pub tenant_id: String,
    pub client_secret: String,
    /// How the secret is kept (Cloudentity ACP `client_hashed_secret`): an argon2id PHC string
    /// for a secret the caller chose, `hmac-sha256:` and the base64url keyed hash for one
    /// Castellan generated. Absent for a client without a secret, and wherever `client_secret`
    /// is withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_hashed_secret: Option<String>,
    pub client_id_issued_at: i64,
    /// 0: the secret does not expire.
    pub client_secret_expires_at: i64,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the person afterwards (OpenID Connect RP-Initiated
    /// Logout §3.1; a Castellan extension to Cloudentity ACP's client, matched exactly).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// `scopes` joined with spaces (RFC 7591 `scope`).
    pub scope: String,
    pub audience: Vec<String>,
    pub public: bool,
    pub trusted: bool,
    pub system: bool,
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
    pub developer_id: Option<String>,
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
    /// How ID tokens for this client are signed: `RS256` (the default, OIDC Dynamic Client
    /// Registration §2) or the algorithm of the server's `key_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
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
    /// Its access tokens (and a public client's refresh tokens) are bound to the TLS client
    /// certificate it presents at the token endpoint (RFC 8705 §3): `cnf.x5t#S256`.
    #[serde(default)]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// Custom claims of every access token the client gets (Castellan; the access-manager API's
    /// `attributes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_attributes: Vec<TokenAttribute>,
    /// The client registered itself at `{issuer}/oauth2/register` (RFC 7591; a Castellan
    /// addition). Its secret is shown only to it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dynamically_registered: bool,
    /// Its authorization requests must be pushed to `{issuer}/oauth2/par` first (RFC 9126 §6).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// Its token requests must carry a DPoP proof, so its access tokens are always bound to a key
    /// (RFC 9449 §5.2).
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
}

/// A custom access-token claim of a client: `type` `static` copies `value` into every access
/// token; `dynamic` fills in the template `value` at issuance: `${user.<attribute>}` (from the
/// person's authentication context, or `user.sub`), `${client.id}`, `${client.name}`,
/// `${request.scope}`, `${request.grant_type}`, `${server.id}`, `${tenant.id}`. A variable
/// without a value (a client's own token has no `user`) leaves the claim out of that token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"name": "department", "value": "${user.department}", "type": "dynamic"}))]
pub struct TokenAttribute {
    pub name: String,
    #[serde(default)]
    pub value: String,
    /// `static` (default) or `dynamic`.
    #[serde(default, rename = "type")]
    pub type_: String,
}

/// Body of `POST /api/admin/{tid}/clients` and `PUT /api/admin/{tid}/clients/{cid}`. On create,
/// omitted fields take the Cloudentity ACP defaults; on update they keep their value. `system`,
/// `client_id_issued_at` and `client_hashed_secret` are read-only and ignored; `tenant_id` must be
/// absent or the tenant of the path (422 otherwise), as in every request body of this API.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"client_name": "Shop backend", "authorization_server_id": "default",
    "grant_types": ["client_credentials"], "scopes": ["orders.read"], "audience": ["https://api.example.com"]}))]
pub struct ClientRequest {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_server_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_hashed_secret: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id_issued_at: Option<i64>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<String>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    /// Where RP-initiated logout may send the person afterwards (Castellan extension).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Space-separated alternative to `scopes`; `scopes` wins when both are given.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted: Option<bool>,
    /// Its authorization requests must be pushed first (RFC 9126 §6).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    /// Its token requests must carry a DPoP proof (RFC 9449 §5.2).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_bound_access_tokens: Option<bool>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<bool>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_signing_alg: Option<String>,
    /// An object (Cloudentity ACP: privacy settings per scope); anything else is a 400.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy: Option<serde_json::Map<String, serde_json::Value>>,
    /// `none` or `RS256`, `PS256`, `ES256`. Request objects themselves are not accepted yet.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    /// Absolute https URLs (http only on loopback).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_uris: Option<Vec<String>>,
    /// An https URL (http only on loopback).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    /// Only `none`: userinfo answers in plain JSON.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    /// `RS256` (the default when absent; OIDC Dynamic Client Registration §2) or the algorithm of
    /// the server's `key_type` (`ES256`, `PS256`); empty resets to the default.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_dns: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_uri: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_ip: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_email: Option<String>,
    /// Only `false`: certificate-bound access tokens (RFC 8705 §3) are refused with a 400 rather
    /// than silently not applied.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
    /// Replaces the client's custom access-token claims (at most 50).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_attributes: Option<Vec<TokenAttribute>>,
    /// Makes the client a workspace client, with these members as `/admin/workspaceClients`
    /// takes them (its `supported-outbound-token-scopes` are ignored here: `scopes` are the
    /// client's). Configuration exports carry it; the secrets of its maps only in an export
    /// with secrets.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<crate::workspace::WorkspaceClientRequest>,
}

/// `GET /api/admin/{tid}/servers/{aid}/clients`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Clients {
    pub clients: Vec<Client>,
}

/// A scope of an authorization server (Cloudentity ACP `Scope`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"id": "1", "name": "offline_access", "authorization_server_id": "default", "tenant_id": "default",
    "display_name": "Offline Access", "description": "This scope value requests offline access using refresh token"}))]
pub struct Scope {
    pub id: String,
    pub name: String,
    pub authorization_server_id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
}

/// Body of `POST /api/admin/{tid}/scopes` (Cloudentity ACP `ScopeWithServiceID`) and `PUT …/scopes/{scp}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"name": "orders.read", "authorization_server_id": "default", "display_name": "Read orders"}))]
pub struct ScopeRequest {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_server_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_policy_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_policy_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
}

/// `GET /api/admin/{tid}/servers/{aid}/scopes`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Scopes {
    pub scopes: Vec<ScopeWithService>,
}

/// A scope with the service it protects (Cloudentity ACP `ScopeWithService`), as `GET` answers it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"id": "1", "name": "read:pets", "authorization_server_id": "default", "tenant_id": "default",
    "display_name": "read:pets", "description": "read your pets", "service_id": "petstore",
    "service": {"authorization_server_id": "default", "id": "petstore", "name": "Pet store", "tenant_id": "default",
        "with_specification": true},
    "with_service": true}))]
pub struct ScopeWithService {
    #[serde(flatten)]
    pub scope: Scope,
    /// The service named by `service_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<crate::services::Service>,
    pub with_service: bool,
}

/// A claim of an authorization server (Cloudentity ACP `Claim`): the authentication-context attribute
/// `mapping` is released as the token claim `name` in tokens of `type` (`access_token` or
/// `id_token`) when one of `scopes` is granted (no scopes: always).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"id": "1", "authorization_server_id": "default", "tenant_id": "default",
    "name": "email", "mapping": "email", "type": "id_token", "scopes": ["email"]}))]
pub struct Claim {
    pub id: String,
    pub authorization_server_id: String,
    pub tenant_id: String,
    pub name: String,
    pub mapping: String,
    #[serde(rename = "type")]
    pub claim_type: String,
    pub scopes: Vec<String>,
}

/// Body of `POST /api/admin/{tid}/claims` and `PUT /api/admin/{tid}/claims/{claim}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"authorization_server_id": "default", "name": "email", "mapping": "email", "type": "id_token", "scopes": ["email"]}))]
pub struct ClaimRequest {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_server_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    #[serde(default, rename = "type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_type: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// `GET /api/admin/{tid}/servers/{aid}/claims`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Claims {
    pub claims: Vec<Claim>,
}
