//! The protocol engine: takes parsed requests, the configuration snapshot and the clock, and
//! returns outcomes or an [`OAuthError`]; never an HTTP response. One module per concern:
//! client authentication (RFC 6749 §2.3, RFC 7523), grants (RFC 6749 §4.4), access tokens as
//! JWTs (RFC 9068), introspection (RFC 7662), revocation (RFC 7009), discovery (RFC 8414); the
//! authorization endpoint with login sessions and consent (RFC 6749 §4.1, OIDC Core), the code and
//! refresh grants, id_tokens, userinfo and logout.

mod access_token;
pub mod attributes;
pub mod authorize;
mod client_auth;
pub mod context;
pub mod device;
pub mod discovery;
pub mod dpop;
mod error;
pub mod exchange;
pub mod fapi;
mod form;
pub mod gateway;
mod grants;
pub mod issue;
pub mod jwks_uri;
pub mod mtls;
pub mod par;
pub mod request_object;
pub mod secrets;
pub mod session;
pub mod snapshot;
mod token;
pub mod upstream;
pub mod userinfo;
pub mod users;

use std::sync::Arc;

use castellan_domain::{Client, ClientId, Clock, TenantId};
use castellan_jose::MasterKey;
use castellan_store::{ConfigChange, Store, StoreError};

pub use access_token::{AccessClaims, CLIENT_GRANT};
pub use authorize::{AuthorizeError, AuthorizeRequest, Redirect, ResponseMode, Step};
pub use client_auth::{JWT_BEARER_ASSERTION, Presented, SELF_SIGNED_TLS_CLIENT_AUTH, TLS_CLIENT_AUTH};
pub use error::{ErrorCode, OAuthError};
pub use form::Form;
pub use session::{LoginError, Session};
pub use snapshot::{PolicySet, ServerRuntime, TenantSnapshot, compile_policy, load_policy};
pub use token::TokenResponse;
pub use upstream::{AnswerError, SignInError, SignedIn};
pub use userinfo::LogoutRequest;

/// Grant types Castellan serves (`implicit` through the authorization endpoint).
pub const GRANT_TYPES_SERVED: [&str; 8] = [
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
    "password",
    exchange::JWT_BEARER,
    exchange::TOKEN_EXCHANGE,
    device::DEVICE_CODE,
];

/// Clients kept in memory unless configured otherwise ([`Engine::with_client_cache`]).
pub const DEFAULT_CLIENT_CACHE: usize = 50_000;

pub struct Engine {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    clock: Arc<dyn Clock>,
    public_url: String,
    snapshots: snapshot::Snapshots,
    verified: secrets::VerifiedSecrets,
    client_jwks: jwks_uri::JwksCache,
    throttle: session::Throttle,
    providers: upstream::Providers,
    gateway_touches: gateway::Touches,
    dpop_seen: dpop::ReplayCache,
    client_certs: std::sync::OnceLock<mtls::ClientCertificates>,
    rego: castellan_policy::Rego,
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, master: Arc<MasterKey>, clock: Arc<dyn Clock>, public_url: &str) -> Self {
        Self {
            store,
            master,
            clock,
            public_url: public_url.trim_end_matches('/').to_owned(),
            snapshots: snapshot::Snapshots::new(DEFAULT_CLIENT_CACHE),
            verified: secrets::VerifiedSecrets::default(),
            client_jwks: jwks_uri::JwksCache::default(),
            throttle: session::Throttle::default(),
            providers: upstream::Providers::default(),
            gateway_touches: gateway::Touches::default(),
            dpop_seen: dpop::ReplayCache::default(),
            client_certs: std::sync::OnceLock::new(),
            rego: castellan_policy::Rego::in_process(),
        }
    }

    /// Runs Rego policies where `rego` says (the server: in worker processes; see
    /// [`castellan_policy::Rego`]). Without it they run in this process.
    pub fn with_rego(mut self, rego: castellan_policy::Rego) -> Self {
        self.rego = rego;
        self
    }

    /// Where Rego policies run.
    pub fn rego(&self) -> &castellan_policy::Rego {
        &self.rego
    }

    /// Keeps at most `capacity` clients in memory (the rest are read from the store when used).
    pub fn with_client_cache(mut self, capacity: usize) -> Self {
        self.snapshots = snapshot::Snapshots::new(capacity);
        self
    }

    /// The client cache (its size, for tests and metrics).
    pub fn client_cache(&self) -> &snapshot::ClientCache {
        &self.snapshots.clients
    }

    /// Lets `private_key_jwt` clients publish their keys at a `jwks_uri`; without a fetcher only
    /// registered `jwks` are used.
    pub fn set_jwks_fetcher(&self, fetcher: Arc<dyn jwks_uri::JwksFetcher>) {
        self.client_jwks.set_fetcher(fetcher);
    }

    /// How client certificates reach this node and which authorities `tls_client_auth` chains
    /// must lead to (RFC 8705 §2.1); set once, at start.
    pub fn set_client_certificates(&self, c: mtls::ClientCertificates) {
        let _ = self.client_certs.set(c);
    }

    /// What the metadata says of mutual TLS.
    pub fn mtls_offer(&self) -> discovery::MtlsOffer {
        let c = self.client_certs.get();
        discovery::MtlsOffer {
            certificates: c.is_some_and(|c| c.received),
            authority: c.is_some_and(|c| c.received && c.authority.is_some()),
            alias: c.and_then(|c| c.alias.clone()),
        }
    }

    /// `path` of `rt` at the mutual-TLS alias host, when there is one (RFC 8705 §5).
    pub fn mtls_alias(&self, rt: &ServerRuntime, path: &str) -> Option<String> {
        let base = self.client_certs.get()?.alias.as_deref()?;
        Some(format!("{base}/{}/{}{path}", rt.tenant_id(), rt.id()))
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    fn source(&self) -> snapshot::Source<'_> {
        snapshot::Source {
            store: self.store.as_ref(),
            master: &self.master,
            public_url: &self.public_url,
            now: self.clock.now(),
            rego: &self.rego,
        }
    }

    /// The tenant's configuration snapshot (`None`: no such tenant).
    pub async fn snapshot(&self, tid: &TenantId) -> Result<Option<Arc<TenantSnapshot>>, StoreError> {
        self.snapshots.get(&self.source(), tid).await
    }

    /// The tenant's STS client mappings and roles (empty for a tenant that does not exist).
    pub async fn access(&self, tid: &TenantId) -> Result<Arc<castellan_domain::AccessRules>, OAuthError> {
        Ok(self.snapshot(tid).await?.map(|s| s.access.clone()).unwrap_or_default())
    }

    /// What person grants of the tenant are checked against (access rules and policies).
    pub(crate) async fn rules(&self, tid: &TenantId) -> Result<issue::TenantRules, OAuthError> {
        Ok(match self.snapshot(tid).await? {
            Some(s) => issue::TenantRules {
                access: s.access.clone(),
                policies: s.policies.clone(),
                consents: castellan_policy::Consents::default(),
            },
            None => issue::TenantRules {
                access: Arc::default(),
                policies: Arc::default(),
                consents: castellan_policy::Consents::default(),
            },
        })
    }

    /// Evaluates the tenant's policy `pid` for `subject` (Cloudentity ACP developer policies: the
    /// developer API asks whether a developer may see a server or assign a scope). The subject's
    /// privacy consents are read only when the policy's validators look at them; an unknown policy
    /// fails.
    pub async fn evaluate_policy(
        &self,
        tid: &TenantId,
        pid: &str,
        subject: &str,
        input: castellan_policy::Input<'_>,
    ) -> Result<castellan_policy::Decision, OAuthError> {
        let rules = self.rules(tid).await?;
        let consents;
        let mut input = input;
        if rules.policies.get(pid).is_some_and(|p| p.needs_consents()) {
            consents = self.subject_consents(tid, subject).await?;
            input.consents = &consents;
        }
        Ok(rules.policies.evaluate(pid, &input))
    }

    /// [`Engine::rules`] for a person's grant on `rt` for `scopes`, with the person's privacy
    /// consents loaded when a policy that applies reads them (three indexed reads; none otherwise).
    pub(crate) async fn rules_for(
        &self,
        rt: &ServerRuntime,
        subject: &str,
        scopes: &[String],
    ) -> Result<issue::TenantRules, OAuthError> {
        let mut rules = self.rules(rt.tenant_id()).await?;
        let scope_policies = scopes
            .iter()
            .filter_map(|s| rt.scopes.get(s).and_then(|sc| sc.user_policy_id.as_deref()));
        let needs = rt
            .server
            .settings
            .user_policy_id
            .as_deref()
            .into_iter()
            .chain(scope_policies)
            .any(|pid| rules.policies.get(pid).is_some_and(|p| p.needs_consents()));
        if needs {
            rules.consents = self.subject_consents(rt.tenant_id(), subject).await?;
        }
        Ok(rules)
    }

    /// What the policy `consent` validator sees of a subject: the consents they hold a current
    /// grant of, and every consent action's required consents.
    pub async fn subject_consents(
        &self,
        tid: &TenantId,
        subject: &str,
    ) -> Result<castellan_policy::Consents, OAuthError> {
        let consents: std::collections::HashMap<String, castellan_domain::PrivacyConsent> = self
            .store
            .list_privacy_consents(tid)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let granted = self
            .store
            .list_subject_grants(tid, subject)
            .await?
            .into_iter()
            .filter(|g| consents.get(&g.consent_id).is_some_and(|c| g.status(c) == "granted"))
            .map(|g| g.consent_id)
            .collect();
        let actions = self
            .store
            .list_consent_actions(tid)
            .await?
            .into_iter()
            .map(|a| {
                (
                    a.id,
                    a.consents.into_iter().filter(|(_, r)| *r).map(|(c, _)| c).collect(),
                )
            })
            .collect();
        Ok(castellan_policy::Consents { granted, actions })
    }

    /// The tenant's compiled policies (none for a tenant that does not exist). The developer API
    /// and the gateway authorizer evaluate through this.
    pub async fn policies(&self, tid: &TenantId) -> Result<Arc<snapshot::PolicySet>, OAuthError> {
        Ok(self
            .snapshot(tid)
            .await?
            .map(|s| s.policies.clone())
            .unwrap_or_default())
    }

    /// The server `{tid}/{aid}` as protocol endpoints see it.
    pub async fn server(&self, tid: &str, aid: &str) -> Result<Option<Arc<ServerRuntime>>, OAuthError> {
        let Ok(tid) = TenantId::parse(tid) else { return Ok(None) };
        Ok(self.snapshot(&tid).await?.and_then(|s| s.server(aid).cloned()))
    }

    /// The client `id` of the server `rt` (`None`: no such client there).
    pub async fn client(&self, rt: &ServerRuntime, id: &str) -> Result<Option<Arc<Client>>, OAuthError> {
        let Ok(cid) = ClientId::parse(id) else { return Ok(None) };
        Ok(self.snapshots.client(self.store.as_ref(), rt, &cid).await?)
    }

    /// Brings this node's configuration up to date with a committed change (the writer calls it
    /// before answering, so its caller reads what it wrote; other nodes call it for each change
    /// the store's feed announces). Reads only what changed. When the store cannot be read, the
    /// affected snapshots are dropped instead, so the next reader loads them afresh: a change is
    /// never missed.
    pub async fn changed(&self, change: &ConfigChange) {
        if let Err(e) = self.snapshots.apply(&self.source(), change).await {
            tracing::warn!(error = %e, "cannot reload the configuration that changed; dropping it");
            self.snapshots.forget(change);
        }
    }

    /// [`Engine::changed`] for each change a store write returned, in order.
    pub async fn apply(&self, changes: &castellan_store::Changes) {
        for change in changes {
            self.changed(change).await;
        }
    }

    /// Constant-time check of a client secret against its stored hash (either kind).
    pub async fn verify_secret(&self, secret: &str, stored: &[u8]) -> bool {
        self.verified.verify(&self.master, secret, stored).await
    }
}
