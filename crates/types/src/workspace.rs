//! Workspace clients (Industries Framework `POST /admin/workspaceClients`): kebab-case members,
//! the TMF error object. A workspace client is an OAuth client of the tenant's `default` server
//! that exchanges tokens of the issuers it names (RFC 8693) for tokens of that server.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A routing label of a workspace client.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Label {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub label_name: String,
    #[serde(default)]
    pub label_value: String,
}

/// What a workspace client needs of one issuer. Each member is a secret reference: `env:NAME`
/// (an environment variable of the Castellan process) or `file:/path` (a file's content, trimmed),
/// resolved when used; any other value is the value itself, kept encrypted (`client-secret`,
/// `signing-key`) or as given (`client-id`). Write-only: never answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ServerData {
    /// The client id the issuer's tokens are issued to (or for): a subject token or assertion of
    /// this issuer must name it in `aud`, `azp` or `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
}

/// Body of `POST /admin/workspaceClients` and `PUT /admin/workspaceClients/{id}` (a `PUT`
/// replaces the whole workspace client).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(example = json!({"fusion-client-id": {"client-id": "fusion_client_id_1", "client-secret": "fusion_client_secret_1"},
    "workspace-oidc-server-data": {"buying": {"client-id": "csdhsdkj1wenkwqdnwcsdfsd33e",
    "client-secret": "s213q-wen23e2kwe-dsfdfdefd", "signing-key": "2jdpwe-dksckjdcd-1dewdecw"}},
    "global-oidc-server-data": {"Core": {"client-id": "core_client_id", "client-secret": "core_client_secret",
    "signing-key": "core_signing_key"}}, "client-name": "Buying",
    "labels": [{"label-name": "wsc-label-n1", "label-value": "wsc-label-v1"},
    {"label-name": "wsc-label-n2", "label-value": "wsc-label-v2"}],
    "client-identity-propagation-required": true}))]
pub struct WorkspaceClientRequest {
    /// Read-only; when sent it must be the path's (on `PUT`) and is ignored on `POST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub client_identity_propagation_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// User names by issuer name: a token exchanged from that issuer is about this user instead
    /// of the subject token's (at most 80 characters each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_users_for_user_assertion_by_tic: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fusion_client_id: Option<ServerData>,
    /// Issuers by name: each names an `oidc`, `azure` or `cognito` login method of the `default`
    /// server, whose tokens this client may exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_oidc_server_data: Option<BTreeMap<String, ServerData>>,
    /// At least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    /// At least one: the scopes of the `default` server this client's tokens may carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_outbound_token_scopes: Option<Vec<String>>,
    /// Issuers by name, as `global-oidc-server-data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_oidc_server_data: Option<BTreeMap<String, ServerData>>,
}

/// A workspace client as answered: the request without its secret maps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct WorkspaceClient {
    pub id: String,
    pub client_identity_propagation_required: bool,
    pub client_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub fixed_users_for_user_assertion_by_tic: BTreeMap<String, String>,
    /// Always empty: its members are secret references.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fusion_client_id: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub supported_outbound_token_scopes: Vec<String>,
    /// Names of the issuers this client trusts (the keys of both server-data maps).
    #[serde(default)]
    pub trusted_issuers: Vec<String>,
    /// Secret references that do not resolve now (they are resolved again on every use).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The workspace client's own OAuth secret (`client_secret_basic` at the `default` server's
    /// token endpoint): answered once, by the create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// The TMF error object: `status` is the HTTP status as a string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TmfError {
    pub code: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, rename = "referenceError", skip_serializing_if = "Option::is_none")]
    pub reference_error: Option<String>,
    #[serde(default, rename = "@type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}
