//! Control-plane (Cloudentity ACP) tenant and authorization-server types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A JSON Web Key (RFC 7517). Responses carry public members only; requests that import signing
/// keys carry the private members too (`d`, and for RSA `p`, `q`, `dp`, `dq`, `qi`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dq: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qi: Option<String>,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One attribute of the authentication context a tenant or a login method provides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AuthenticationContextAttribute {
    #[serde(default)]
    pub description: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AuthenticationContextSettings {
    #[serde(default)]
    pub attributes: Vec<AuthenticationContextAttribute>,
}

/// A tenant as `GET /api/admin/{tid}/tenant` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"id": "default", "name": "Default", "url": "http://127.0.0.1:8443/default",
    "authentication_context_settings": {"attributes": []}, "jwks": {"keys": []}}))]
pub struct Tenant {
    pub id: String,
    pub name: String,
    /// `{public_url}/{tid}`; read-only.
    pub url: String,
    pub authentication_context_settings: AuthenticationContextSettings,
    pub jwks: Jwks,
}

/// Body of `PUT /api/admin/{tid}/tenant`. Omitted fields keep their current value; `id` and
/// `url` are read-only (an `id` other than the path's is refused).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct TenantRequest {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_context_settings: Option<AuthenticationContextSettings>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
}

/// A user of the `static` login method. `password` is write-only: it is stored as an argon2id hash
/// and never returned. A user sent without `password` keeps the password it already has.
/// `password_hash` (an argon2id PHC string) stands for the password: configuration exports with
/// secrets carry it, and a request may give it instead of `password`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct StaticUser {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub authentication_context: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct StaticSettings {
    #[serde(default)]
    pub hint: bool,
    #[serde(default)]
    pub users: Vec<StaticUser>,
}

/// Settings of an upstream OpenID Connect provider. `client_secret` is write-only (stored
/// encrypted, never returned; omitted on update keeps the current one). `redirect_url` is
/// read-only: the server's `{issuer}/login/callback`, to register at the provider.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct OidcSettings {
    #[serde(default)]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Read the provider's userinfo endpoint after sign-in (its claims join the ID token's).
    #[serde(default)]
    pub get_user_info: bool,
    /// The provider's issuer; its discovery document is `{issuer_url}/.well-known/openid-configuration`.
    #[serde(default)]
    pub issuer_url: String,
    #[serde(default)]
    pub redirect_url: String,
    /// Scopes asked of the provider (`openid` is always asked).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// How Castellan authenticates at the provider's token endpoint: `client_secret_basic` (the
    /// default), `client_secret_post`, or `private_key_jwt` (signed with the server's current
    /// key, published at its `jwks_uri`). Castellan addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AzureSettings {
    #[serde(default)]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub fetch_groups: bool,
    #[serde(default)]
    pub get_user: bool,
    #[serde(default)]
    pub group_name_format: String,
    #[serde(default)]
    pub only_security_groups: bool,
    #[serde(default)]
    pub redirect_url: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub tenant: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct CognitoSettings {
    #[serde(default)]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub get_user_info: bool,
    #[serde(default)]
    pub pool_id: String,
    #[serde(default)]
    pub redirect_url: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// An external login page. The person is sent to `login_url` with `login_id` and `return_url`;
/// the page answers with `POST {issuer}/login/custom/{login_id}/accept` (or `/reject`),
/// authenticated with `client_id` and `client_secret` (HTTP Basic), then sends the browser to
/// `return_url`. `client_secret` is write-only. `client_id` and `client_secret` are Castellan
/// additions; `client_id` defaults to the method's id.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct CustomSettings {
    #[serde(default)]
    pub login_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// One rule shaping the authentication context: the value at `source` is written at `target`.
/// `source` is a dotted path whose first member may name what the method received
/// (`id_token`, `userinfo`, `access_token`, `authentication_context`); any other path is read in
/// the default context. `target` is a dotted path in the context; `.` merges an object into it.
/// `type` converts the value: `any` (the default), `string`, `number`, `bool`, `string_array`,
/// `object`; a value that cannot be converted, like a missing one, sets nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AuthenticationMapping {
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub target: String,
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub type_: String,
}

/// One login method of an authorization server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AuthenticationMethod {
    /// Identifier of the method within the server; generated from `method` when absent.
    #[serde(default)]
    pub id: String,
    /// One of `static`, `oidc`, `azure`, `cognito`, `custom`.
    pub method: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub attributes: Vec<AuthenticationContextAttribute>,
    #[serde(default)]
    pub mappings: Vec<AuthenticationMapping>,
    #[serde(default, rename = "static", skip_serializing_if = "Option::is_none")]
    pub static_: Option<StaticSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cognito: Option<CognitoSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomSettings>,
}

/// The login methods of an authorization server (`PUT /api/admin/{tid}/servers/{aid}/authentications`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"methods": [{"id": "static", "method": "static", "name": "Static users",
    "static": {"hint": true, "users": [{"username": "peter", "password": "secret",
    "authentication_context": {"email": "peter@example.com"}}]}}]}))]
pub struct Authentications {
    #[serde(default)]
    pub methods: Vec<AuthenticationMethod>,
}

/// An authorization server as the admin API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"id": "default", "tenant_id": "default", "name": "Default",
    "issuer_url": "http://127.0.0.1:8443/default/default", "system": false, "key_type": "rsa",
    "grant_types": ["authorization_code", "implicit", "client_credentials", "refresh_token"],
    "access_token_ttl": "1h0m0s", "authorization_code_ttl": "10m0s", "id_token_ttl": "1h0m0s",
    "refresh_token_ttl": "720h0m0s", "cookie_max_age": "720h0m0s",
    "secret": "hW5WhKX_7w7BLwUQ6mn7Cp70_OoKI_F1y1hLS5U8lIU", "rotated_secrets": [],
    "enforce_pkce": false, "enable_dynamic_client_registration": false, "profiles": [],
    "jwks": {"keys": []}, "authentications": {"methods": []}}))]
pub struct Server {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// `{public_url}/{tid}/{aid}`; read-only.
    pub issuer_url: String,
    /// System servers (`admin`, `developer`) cannot be deleted.
    pub system: bool,
    /// `rsa` (RS256, the default), `ecdsa` (ES256) or `ps` (PS256).
    pub key_type: String,
    pub grant_types: Vec<String>,
    pub access_token_ttl: String,
    pub authorization_code_ttl: String,
    pub id_token_ttl: String,
    pub refresh_token_ttl: String,
    pub cookie_max_age: String,
    pub secret: String,
    pub rotated_secrets: Vec<String>,
    pub enforce_pkce: bool,
    pub enable_dynamic_client_registration: bool,
    pub profiles: Vec<String>,
    /// Public signing keys; private parts are never returned.
    pub jwks: Jwks,
    pub authentications: Authentications,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_policy_id: Option<String>,
    /// With `enable_dynamic_client_registration`: the scope an initial access token (an access
    /// token of this server, RFC 7591 §3) must hold to register; absent, registration is open
    /// (rate-limited per address). Castellan addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_scope: Option<String>,
    /// Every authorization request must be pushed to `{issuer}/oauth2/par` first (RFC 9126 §5).
    /// Castellan addition.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// DPoP proofs (RFC 9449) must carry a nonce the server issued: a proof without one is
    /// answered `use_dpop_nonce` with the nonce in `DPoP-Nonce` (§8). Castellan addition.
    #[serde(default)]
    pub require_dpop_nonce: bool,
    /// How long a signing key signs before the next one (published an hour ahead) replaces it;
    /// `0s`: only on demand (`POST …/keys/rotate`). Default 90 days. Castellan addition.
    #[serde(default = "default_key_rotation_period")]
    pub key_rotation_period: String,
}

fn default_key_rotation_period() -> String {
    "2160h0m0s".into()
}

/// Body of `POST /api/admin/{tid}/servers` and `PUT /api/admin/{tid}/servers/{aid}`.
///
/// On create, omitted fields take the Cloudentity ACP defaults. On update, omitted fields keep their
/// current value. `issuer_url` and `system` are read-only and ignored; `tenant_id` must be absent
/// or the tenant of the path (422 otherwise).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "shop", "name": "Shop", "key_type": "ecdsa", "access_token_ttl": "15m0s"}))]
pub struct ServerRequest {
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_url: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<bool>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_code_ttl: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_ttl: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_ttl: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie_max_age: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotated_secrets: Option<Vec<String>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforce_pkce: Option<bool>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_dynamic_client_registration: Option<bool>,
    /// A security profile the server enforces: `fapi_rw` (FAPI 1.0 Advanced) or `fapi2` (FAPI
    /// 2.0 Security Profile); at most one. Its rules are checked when the server and its clients
    /// are saved (`422` naming the rule) and at every request.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles: Option<Vec<String>>,
    /// Signing keys with their private parts; when absent on create, a key is generated from
    /// `key_type`. Keys already returned by the API (public only) may be sent back unchanged.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentications: Option<Authentications>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_policy_id: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_policy_id: Option<String>,
    /// The scope an initial access token must hold to register a client dynamically; `""`
    /// removes it (open registration).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_scope: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    /// DPoP proofs must carry a nonce the server issued (RFC 9449 §8).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_dpop_nonce: Option<bool>,
    /// How long a signing key signs before the next one replaces it (at least `2h0m0s`); `0s`:
    /// only on demand.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_rotation_period: Option<String>,
}

/// One of a server's signing keys and where it is in its life (`GET …/servers/{aid}/keys`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"kid": "Vh2Yw4l0t0yq1Gq4nq3e0J0m3yJ6d7gkQ2tR8cX1b5Q", "alg": "RS256",
    "state": "current", "signs": "all", "created_at": "2026-12-07T10:00:00Z",
    "activates_at": "2026-12-07T10:00:00Z"}))]
pub struct SigningKeyInfo {
    pub kid: String,
    /// `RS256`, `PS256` or `ES256`.
    pub alg: String,
    /// `next` (published, signs from `activates_at`), `current` (signs), `retired` (no longer
    /// signs; published until `retires_at`, when the last token it signed has expired) or
    /// `revoked` (withdrawn: not published, tokens it signed are no longer valid).
    pub state: String,
    /// What a current or next key signs: `all` (access tokens, ID tokens and the rest) or
    /// `id_tokens` (the RS256 key of ID tokens of a server whose `key_type` is not `rsa`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signs: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activates_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// `GET /api/admin/{tid}/servers/{aid}/keys`: the server's keys, signing key first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct SigningKeys {
    pub keys: Vec<SigningKeyInfo>,
    /// The server's `key_rotation_period`.
    pub key_rotation_period: String,
    /// When the schedule publishes the next key (RFC 3339); absent when rotation is on demand
    /// only or a next key is already published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_rotation_at: Option<String>,
}

/// `GET /api/admin/{tid}/servers`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Servers {
    pub servers: Vec<Server>,
}

/// `GET /api/admin/{tid}/servers/{aid}/dashboards` (Cloudentity ACP `Dashboards`): where to watch
/// the server. Castellan serves one such page, its Prometheus metrics (`/metrics`: token requests
/// by grant type and outcome — the error codes are the threat view —, token latency,
/// introspections); it has no sample dashboards.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"enabled": true, "tenant_business_url": "https://id.example.com/metrics",
    "tenant_threat_url": "https://id.example.com/metrics", "sample_business_url": "", "sample_threat_url": ""}))]
pub struct Dashboards {
    /// Always `true`: the metrics are always served.
    pub enabled: bool,
    /// Token requests by grant type and outcome, latency, introspections (Prometheus text).
    pub tenant_business_url: String,
    /// The same metrics: refused token requests by OAuth error code (`invalid_client`,
    /// `invalid_grant`, …).
    pub tenant_threat_url: String,
    /// Empty: Castellan ships no sample dashboards.
    pub sample_business_url: String,
    /// Empty: Castellan ships no sample dashboards.
    pub sample_threat_url: String,
}
