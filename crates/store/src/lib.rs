//! Storage traits, one per aggregate. Every method is scoped by a [`TenantId`]: there is no way to
//! ask the store for another tenant's rows without naming that tenant.
//!
//! Adapters (`castellan-store-sqlite`, later PostgreSQL) implement [`Store`]; the binary picks one
//! at start-up. [`conformance`] is the behaviour every adapter must show.

mod changes;
pub mod conformance;
mod import;

pub use changes::{Changes, ConfigChange};
pub use import::{ConfigImport, Put, ServerPut};

use async_trait::async_trait;
use castellan_domain::{
    Api, AuthorizationServer, Claim, ClaimId, Client, ClientId, ConnectionMap, ConsentActionDef, ConsentGrant, Gateway,
    LedgerChain, LedgerEvent, LedgerKey, LedgerLink, NewLedgerEvent, Policy, PrivacyConsent, Role, Scope, ScopeId,
    ServerId, Service, SigningKey, StsClient, Tenant, TenantId, UnixTime,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A row with the same key exists (unique constraint).
    #[error("{0} already exists")]
    Conflict(String),
    /// The row to change does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The database cannot be reached or refused to work; the request may succeed later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be decoded.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>>;
    async fn list_tenant_ids(&self) -> StoreResult<Vec<TenantId>>;
    /// Fails with `Conflict` when the id is taken.
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<Changes>;
    /// Fails with `NotFound` when the tenant does not exist.
    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<Changes>;
}

#[async_trait]
pub trait ServerStore: Send + Sync {
    async fn list_servers(&self, tid: &TenantId) -> StoreResult<Vec<AuthorizationServer>>;
    async fn get_server(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Option<AuthorizationServer>>;
    /// Creates a server with its signing keys and first scopes in one transaction. `Conflict`
    /// when the id is taken in that tenant, `NotFound` when the tenant does not exist.
    async fn create_server(
        &self,
        server: &AuthorizationServer,
        keys: &[SigningKey],
        scopes: &[Scope],
    ) -> StoreResult<Changes>;
    /// Replaces a server's stored fields, and its keys when `keys` is given, in one transaction.
    async fn update_server(&self, server: &AuthorizationServer, keys: Option<&[SigningKey]>) -> StoreResult<Changes>;
    /// Deletes a server and everything stored under it (keys, clients, grants…), and records a
    /// [`TokenCutoff`] for it (kept until `keep_until`) so that no token it issued works for a
    /// server later created with the same id. `None` when absent.
    async fn delete_server(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<Option<Changes>>;
    async fn list_keys(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<SigningKey>>;
    /// Replaces a server's keys with `keys` if they are still exactly `expected`, holding the
    /// server's row for the transaction so that of several nodes rotating the same keys at once
    /// exactly one succeeds. `None` when the keys had changed (nothing written); `NotFound` when
    /// the server is absent.
    async fn replace_keys(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        expected: &[SigningKey],
        keys: &[SigningKey],
    ) -> StoreResult<Option<Changes>>;
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    async fn get_client(&self, tid: &TenantId, cid: &ClientId) -> StoreResult<Option<Client>>;
    async fn list_clients(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Client>>;
    /// `Conflict` when the client id is taken in the tenant, `NotFound` when the server is absent.
    async fn create_client(&self, client: &Client) -> StoreResult<Changes>;
    /// Creates many clients in one transaction (bulk loading: imports, benchmarks); `Conflict`
    /// or `NotFound` as [`ClientStore::create_client`], and then none is written.
    async fn create_clients(&self, clients: &[Client]) -> StoreResult<Changes>;
    /// Replaces a client's stored fields (not its id or server). `NotFound` when absent.
    async fn update_client(&self, client: &Client) -> StoreResult<Changes>;
    /// Deletes the client and ends everything it was given, in one transaction: the unexpired
    /// access tokens recorded under its grants join the revocation list, its grants (with their
    /// refresh tokens), authorization codes and remembered consents are deleted, and a
    /// [`TokenCutoff`] (kept until `keep_until`) kills every token it was issued until `now`, so a
    /// client later created with the same id inherits nothing. `None` when absent.
    async fn delete_client(
        &self,
        tid: &TenantId,
        cid: &ClientId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<Option<Changes>>;
    /// Every client of every server of the tenant (for the configuration snapshot).
    async fn list_tenant_clients(&self, tid: &TenantId) -> StoreResult<Vec<Client>>;
    /// Up to `limit` of the tenant's clients whose id sorts (by bytes) after `after`, in id
    /// order: the tenant's clients a page at a time (exports).
    async fn list_tenant_clients_after(
        &self,
        tid: &TenantId,
        after: Option<&ClientId>,
        limit: u32,
    ) -> StoreResult<Vec<Client>>;
}

#[async_trait]
pub trait ScopeStore: Send + Sync {
    async fn get_scope(&self, tid: &TenantId, id: &ScopeId) -> StoreResult<Option<Scope>>;
    async fn list_scopes(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Scope>>;
    /// Every scope of every server of the tenant (for the configuration snapshot).
    async fn list_tenant_scopes(&self, tid: &TenantId) -> StoreResult<Vec<Scope>>;
    /// `Conflict` when the id is taken in the tenant or the name in the server; `NotFound` when the
    /// server is absent.
    async fn create_scope(&self, scope: &Scope) -> StoreResult<Changes>;
    async fn update_scope(&self, scope: &Scope) -> StoreResult<Changes>;
    /// Deletes the scope and takes its name off every client of its server, in one transaction.
    /// `None` when absent.
    async fn delete_scope(&self, tid: &TenantId, id: &ScopeId) -> StoreResult<Option<Changes>>;
}

#[async_trait]
pub trait ClaimStore: Send + Sync {
    async fn get_claim(&self, tid: &TenantId, id: &ClaimId) -> StoreResult<Option<Claim>>;
    async fn list_claims(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Claim>>;
    /// Every claim of every server of the tenant (for the configuration snapshot).
    async fn list_tenant_claims(&self, tid: &TenantId) -> StoreResult<Vec<Claim>>;
    /// `Conflict` when the id is taken in the tenant or the name for that token type on the
    /// server; `NotFound` when the server is absent.
    async fn create_claim(&self, claim: &Claim) -> StoreResult<Changes>;
    async fn update_claim(&self, claim: &Claim) -> StoreResult<Changes>;
    async fn delete_claim(&self, tid: &TenantId, id: &ClaimId) -> StoreResult<Option<Changes>>;
}

/// Tokens of a deleted client (or of a whole deleted server, `client_id: None`) issued at or
/// before `issued_before` are dead, whatever is created later under the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCutoff {
    pub server_id: ServerId,
    pub client_id: Option<ClientId>,
    pub issued_before: UnixTime,
}

/// RFC 7009 revocations and once-only assertion ids (RFC 7523 §3 `jti`), each kept until the
/// token or assertion would have expired anyway.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn revoke_token(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<Changes>;
    /// Every revocation of the tenant that has not expired at `now`, as `(server, jti)`.
    async fn list_revoked(&self, tid: &TenantId, now: UnixTime) -> StoreResult<Vec<(ServerId, String)>>;
    /// The tenant's unexpired token cutoffs (deleted clients and servers).
    async fn list_cutoffs(&self, tid: &TenantId, now: UnixTime) -> StoreResult<Vec<TokenCutoff>>;
    /// Records an assertion id; `false` when it was already used (a replay).
    async fn use_assertion_id(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool>;
    /// Forgets revocations, assertion ids, codes, grants (with their refresh tokens), sessions,
    /// pending sign-ins and device requests that expired before `now`, in statements of at most
    /// `pace.batch` rows each, resting between them (every statement its own short transaction, so the token path never
    /// waits on a long one). One purge at a time per database: `None` when another node (or task)
    /// holds the turn. Unexpired rows are never touched.
    async fn purge_expired_in_batches(&self, now: UnixTime, pace: PurgePace) -> StoreResult<Option<Purged>>;
    /// [`TokenStore::purge_expired_in_batches`] at the default pace: how many rows went (0 when
    /// another purge runs).
    async fn purge_expired(&self, now: UnixTime) -> StoreResult<u64> {
        Ok(self
            .purge_expired_in_batches(now, PurgePace::default())
            .await?
            .map_or(0, |p| p.total()))
    }
}

/// How a purge goes: rows per delete statement, and how many times as long as a statement took
/// it rests before the next (4: the purge takes at most a fifth of a core, so the token path keeps
/// its latency; 0: as fast as it can).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgePace {
    pub batch: u32,
    pub rest_factor: u32,
}

impl Default for PurgePace {
    fn default() -> Self {
        Self {
            batch: 1000,
            rest_factor: 4,
        }
    }
}

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Rows removed, by table (every table the purge visits, in its order).
    pub tables: Vec<(&'static str, u64)>,
    /// Delete statements run.
    pub batches: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// An authorization code (RFC 6749 §4.1.2) as stored: by hash, with the authorization it stands
/// for as an opaque JSON document the protocol engine owns.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeRecord {
    pub server_id: ServerId,
    pub hash: String,
    pub grant_id: String,
    pub client_id: ClientId,
    pub data: String,
    pub expires_at: UnixTime,
    /// Set once the code was exchanged.
    pub used: bool,
}

/// A refresh token as stored: by hash, in the family (grant) it was issued under.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshRecord {
    pub server_id: ServerId,
    pub hash: String,
    pub grant_id: String,
    pub client_id: ClientId,
    pub data: String,
    pub expires_at: UnixTime,
    /// Set once the token was rotated (exchanged for a new one).
    pub used: bool,
    /// The whole grant was revoked (reuse detected, code replayed, or revoked by the client).
    pub grant_revoked: bool,
}

/// What one token response issued under a grant: its access token (by `jti`) and perhaps a
/// refresh token. Recorded so that revoking the grant revokes every token it produced.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedTokens {
    pub server_id: ServerId,
    pub grant_id: String,
    pub client_id: ClientId,
    pub subject: String,
    pub access_jti: String,
    pub access_expires_at: UnixTime,
    pub refresh: Option<RefreshRecord>,
    /// When nothing issued under the grant can be used any more.
    pub grant_expires_at: UnixTime,
}

/// A person's sign-in at one authorization server, found by the hash of the cookie's id.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub server_id: ServerId,
    pub id_hash: String,
    pub subject: String,
    pub auth_time: UnixTime,
    /// The authentication context (JSON) captured at sign-in.
    pub data: String,
    pub expires_at: UnixTime,
    /// The login method the person signed in with.
    pub method_id: String,
}

/// A person who signed in through an upstream identity provider or an external login page: known
/// by the login method and the subject that side gave, under a subject of this server.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    pub server_id: ServerId,
    pub subject: String,
    pub method_id: String,
    pub upstream_subject: String,
    /// The authentication context (JSON) of the person's latest sign-in.
    pub data: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// A sign-in waiting for an upstream provider's callback or an external login page's answer,
/// found by the hash of its one-time id (the upstream `state`, or the `login_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingLogin {
    pub server_id: ServerId,
    pub id_hash: String,
    /// What the protocol engine needs to finish the sign-in (JSON it owns).
    pub data: String,
    /// The external page's answer (JSON), once given.
    pub result: Option<String>,
    pub expires_at: UnixTime,
}

/// Where a device authorization request (RFC 8628) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the person to enter the user code and decide.
    Pending,
    /// Allowed: an authorization code stored under the same hash stands for it.
    Approved,
    /// Refused by the person (or by a policy on their behalf).
    Denied,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Denied]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// A device authorization request (RFC 8628 §3.1) as stored: by the hash of its device code,
/// found on the verification page by the hash of its user code.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRecord {
    pub server_id: ServerId,
    pub device_hash: String,
    pub user_hash: String,
    pub client_id: ClientId,
    /// What was asked (JSON the protocol engine owns).
    pub data: String,
    pub status: DeviceStatus,
    /// Seconds the device must wait between polls (RFC 8628 §3.5).
    pub interval: i64,
    /// When the device last polled.
    pub polled_at: UnixTime,
    pub expires_at: UnixTime,
}

/// Storage of the browser flows, with the atomic operations they need (as ory/fosite names
/// them): a code is redeemed once, a refresh token rotated once, and a replay of either revokes
/// the grant.
#[async_trait]
pub trait FlowStore: Send + Sync {
    async fn save_code(&self, tid: &TenantId, code: &CodeRecord) -> StoreResult<()>;
    async fn get_code(&self, tid: &TenantId, aid: &ServerId, hash: &str) -> StoreResult<Option<CodeRecord>>;
    /// Marks the code used and records the grant and the tokens issued for it, in one
    /// transaction; `false` (and nothing written) when the code was already used or has expired.
    async fn redeem_code(&self, tid: &TenantId, hash: &str, now: UnixTime, issued: &IssuedTokens) -> StoreResult<bool>;
    /// Records a grant and its first tokens (a grant without a code: the password grant).
    async fn record_grant(&self, tid: &TenantId, issued: &IssuedTokens) -> StoreResult<()>;
    async fn get_refresh(&self, tid: &TenantId, aid: &ServerId, hash: &str) -> StoreResult<Option<RefreshRecord>>;
    /// Marks the refresh token used and records the tokens that replace it, in one transaction;
    /// `false` (nothing written) when it was already used, or its grant revoked.
    async fn rotate_refresh(
        &self,
        tid: &TenantId,
        hash: &str,
        now: UnixTime,
        issued: &IssuedTokens,
    ) -> StoreResult<bool>;
    /// Revokes a grant: its refresh tokens stop working and its unexpired access tokens join the
    /// revocation list. Returns those access tokens' `jti`s.
    async fn revoke_grant(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        grant_id: &str,
        now: UnixTime,
    ) -> StoreResult<Vec<String>>;
    /// The scopes `subject` has consented to for the client.
    async fn get_consent(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        cid: &ClientId,
        subject: &str,
    ) -> StoreResult<Option<Vec<String>>>;
    /// Replaces the remembered consent.
    async fn save_consent(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        cid: &ClientId,
        subject: &str,
        scopes: &[String],
        now: UnixTime,
    ) -> StoreResult<()>;
    async fn create_session(&self, tid: &TenantId, session: &SessionRecord) -> StoreResult<()>;
    async fn get_session(&self, tid: &TenantId, aid: &ServerId, id_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn delete_session(&self, tid: &TenantId, aid: &ServerId, id_hash: &str) -> StoreResult<bool>;
    /// Ends what people who can no longer sign in (a removed user, a disabled login method) hold at
    /// one server, in one transaction: their sessions and remembered consents are deleted, their
    /// grants revoked (refresh tokens stop working, unexpired access tokens join the revocation
    /// list). Returns the revoked access tokens' `jti`s.
    async fn end_subjects(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        subjects: &[String],
        now: UnixTime,
    ) -> StoreResult<Vec<String>>;
    /// Records a person of an upstream method (created on first sign-in; the context refreshed
    /// later) and returns their subject: the one they were given first, whatever `p.subject` says.
    async fn link_person(&self, tid: &TenantId, p: &PersonRecord) -> StoreResult<String>;
    async fn get_person(&self, tid: &TenantId, aid: &ServerId, subject: &str) -> StoreResult<Option<PersonRecord>>;
    async fn save_pending_login(&self, tid: &TenantId, p: &PendingLogin) -> StoreResult<()>;
    /// An unexpired pending sign-in.
    async fn get_pending_login(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        id_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<PendingLogin>>;
    /// Records the external page's answer once: `false` when the sign-in is unknown, expired or
    /// already answered.
    async fn answer_pending_login(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        id_hash: &str,
        result: &str,
        now: UnixTime,
    ) -> StoreResult<bool>;
    /// Removes and returns an unexpired pending sign-in: each is finished at most once.
    async fn take_pending_login(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        id_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<PendingLogin>>;
    /// Stores a new device authorization request: `false` (nothing written) when its device or
    /// user code is taken already.
    async fn save_device(&self, tid: &TenantId, d: &DeviceRecord) -> StoreResult<bool>;
    /// A device authorization request by the hash of its device code, expired or not.
    async fn get_device(&self, tid: &TenantId, aid: &ServerId, device_hash: &str) -> StoreResult<Option<DeviceRecord>>;
    /// The unexpired, still pending request whose user code has this hash.
    async fn find_device_by_user_code(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        user_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<DeviceRecord>>;
    /// Settles a pending, unexpired request once (approved or denied), kept until `keep_until`
    /// so the device can learn the answer: `false` when it was settled already or has expired.
    async fn settle_device(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        device_hash: &str,
        status: DeviceStatus,
        keep_until: UnixTime,
        now: UnixTime,
    ) -> StoreResult<bool>;
    /// Records a poll of the device and the interval it must keep from now on.
    async fn record_device_poll(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        device_hash: &str,
        polled_at: UnixTime,
        interval: i64,
    ) -> StoreResult<()>;
}

/// A tenant with everything it is born with: what a first start or a tenant creation writes.
#[derive(Debug, Clone)]
pub struct BootstrapSeed {
    pub tenant: Tenant,
    pub servers: Vec<(AuthorizationServer, Vec<SigningKey>)>,
    /// Scopes of those servers.
    pub scopes: Vec<Scope>,
    pub clients: Vec<Client>,
    /// Policies every tenant is born with (`allow`, `block`).
    pub policies: Vec<Policy>,
    /// A known value sealed with the master key, written with the first tenant (kept once per
    /// store): a node started with another master key cannot open it and refuses to start.
    pub key_check: Vec<u8>,
}

/// Who may manage what: STS client mappings and developer roles with their connection maps.
/// Every write changes [`ConfigChange::Access`].
#[async_trait]
pub trait AccessStore: Send + Sync {
    async fn list_sts_clients(&self, tid: &TenantId) -> StoreResult<Vec<StsClient>>;
    async fn get_sts_client(&self, tid: &TenantId, client_id: &str) -> StoreResult<Option<StsClient>>;
    /// `Conflict` when the tenant already maps this client id.
    async fn create_sts_client(&self, c: &StsClient) -> StoreResult<Changes>;
    /// Replaces description, permissions, `modified_by` and `modified_at`. `NotFound` when absent.
    async fn update_sts_client(&self, c: &StsClient) -> StoreResult<Changes>;
    async fn delete_sts_client(&self, tid: &TenantId, client_id: &str) -> StoreResult<Option<Changes>>;
    /// Every role of the tenant with its connection maps, by name.
    async fn list_roles(&self, tid: &TenantId) -> StoreResult<Vec<Role>>;
    async fn get_role(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Role>>;
    /// Writes the role (its `connection_maps` are ignored). `Conflict` when its id or its name
    /// is taken in the tenant.
    async fn create_role(&self, r: &Role) -> StoreResult<Changes>;
    /// Replaces audience, description and permissions. `NotFound` when absent.
    async fn update_role(&self, r: &Role) -> StoreResult<Changes>;
    /// Deletes the role and its connection maps.
    async fn delete_role(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Changes>>;
    /// Adds a connection map to a role, returning it with the id the store gave it. `NotFound`
    /// when the role is absent, `Conflict` when the role already maps that group (from that
    /// connection).
    async fn add_connection_map(&self, tid: &TenantId, map: &ConnectionMap) -> StoreResult<(ConnectionMap, Changes)>;
    async fn delete_connection_map(&self, tid: &TenantId, role_id: &str, map_id: i64) -> StoreResult<Option<Changes>>;
}

/// Policies of a tenant (Cloudentity ACP `/policies`). Every write changes
/// [`ConfigChange::Policies`].
#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// Every policy of the tenant, by id.
    async fn list_policies(&self, tid: &TenantId) -> StoreResult<Vec<Policy>>;
    async fn get_policy(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Policy>>;
    /// `Conflict` when the tenant has a policy with this id.
    async fn create_policy(&self, p: &Policy) -> StoreResult<Changes>;
    /// Replaces name, language, validators, definition and `updated_at`. `NotFound` when absent.
    async fn update_policy(&self, p: &Policy) -> StoreResult<Changes>;
    async fn delete_policy(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Changes>>;
}

/// Signs a link of the privacy ledger (a compact JWS with the tenant's ledger key); called by
/// the store inside the transaction that appends the event, once its place is known.
pub trait LedgerSigner: Send + Sync {
    fn sign(&self, link: &LedgerLink) -> Result<String, String>;
    /// base64url SHA-256 of `data` (a payload, a previous signature).
    fn hash(&self, data: &[u8]) -> String;
}

/// One privacy change, written in one transaction: a consent created or updated, subjects'
/// grants set, and ledger events appended (each signed in turn and chained to the one before).
#[derive(Debug, Clone, Default)]
pub struct PrivacyWrite {
    /// Created (`Conflict` when its id exists) or, with `update`, replaced (`NotFound` when absent).
    pub consent: Option<PrivacyConsent>,
    pub update: bool,
    pub grants: Vec<ConsentGrant>,
    pub events: Vec<NewLedgerEvent>,
}

/// Privacy consents, consent actions, subjects' grants and the privacy ledger (Cloudentity ACP
/// `/consents`, `/actions`, `/events`). Ledger events are only ever appended.
#[async_trait]
pub trait PrivacyStore: Send + Sync {
    async fn list_privacy_consents(&self, tid: &TenantId) -> StoreResult<Vec<PrivacyConsent>>;
    async fn get_privacy_consent(&self, tid: &TenantId, id: &str) -> StoreResult<Option<PrivacyConsent>>;
    /// Deletes the consent and the grants of it (its ledger events stay).
    async fn delete_privacy_consent(&self, tid: &TenantId, id: &str) -> StoreResult<bool>;
    async fn list_consent_actions(&self, tid: &TenantId) -> StoreResult<Vec<ConsentActionDef>>;
    async fn get_consent_action(&self, tid: &TenantId, id: &str) -> StoreResult<Option<ConsentActionDef>>;
    /// `Conflict` when its id exists.
    async fn create_consent_action(&self, a: &ConsentActionDef) -> StoreResult<()>;
    /// `NotFound` when absent.
    async fn update_consent_action(&self, a: &ConsentActionDef) -> StoreResult<()>;
    async fn delete_consent_action(&self, tid: &TenantId, id: &str) -> StoreResult<bool>;
    async fn list_subject_grants(&self, tid: &TenantId, subject: &str) -> StoreResult<Vec<ConsentGrant>>;
    async fn list_consent_grants(&self, tid: &TenantId, consent_id: &str) -> StoreResult<Vec<ConsentGrant>>;
    /// Applies `w` in one transaction; returns the events as appended. Appends of one tenant
    /// are serialized, so sequence numbers have no gaps or repeats.
    async fn privacy_write(
        &self,
        tid: &TenantId,
        w: &PrivacyWrite,
        signer: &dyn LedgerSigner,
    ) -> StoreResult<Vec<LedgerEvent>>;
    /// Events of the tenant with `from <= date <= to`, of one subject when given, in order.
    async fn list_ledger_events(
        &self,
        tid: &TenantId,
        subject: Option<&str>,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<LedgerEvent>>;
    /// Every event of the tenant in stored order (by sequence) and the head (0: none), read in
    /// one snapshot, for verification.
    async fn ledger_chain(&self, tid: &TenantId) -> StoreResult<LedgerChain>;
    async fn get_ledger_key(&self, tid: &TenantId) -> StoreResult<Option<LedgerKey>>;
    /// Stores the tenant's ledger key unless it has one; returns whether it was stored.
    async fn create_ledger_key(&self, k: &LedgerKey) -> StoreResult<bool>;
}

/// Which events of the admin audit trail to list: newest first, at most `limit`, of sequence
/// below `before` when given.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `{kind}/{id}`: that object's events; a prefix ending at a `/` also matches what is under it
    /// (`clients` matches `clients/shop-web`).
    pub object: Option<String>,
    /// `{kind}:{id}` exactly.
    pub actor: Option<String>,
    pub from: i64,
    pub to: i64,
    pub before: Option<i64>,
    pub limit: i64,
}

/// The admin audit trail: one event per management write, chained and signed like the privacy
/// ledger (with the same tenant key, in a chain of its own). Events are only ever appended.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `e` as the tenant's next event, signed in turn; returns it as stored. Appends of
    /// one tenant are serialized, so sequence numbers have no gaps or repeats.
    async fn append_audit(
        &self,
        tid: &TenantId,
        e: &NewLedgerEvent,
        signer: &dyn LedgerSigner,
    ) -> StoreResult<LedgerEvent>;
    async fn list_audit(&self, tid: &TenantId, f: &AuditFilter) -> StoreResult<Vec<LedgerEvent>>;
    /// Every event of the tenant's trail in stored order and its head, read in one snapshot.
    async fn audit_chain(&self, tid: &TenantId) -> StoreResult<LedgerChain>;
}

/// Services and their APIs (Cloudentity ACP `/services`, `/apis`). Every write changes
/// [`ConfigChange::Services`] (gateways match requests against the APIs).
#[async_trait]
pub trait ServiceStore: Send + Sync {
    /// Every service of the tenant (of one server when given), by id.
    async fn list_services(&self, tid: &TenantId, server: Option<&ServerId>) -> StoreResult<Vec<Service>>;
    async fn get_service(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Service>>;
    /// `Conflict` when its id exists; `NotFound` when its server does not.
    async fn create_service(&self, s: &Service) -> StoreResult<Changes>;
    /// Replaces name, description, gateway and `with_specification`. `NotFound` when absent.
    async fn update_service(&self, s: &Service) -> StoreResult<Changes>;
    /// Deletes the service and its APIs.
    async fn delete_service(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Changes>>;
    /// APIs of a service by position, or of every service of a server.
    async fn list_apis(
        &self,
        tid: &TenantId,
        service: Option<&str>,
        server: Option<&ServerId>,
    ) -> StoreResult<Vec<Api>>;
    async fn get_api(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Api>>;
    /// `Conflict` when its id, or its method and path in its service, exist.
    async fn create_api(&self, a: &Api) -> StoreResult<Changes>;
    /// Replaces policy and data classifications. `NotFound` when absent.
    async fn update_api(&self, a: &Api) -> StoreResult<Changes>;
    async fn delete_api(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Changes>>;
    /// Writes an import of a service's OpenAPI specification (or its removal) in one
    /// transaction: deletes `remove_apis` and `remove_policies`, creates `policies`, `scopes` and
    /// `apis`, and stores `service`. Nothing is written when any part fails. Its changes are the
    /// tenant's services, its policies when any were removed or written, and the server when
    /// scopes were added.
    async fn apply_service_import(&self, imp: &ServiceImport) -> StoreResult<Changes>;
}

/// Gateways (Cloudentity ACP `/gateways`). Every write changes [`ConfigChange::Services`]
/// (the authorizer reads gateways with the services' APIs).
#[async_trait]
pub trait GatewayStore: Send + Sync {
    /// Every gateway of the tenant (of one server when given), by id.
    async fn list_gateways(&self, tid: &TenantId, server: Option<&ServerId>) -> StoreResult<Vec<Gateway>>;
    async fn get_gateway(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Gateway>>;
    /// Creates the gateway and its client in one transaction. `Conflict` when either id exists;
    /// `NotFound` when the server does not.
    async fn create_gateway(&self, g: &Gateway, client: &Client) -> StoreResult<Changes>;
    /// Replaces name and description. `NotFound` when absent.
    async fn update_gateway(&self, g: &Gateway) -> StoreResult<Changes>;
    /// Disconnects the gateway's services and deletes it (its client is deleted by the caller,
    /// with everything the client was given).
    async fn delete_gateway(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Changes>>;
    /// Records when the gateway last asked the authorizer (no change: nothing reads it from a
    /// snapshot).
    async fn touch_gateway(&self, tid: &TenantId, id: &str, at: UnixTime) -> StoreResult<()>;
}

/// What an import of a service's specification changes (see
/// [`ServiceStore::apply_service_import`]).
#[derive(Debug, Clone)]
pub struct ServiceImport {
    /// The service as it is afterwards (`with_specification` and `gateway_id` are written).
    pub service: Service,
    /// Ids of the service's APIs to delete.
    pub remove_apis: Vec<String>,
    /// Ids of policies to delete.
    pub remove_policies: Vec<String>,
    pub policies: Vec<Policy>,
    pub scopes: Vec<Scope>,
    pub apis: Vec<Api>,
}

#[async_trait]
pub trait Store:
    TenantStore
    + ServerStore
    + ClientStore
    + ScopeStore
    + ClaimStore
    + TokenStore
    + FlowStore
    + AccessStore
    + PolicyStore
    + PrivacyStore
    + AuditStore
    + ServiceStore
    + GatewayStore
{
    /// A cheap round trip proving the database answers (readiness).
    async fn ping(&self) -> StoreResult<()>;
    /// Creates a tenant with its servers, keys and clients in one transaction; `Conflict` when
    /// the tenant id is taken (then nothing is written).
    async fn create_tenant_seeded(&self, seed: &BootstrapSeed) -> StoreResult<Changes>;
    /// Deletes a tenant and everything of it (servers, keys, clients, tokens, sessions, consents,
    /// its ledger) in one transaction; `None` when there was no such tenant.
    async fn delete_tenant(&self, tid: &TenantId) -> StoreResult<Option<Changes>>;
    /// Writes a configuration import in one transaction: every `Create` is inserted (`Conflict`
    /// naming the object when its id is taken) and every `Replace` written over the stored object
    /// (`NotFound` naming it when absent). Nothing is written when any part fails. Changes every
    /// tenant it touches.
    async fn import_configuration(&self, imp: &ConfigImport) -> StoreResult<Changes>;
    /// Writes `seed` in one transaction if, and only if, the store holds no tenant yet; `None`
    /// when it wrote nothing. Safe to call from several processes at once: they queue
    /// on one lock, so when it returns the store holds the first caller's seed and key check.
    async fn bootstrap(&self, seed: &BootstrapSeed) -> StoreResult<Option<Changes>>;
    /// The master-key check value the first bootstrap stored (`None` for stores bootstrapped
    /// before it existed).
    async fn key_check(&self) -> StoreResult<Option<Vec<u8>>>;
    /// Changes committed by any process sharing this store, for stores that several processes
    /// share. `None` (the default) for a store only this process writes.
    async fn changes(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<ConfigChange>>> {
        Ok(None)
    }
    /// Whether other processes may write this store too (PostgreSQL): then what one node must
    /// remember for all (a DPoP proof's `jti`) is written to it, not only kept in memory.
    fn shared(&self) -> bool {
        false
    }
}
