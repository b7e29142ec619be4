//! Wire types of policies (Cloudentity ACP `/api/admin/{tid}/policies`), with Castellan's
//! additions `language`, `definition` and the test operation.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// What a client can do about a denial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recovery {
    pub id: String,
    #[serde(rename = "type")]
    pub type_: String,
}

/// One validator of a policy: `true`, `false`, `identity-context`, `header`, `consent` or
/// `scopes`, with its `conf`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Validator {
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub conf: Map<String, Value>,
    #[serde(default)]
    pub recovery: Vec<Recovery>,
}

/// `POST /policies`, `PUT /policies/{pid}`. On `PUT`, members left out keep their value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "verified-email", "policy_name": "Verified email",
    "validators": [{"name": "identity-context", "conf": {"fields": [
        {"field": "email_verified", "comparator": "equals", "value": true}]},
        "recovery": [{"id": "verify-email", "type": "email"}]}]}))]
pub struct PolicyRequest {
    /// Required on create: letters, digits, `.`, `_`, `-`, at most 128. On `PUT`, absent or the path's.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Required on create.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// Absent, or the tenant of the path.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validators: Option<Vec<Validator>>,
    /// `cloudentity` (default: `validators` decide) or `rego` (`definition` decides).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// A Rego (v1) module `package castellan` whose rule `allow` must be `true`; at most 64 KiB.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// A policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "verified-email", "policy_name": "Verified email", "tenant_id": "default",
    "language": "cloudentity", "validators": [{"name": "identity-context", "conf": {"fields": [
        {"field": "email_verified", "comparator": "equals", "value": true}]},
        "recovery": [{"id": "verify-email", "type": "email"}]}], "read_only": false}))]
pub struct Policy {
    pub id: String,
    pub policy_name: String,
    pub tenant_id: String,
    pub validators: Vec<Validator>,
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// `allow` and `block`, which every tenant has, cannot be changed or deleted.
    #[serde(default)]
    pub read_only: bool,
}

/// `GET /policies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Policies {
    pub policies: Vec<Policy>,
}

/// The HTTP request a policy test looks at.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyTestHttpRequest {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub headers: HashMap<String, String>,
}

/// `POST /policies/{pid}/test`: what the policy is evaluated against.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(example = json!({"authentication_context": {"sub": "pat", "email_verified": true},
    "client": {"client_id": "shop"}, "scopes": ["openid"],
    "request": {"method": "GET", "path": "/orders", "headers": {"x-region": "eu"}}, "consents": ["terms"]}))]
pub struct PolicyTestRequest {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub authentication_context: Value,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub client: Value,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<PolicyTestHttpRequest>,
    /// Ids of the consents the subject currently holds.
    #[serde(default)]
    pub consents: Vec<String>,
    /// Consent action id → its required consent ids (for `consent` validators with `action`).
    #[serde(default)]
    pub consent_actions: HashMap<String, Vec<String>>,
    /// A subject of the tenant: when given, `consents` and `consent_actions` are what the privacy
    /// API holds for them (current grants; every action's required consents).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// The outcome of a policy test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"result": "fail", "failed_validator": "identity-context",
    "recovery": [{"id": "verify-email", "type": "email"}],
    "reason": "authentication context email_verified does not equal the value"}))]
pub struct PolicyTestResult {
    /// `pass` or `fail`.
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_validator: Option<String>,
    pub recovery: Vec<Recovery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
