//! What the store keeps. Secrets appear here only sealed (encrypted) or hashed.

use std::collections::BTreeMap;

use castellan_types::{AuthenticationContextSettings, AuthenticationMethod, Jwk, Jwks};
use serde::{Deserialize, Serialize};

use crate::{ClaimId, ClientId, GoDuration, ScopeId, ServerId, TenantId, UnixTime};

/// Ids of the servers every tenant is born with.
pub const ADMIN_SERVER: &str = "admin";
pub const DEVELOPER_SERVER: &str = "developer";
pub const DEFAULT_SERVER: &str = "default";
pub const DEFAULT_TENANT: &str = "default";

#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub authentication_context_settings: AuthenticationContextSettings,
    /// Public keys the tenant publishes (Cloudentity ACP `Tenant.jwks`).
    pub jwks: Jwks,
    pub created_at: UnixTime,
}

/// The key family a server signs with (Cloudentity ACP `key_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    Rsa,
    Ecdsa,
    Ps,
}

impl KeyType {
    /// Every key type, as the API names them.
    pub const ALL: [KeyType; 3] = [Self::Rsa, Self::Ecdsa, Self::Ps];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rsa" => Some(Self::Rsa),
            "ecdsa" => Some(Self::Ecdsa),
            "ps" => Some(Self::Ps),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa => "rsa",
            Self::Ecdsa => "ecdsa",
            Self::Ps => "ps",
        }
    }
    pub fn alg(self) -> SigningAlg {
        match self {
            Self::Rsa => SigningAlg::RS256,
            Self::Ecdsa => SigningAlg::ES256,
            Self::Ps => SigningAlg::PS256,
        }
    }
}

/// JWS algorithms Castellan signs with (RFC 7518 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlg {
    RS256,
    PS256,
    ES256,
}

impl SigningAlg {
    /// Every algorithm, as JOSE names them.
    pub const ALL: [SigningAlg; 3] = [Self::RS256, Self::PS256, Self::ES256];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Self::RS256),
            "PS256" => Some(Self::PS256),
            "ES256" => Some(Self::ES256),
            _ => None,
        }
    }
}

/// Where a key is in its life: `next` is published ahead of signing (at least as long as a
/// relying party caches the JWK Set), `current` signs, `retired` no longer signs and stays
/// published until the last token it signed has expired, `revoked` is withdrawn at once (not
/// published; tokens it signed no longer verify; its private part is destroyed). `id_token` is
/// the RS256 key a server whose `key_type` is not `rsa` keeps for ID tokens (OIDC Discovery §3
/// requires RS256; OIDC Dynamic Client Registration §2 makes it the default
/// `id_token_signed_response_alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Current,
    Next,
    Retired,
    IdToken,
    Revoked,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Next => "next",
            Self::Retired => "retired",
            Self::IdToken => "id_token",
            Self::Revoked => "revoked",
        }
    }
    /// Reads a stored or exported status; `rotated`, the name of earlier versions, is `retired`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "current" => Some(Self::Current),
            "next" => Some(Self::Next),
            "retired" | "rotated" => Some(Self::Retired),
            "id_token" => Some(Self::IdToken),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// A server's signing key. The private key (PKCS#8 DER) is sealed with the master key.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub status: KeyStatus,
    pub public_jwk: Jwk,
    pub private_sealed: Vec<u8>,
    pub created_at: UnixTime,
    /// `next`: when it starts signing. `current` / `id_token`: when it started.
    pub activates_at: Option<UnixTime>,
    /// `retired`: when it leaves the JWK Set (the last token it signed has expired by then).
    /// `None` for a key an administrator keeps published by listing it.
    pub retires_at: Option<UnixTime>,
    /// `revoked`: when.
    pub revoked_at: Option<UnixTime>,
}

impl SigningKey {
    /// In the server's JWK Set: every key but a revoked one.
    pub fn published(&self) -> bool {
        self.status != KeyStatus::Revoked
    }
}

/// Token lifetimes and protocol switches of a server; stored as one JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSettings {
    pub key_type: KeyType,
    pub grant_types: Vec<String>,
    pub access_token_ttl: GoDuration,
    pub authorization_code_ttl: GoDuration,
    pub id_token_ttl: GoDuration,
    pub refresh_token_ttl: GoDuration,
    pub cookie_max_age: GoDuration,
    pub enforce_pkce: bool,
    pub enable_dynamic_client_registration: bool,
    pub profiles: Vec<String>,
    pub logo_uri: Option<String>,
    pub developer_policy_id: Option<String>,
    pub user_policy_id: Option<String>,
    /// With dynamic registration: the scope an initial access token (RFC 7591 §3) must hold;
    /// `None` lets anyone register (rate-limited per address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_scope: Option<String>,
    /// Every authorization request must be pushed first (RFC 9126 §5).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// DPoP proofs (RFC 9449) must carry a nonce this server issued (§8).
    #[serde(default)]
    pub require_dpop_nonce: bool,
    /// How long a signing key signs before the next one replaces it; zero: only on demand.
    #[serde(default = "default_key_rotation_period")]
    pub key_rotation_period: GoDuration,
}

/// How long relying parties are told they may cache a server's JWK Set (`Cache-Control`).
pub const JWKS_MAX_AGE_SECS: u64 = 300;
/// How long a next key is published before it signs: well over [`JWKS_MAX_AGE_SECS`], so a
/// relying party that caches the JWK Set for the time it was told (or somewhat longer) has the
/// key before it sees a token it signed.
pub const KEY_PREPUBLICATION_SECS: u64 = 3600;
/// 90 days.
pub const DEFAULT_KEY_ROTATION_PERIOD_SECS: u64 = 90 * 24 * 3600;

fn default_key_rotation_period() -> GoDuration {
    GoDuration::from_secs(DEFAULT_KEY_ROTATION_PERIOD_SECS)
}

impl Default for ServerSettings {
    /// The defaults Cloudentity ACP'states for a new server.
    fn default() -> Self {
        Self {
            key_type: KeyType::Rsa,
            grant_types: DEFAULT_SERVER_GRANT_TYPES.iter().map(|s| s.to_string()).collect(),
            access_token_ttl: GoDuration::from_secs(3600),
            authorization_code_ttl: GoDuration::from_secs(600),
            id_token_ttl: GoDuration::from_secs(3600),
            refresh_token_ttl: GoDuration::from_secs(30 * 24 * 3600),
            cookie_max_age: GoDuration::from_secs(30 * 24 * 3600),
            enforce_pkce: false,
            enable_dynamic_client_registration: false,
            profiles: Vec::new(),
            logo_uri: None,
            developer_policy_id: None,
            user_policy_id: None,
            registration_scope: None,
            require_pushed_authorization_requests: false,
            require_dpop_nonce: false,
            key_rotation_period: default_key_rotation_period(),
        }
    }
}

pub const DEFAULT_SERVER_GRANT_TYPES: [&str; 4] =
    ["authorization_code", "implicit", "client_credentials", "refresh_token"];

/// Grant types a server may enable.
pub const SUPPORTED_GRANT_TYPES: [&str; 8] = [
    "authorization_code",
    "implicit",
    "client_credentials",
    "refresh_token",
    "password",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:device_code",
];

/// A server's own secret and the ones it replaced, sealed together as one JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSecrets {
    pub secret: String,
    pub rotated_secrets: Vec<String>,
}

/// A login method as stored: the public description (write-only fields stripped) beside its
/// secrets, which are kept hashed (static passwords, argon2id PHC strings) or sealed
/// (upstream client secrets, base64 of the sealed bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAuthMethod {
    pub method: AuthenticationMethod,
    #[serde(default)]
    pub password_hashes: BTreeMap<String, String>,
    #[serde(default)]
    pub sealed_client_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationServer {
    pub tenant_id: TenantId,
    pub id: ServerId,
    pub name: String,
    pub system: bool,
    pub settings: ServerSettings,
    pub authentications: Vec<StoredAuthMethod>,
    /// [`ServerSecrets`] sealed with the master key.
    pub secrets_sealed: Vec<u8>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// What a dynamically registered client (RFC 7591) keeps of its registration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Registration {
    /// SHA-256 (base64url) of its current registration access token (RFC 7592 §1.1).
    pub token_hash: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// Who registered it as the developer policies saw them (`developer`, `context`, `client`,
    /// `scopes`): updates are checked against the same registrant.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub registrant: serde_json::Value,
}

/// Registration metadata of a client beyond its identity and credentials (Cloudentity ACP `Client`);
/// stored as one JSON document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientSettings {
    pub response_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Names of scopes of the client's server.
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    pub public: bool,
    pub trusted: bool,
    pub jwks: Option<Jwks>,
    pub jwks_uri: Option<String>,
    pub description: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub developer_id: Option<String>,
    pub token_endpoint_signing_alg: Option<String>,
    pub privacy: Option<serde_json::Value>,
    pub client_secret_expires_at: i64,
    /// `none` or a JWS algorithm (Cloudentity ACP); kept for when request objects are accepted.
    pub request_object_signing_alg: Option<String>,
    pub request_uris: Vec<String>,
    pub sector_identifier_uri: Option<String>,
    /// Only `none` (plain JSON userinfo) is accepted today.
    pub userinfo_signed_response_alg: Option<String>,
    /// How ID tokens for this client are signed (OIDC Dynamic Client Registration §2): `RS256`
    /// when absent, or the server's own algorithm.
    pub id_token_signed_response_alg: Option<String>,
    /// RFC 8705 §2.1.2 identity of a `tls_client_auth` client's certificate.
    pub tls_client_auth: TlsClientAuthNames,
    /// Its tokens are bound to its TLS client certificate (RFC 8705 §3).
    pub tls_client_certificate_bound_access_tokens: bool,
    /// Custom claims of every access token the client gets (Oracle Access Manager `attributes`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub token_attributes: Vec<TokenAttribute>,
    /// Set for a workspace client (Industries Framework `WorkspaceClient`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<WorkspaceSettings>,
    /// The Oracle Access Manager `clientType` the client was described with (`MOBILE_CLIENT` and
    /// `PUBLIC_CLIENT` are both public clients; this tells them apart).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
    /// Its authorization requests must be pushed first (RFC 9126 §6).
    pub require_pushed_authorization_requests: bool,
    /// Its token requests must carry a DPoP proof (RFC 9449 §5.2 `dpop_bound_access_tokens`).
    pub dpop_bound_access_tokens: bool,
    /// Set for a client that registered itself (RFC 7591): how it manages itself (RFC 7592).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
}

/// A custom access-token claim of a client: `value` as given, or, when `dynamic`, a template
/// whose `${…}` variables are filled in at issuance (a variable without a value omits the claim).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenAttribute {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub dynamic: bool,
}

/// What a workspace client keeps of one issuer: each member a secret reference (`env:NAME`,
/// `file:/path`), a `client-id` as given, or a secret sealed with the master key
/// (`sealed:` + base64).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssuerCredentials {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A workspace client's own configuration. The issuers of both maps are login methods of the
/// client's server; their tokens are the ones the client may exchange.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkspaceSettings {
    pub labels: Vec<castellan_types::workspace::Label>,
    pub client_identity_propagation_required: bool,
    pub fixed_users: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fusion_client: Option<IssuerCredentials>,
    pub workspace_issuers: BTreeMap<String, IssuerCredentials>,
    pub global_issuers: BTreeMap<String, IssuerCredentials>,
}

impl WorkspaceSettings {
    /// The issuer named `name`, from either map.
    pub fn issuer(&self, name: &str) -> Option<&IssuerCredentials> {
        self.workspace_issuers
            .get(name)
            .or_else(|| self.global_issuers.get(name))
    }

    /// Every issuer name, in order, without repeats.
    pub fn issuer_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .workspace_issuers
            .keys()
            .chain(self.global_issuers.keys())
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The certificate subject or subject alternative name a `tls_client_auth` client presents
/// (RFC 8705 §2.1.2; at most one is meant to be set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsClientAuthNames {
    pub subject_dn: Option<String>,
    pub san_dns: Option<String>,
    pub san_uri: Option<String>,
    pub san_ip: Option<String>,
    pub san_email: Option<String>,
}

/// An OAuth client. The secret is kept as a keyed hash for verification and, for clients created
/// by an admin, sealed so the admin API can show it again (Cloudentity ACP).
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub tenant_id: TenantId,
    pub server_id: ServerId,
    pub id: ClientId,
    pub name: String,
    pub system: bool,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub secret_hash: Option<Vec<u8>>,
    pub secret_sealed: Option<Vec<u8>>,
    pub settings: ClientSettings,
    pub created_at: UnixTime,
}

/// A scope of an authorization server; its name is unique within the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub tenant_id: TenantId,
    pub server_id: ServerId,
    pub id: ScopeId,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub developer_policy_id: Option<String>,
    pub user_policy_id: Option<String>,
    pub service_id: Option<String>,
    pub created_at: UnixTime,
}

/// Which token a claim goes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimType {
    AccessToken,
    IdToken,
}

impl ClaimType {
    /// Every claim type, as the API names them.
    pub const ALL: [ClaimType; 2] = [Self::AccessToken, Self::IdToken];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "access_token" => Some(Self::AccessToken),
            "id_token" => Some(Self::IdToken),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::IdToken => "id_token",
        }
    }
}

/// A custom claim of an authorization server: `mapping` (an authentication-context attribute)
/// released as `name` in tokens of `claim_type` when one of `scopes` is granted.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub tenant_id: TenantId,
    pub server_id: ServerId,
    pub id: ClaimId,
    pub name: String,
    pub mapping: String,
    pub claim_type: ClaimType,
    pub scopes: Vec<String>,
    pub created_at: UnixTime,
}

/// An STS client mapping (Cloudentity Nexus `POST /v1/sts-clients`): a machine client id whose
/// tokens hold exactly `permissions`, nothing inherited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsClient {
    pub tenant_id: TenantId,
    /// Opaque external id (a client of the tenant, or a `sub`/`cid` of a trusted issuer):
    /// 1–256 characters.
    pub client_id: String,
    pub description: Option<String>,
    /// Space-delimited permission codes, normalised (see `Permissions`' display form).
    pub permissions: String,
    pub created_by: Option<String>,
    pub modified_by: Option<String>,
    /// Who created it (audit only; never a source of permissions).
    pub user_id: Option<String>,
    pub created_at: UnixTime,
    pub modified_at: UnixTime,
}

/// A developer role (Cloudentity Nexus `POST /v1/roles`): permissions for an API audience, held
/// by the people whose identity-provider groups its connection maps name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub tenant_id: TenantId,
    pub id: String,
    /// `{productName}-developers`; unique in the tenant.
    pub name: String,
    pub audience: String,
    pub description: Option<String>,
    /// Space-delimited permission codes, normalised.
    pub permissions: String,
    pub connection_maps: Vec<ConnectionMap>,
    pub created_at: UnixTime,
}

/// Maps an identity-provider group to a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionMap {
    /// Assigned by the store.
    pub id: i64,
    pub role_id: String,
    pub name: Option<String>,
    pub group_name: String,
    /// The login method the group comes from (informational).
    pub connection_id: Option<String>,
}

/// A policy (Cloudentity ACP `Policy`) as stored: what the API was given, compiled again when a
/// tenant's configuration is loaded. `validators` is the JSON array of `{name, conf, recovery}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub tenant_id: TenantId,
    pub id: String,
    pub name: String,
    /// `cloudentity` (validators) or `rego` (`definition`).
    pub language: String,
    pub validators: serde_json::Value,
    pub definition: Option<String>,
    /// `allow` and `block`, which every tenant has: neither changed nor deleted.
    pub read_only: bool,
    /// The service whose imported OpenAPI specification created it.
    pub imported_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A privacy consent (Cloudentity ACP `Consent`). `doc` is the consent as the API shows it
/// (`version` and `valid_from` included); the columns repeat what queries and rules need.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivacyConsent {
    pub tenant_id: TenantId,
    pub id: String,
    pub version: i64,
    pub can_be_withdrawn: bool,
    /// `explicitAll`, `implicitAll` or `keepCurrent`.
    pub update_existing_grants: String,
    pub doc: castellan_types::privacy::Consent,
}

/// A consent action: consents grouped, each required or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentActionDef {
    pub tenant_id: TenantId,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// `(consent id, required)`, in the order given.
    pub consents: Vec<(String, bool)>,
}

/// A subject's standing with one consent: the version they granted (or withdrew) last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentGrant {
    pub tenant_id: TenantId,
    pub subject: String,
    pub consent_id: String,
    pub version: i64,
    pub granted: bool,
    pub updated_at: UnixTime,
}

impl ConsentGrant {
    /// The subject's standing with `c`: `granted`, `withdrawn`, or `stale` (granted for an older
    /// version of a consent whose update made grants explicit again; with `keepCurrent` an older
    /// version still counts).
    pub fn status(&self, c: &PrivacyConsent) -> &'static str {
        match (
            self.granted,
            self.version >= c.version,
            c.update_existing_grants.as_str(),
        ) {
            (false, _, _) => "withdrawn",
            (true, true, _) | (true, false, "keepCurrent") => "granted",
            (true, false, _) => "stale",
        }
    }
}

/// An event to append to the privacy ledger; the store gives it its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLedgerEvent {
    pub id: String,
    pub subject: String,
    pub date: UnixTime,
    /// `consent_granted` or `consent_revoked`.
    pub event_type: String,
    /// The payload JSON exactly as stored and hashed.
    pub payload: String,
    /// Who caused it (`{kind}:{id}`): set on the admin audit trail, empty on the privacy ledger.
    pub actor: String,
}

/// An event of the privacy ledger (or of the admin audit trail) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEvent {
    pub tenant_id: TenantId,
    /// 1, 2, 3… per tenant, without gaps.
    pub seq: i64,
    pub id: String,
    pub subject: String,
    pub date: UnixTime,
    pub event_type: String,
    pub payload: String,
    /// Who caused it (`{kind}:{id}`): set on the admin audit trail, empty on the privacy ledger.
    pub actor: String,
    /// Compact JWS over [`LedgerLink`].
    pub signature: String,
}

/// A tenant's whole ledger as one snapshot: the events in stored order and the head (the
/// sequence number of the last event appended, kept apart from the events so that removing the
/// last events is noticed). Both are read together, so appends under way never look like
/// removals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerChain {
    pub events: Vec<LedgerEvent>,
    pub head: i64,
}

/// What an event's signature covers: the event, its payload's SHA-256 and the SHA-256 of the
/// previous event's signature (empty for the first), so that altering, removing or reordering a
/// stored event breaks the chain at that event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerLink {
    pub seq: i64,
    pub id: String,
    pub tenant_id: String,
    pub subject: String,
    pub date: UnixTime,
    pub event_type: String,
    /// base64url SHA-256 of the payload text.
    pub payload_sha256: String,
    /// base64url SHA-256 of the previous event's `payload_signature` ("" for the first event).
    pub prev: String,
    /// The chain the event belongs to: empty for the privacy ledger, `audit` for the admin audit
    /// trail (so an event of one chain never verifies in the other, though one key signs both).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chain: String,
    /// Who caused the event (admin audit trail only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor: String,
}

/// A tenant's ledger signing key (ES256); the private key is sealed with the master key.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerKey {
    pub tenant_id: TenantId,
    pub kid: String,
    pub public_jwk: Jwk,
    pub private_sealed: Vec<u8>,
    pub created_at: UnixTime,
}

/// A service (Cloudentity ACP `Service`): a set of APIs on an authorization server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub tenant_id: TenantId,
    pub id: String,
    pub server_id: ServerId,
    pub name: String,
    pub description: Option<String>,
    pub gateway_id: Option<String>,
    /// Its APIs come from an imported specification (then none are added by hand).
    pub with_specification: bool,
    pub created_at: UnixTime,
}

/// A gateway (Cloudentity ACP `Gateway`): enforces the APIs of the services connected to it,
/// authenticating to the authorizer as its own client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    pub tenant_id: TenantId,
    pub id: String,
    pub server_id: ServerId,
    pub name: String,
    pub description: Option<String>,
    /// `nginx`, `caddy` or `pyron`.
    pub kind: String,
    pub client_id: ClientId,
    pub created_at: UnixTime,
    pub last_active: Option<UnixTime>,
}

/// An API of a service (Cloudentity ACP `API`): a method and a path template as written
/// (`/pets/{petId}`), optionally protected by a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    pub tenant_id: TenantId,
    pub id: String,
    pub service_id: String,
    pub server_id: ServerId,
    /// Upper case (`GET`).
    pub method: String,
    pub path: String,
    /// Order in the service (the imported document's order).
    pub position: i64,
    pub policy_id: Option<String>,
    pub data_classifications: Vec<String>,
    pub can_have_policy: bool,
    /// Created by an import (removed by the next one, never one by one).
    pub imported: bool,
}
