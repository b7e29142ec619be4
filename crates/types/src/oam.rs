//! Access-manager clients (Oracle Access Manager OAuth policy admin
//! `/oam/services/rest/ssa/api/v1/oauthpolicyadmin/client`): camelCase members, uppercase
//! enumerations, `200` with the client or `422` with `{message, field}`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A redirect URI; `isHttps` is answered as the URL's scheme says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedirectUri {
    pub url: String,
    #[serde(default)]
    pub is_https: bool,
}

/// A custom access-token attribute: `STATIC` values are copied into every access token of the
/// client; `DYNAMIC` values are templates (`${user.email}`, `${client.id}`, `${request.scope}`…)
/// evaluated at issuance. `attrType` is accepted in any letter case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenAttributeSettings {
    pub attr_name: String,
    #[serde(default)]
    pub attr_value: String,
    pub attr_type: String,
}

/// Body of the `POST` and the answer of every operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"attributes": [{"attrName": "customeAttr1", "attrValue": "CustomValue", "attrType": "static"}],
    "secret": "welcome1-but-long-enough", "id": "TestClient", "scopes": ["ResServer1.scope1"],
    "clientType": "CONFIDENTIAL_CLIENT", "idDomain": "default", "description": "Client Description",
    "name": "TestClient", "grantTypes": ["PASSWORD", "CLIENT_CREDENTIALS", "JWT_BEARER", "REFRESH_TOKEN", "AUTHORIZATION_CODE"],
    "defaultScope": "ResServer1.scope1", "redirectURIs": [{"url": "http://localhost:8080/Sample.jsp", "isHttps": true}]}))]
pub struct OamClient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<TokenAttributeSettings>>,
    /// `CONFIDENTIAL_CLIENT` (`client_secret_basic`), `PUBLIC_CLIENT` or `MOBILE_CLIENT` (`none`,
    /// with PKCE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `PASSWORD`, `REFRESH_TOKEN`, `JWT_BEARER`, `CLIENT_CREDENTIALS`, `AUTHORIZATION_CODE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    /// Generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The authorization server the client belongs to (default: the `default` server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "redirectURIs", skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<RedirectUri>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// A confidential client's secret (generated when absent); answered on create only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Accepted for compatibility: must be one of `scopes` when given; not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_scope: Option<String>,
}

/// Every failure: `field` names the member at fault, when one is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OamError {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
