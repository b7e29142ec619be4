//! Wire types of services and APIs (Cloudentity ACP `/services`, `/apis`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Scope;

/// `POST /services`, `PUT /services/{sid}` and the service as answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"authorization_server_id": "default", "description": "Pet store", "id": "petstore",
    "name": "Pet store", "tenant_id": "default", "with_specification": false}))]
pub struct Service {
    /// The authorization server whose tokens the service accepts; on create, `default` when
    /// omitted.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_server_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Read-only: `true` once an import made the service's APIs (ignored in requests).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_specification: Option<bool>,
}

/// A service in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceResponse {
    #[serde(flatten)]
    pub service: Service,
    /// Always false: Castellan protects APIs through gateways.
    pub protected_by_lambda_authorizer: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServicesResponse {
    pub services: Vec<ServiceResponse>,
}

/// `GET /services/{sid}`: the service with the scopes that name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceWithScopesResponse {
    #[serde(flatten)]
    pub service: Service,
    pub protected_by_lambda_authorizer: bool,
    pub scopes: Vec<Scope>,
}

/// An API: a method and a path template of a service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"can_have_policy": true, "data_classifications": ["pii"], "id": "1", "method": "GET",
    "path": "/pets/{petId}", "policy_id": "allow", "position": 1, "server_id": "default", "service_id": "petstore",
    "tenant_id": "default"}))]
pub struct Api {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_have_policy: Option<bool>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_classifications: Option<Vec<String>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// `PUT /apis/{api}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UpdateApiRequest {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_classifications: Option<Vec<String>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Apis {
    pub apis: Vec<Api>,
}

/// `GET /servers/{aid}/apis`: APIs by service id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServerApis {
    pub apis_by_services: BTreeMap<String, Vec<Api>>,
}

/// `DELETE /services/{sid}/apis`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RemoveServiceConfigurationResult {
    pub not_removed_policies: Vec<crate::policies::Policy>,
    pub removed_apis: Vec<Api>,
    pub removed_policies: Vec<crate::policies::Policy>,
}

/// `POST /services/{sid}/apis/import/{file,text,url}`: what the import created, what it reused
/// or skipped (`ignored_*`), and what it removed of the previous import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportServiceConfigurationResult {
    pub created_apis: Vec<Api>,
    pub created_policies: Vec<crate::policies::Policy>,
    pub created_scopes: Vec<Scope>,
    /// Operations not made APIs: the same method and path (parameter names aside) as an earlier
    /// operation, or a path that cannot be routed.
    pub ignored_apis: Vec<Api>,
    /// Policies that exist already and are attached as they are.
    pub ignored_policies: Vec<crate::policies::Policy>,
    /// Scopes the server has already; they keep their settings.
    pub ignored_scopes: Vec<Scope>,
    /// Policies of the previous import that something else still uses.
    pub not_removed_policies: Vec<crate::policies::Policy>,
    pub removed_apis: Vec<Api>,
    pub removed_policies: Vec<crate::policies::Policy>,
}

/// `POST /services/{sid}/apis/import/url`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"url": "https://petstore3.swagger.io/api/v3/openapi.json"}))]
pub struct ImportFromUrl {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}
