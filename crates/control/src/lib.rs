//! The control plane: rules, defaults and validation behind the admin API families, composed from
//! the domain, the crypto crate and the store. Handlers call these operations and map the outcome.
//!
//! Authorization cannot be forgotten: every management operation takes an [`Allowed<N>`] for the
//! permission `N` it needs, which only [`AdminAccess::allow`] makes (403 otherwise); an
//! [`AdminAccess`] only comes from authentication and carries the one tenant it may touch.

mod access;
mod access_manager;
mod audit;
mod authentications;
mod bootstrap;
mod claims;
mod clients;
mod configuration;
mod console;
mod defaults;
mod developer;
mod error;
mod gateways;
mod ledger;
mod permissions;
mod policies;
mod privacy;
pub mod registration;
mod scopes;
mod servers;
mod services;
pub mod spec;
mod tenants;
mod validate;
mod views;
mod workspace;

use std::sync::Arc;

use castellan_domain::Clock;
use castellan_jose::MasterKey;
use castellan_oauth::Engine;
use castellan_store::{ConfigChange, Store};

pub use access::{AdminAccess, Allowed, Need, need};
pub use audit::{AUDIT_PAGE, AUDIT_PAGE_MAX, AuditKind, AuditRecord, verify_audit_stored};
pub use bootstrap::{BootstrapCredentials, BootstrapOptions};
pub use castellan_policy::validator_schema as policy_validator_schema;
pub use clients::{AUTH_METHODS, RESPONSE_TYPES};
pub use configuration::{DumpOut, ImportMode};
pub use console::CONSOLE_CLIENT;
pub use defaults::BUILT_IN as BUILT_IN_POLICIES;
pub use developer::DeveloperCaller;
pub use error::{ControlError, ControlResult};
pub use gateways::{GATEWAY_SCOPE, GATEWAY_TYPES};
pub use ledger::verify_stored;
pub use permissions::DEFAULT_ROLE_PERMISSIONS;
pub use privacy::{PrivacyCaller, STRATEGIES as CONSENT_STRATEGIES};
pub use services::{ApiFilter, DocumentFetcher, MAX_SPECIFICATION_BYTES, METHODS as API_METHODS};
pub use validate::MAX_NAME_LEN;
pub use validate::check_redirect_uri;

/// Shared state of the control plane. Cheap to clone behind an `Arc`.
pub struct Control {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    clock: Arc<dyn Clock>,
    public_url: String,
    engine: Arc<Engine>,
    /// Each tenant's opened ledger key (a tenant's key never changes once made).
    ledger_signers: privacy::SignerCache,
    /// Fetches specifications for URL imports (set by the server).
    document_fetcher: std::sync::OnceLock<Arc<dyn DocumentFetcher>>,
    /// Room for CPU-heavy work a tenant's author sends (compiling a Rego policy, reading an
    /// OpenAPI document): it runs off the request workers, a few at a time.
    heavy: Arc<tokio::sync::Semaphore>,
    client_cache: usize,
    rego: castellan_policy::Rego,
    /// Open dynamic registrations per address.
    registrations: registration::RegistrationThrottle,
    /// Rows purged by this process, by table.
    purged: std::sync::Mutex<Vec<(&'static str, u64)>>,
}

/// How many policy compilations and document reads run at once (the rest wait their turn).
pub const HEAVY_WORK_AT_ONCE: usize = 2;
/// How long such work may take before the request is answered 422; the work itself finishes
/// (and keeps its place) on its blocking thread.
pub const HEAVY_WORK_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Control {
    /// Runs `work` on a blocking thread, at most [`HEAVY_WORK_AT_ONCE`] at a time, answering
    /// `Invalid(field, …)` when it takes longer than [`HEAVY_WORK_TIME_LIMIT`]. A place is held
    /// until the work really ends, so timed-out work cannot pile up.
    pub(crate) async fn heavy<T: Send + 'static>(
        &self,
        field: &str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> ControlResult<T> {
        let run = async {
            let permit = self
                .heavy
                .clone()
                .acquire_owned()
                .await
                .map_err(ControlError::internal)?;
            tokio::task::spawn_blocking(move || {
                let out = work();
                drop(permit);
                out
            })
            .await
            .map_err(ControlError::internal)
        };
        match tokio::time::timeout(HEAVY_WORK_TIME_LIMIT, run).await {
            Ok(r) => r,
            Err(_) => Err(ControlError::invalid(
                field,
                format!(
                    "took longer than {} s to process; simplify it",
                    HEAVY_WORK_TIME_LIMIT.as_secs()
                ),
            )),
        }
    }
}

impl Control {
    /// `public_url` is the externally visible base URL (`http://127.0.0.1:8443`); issuers are
    /// `{public_url}/{tid}/{aid}`.
    pub fn new(store: Arc<dyn Store>, master: Arc<MasterKey>, clock: Arc<dyn Clock>, public_url: &str) -> Self {
        Self {
            engine: Arc::new(Engine::new(store.clone(), master.clone(), clock.clone(), public_url)),
            store,
            master,
            clock,
            public_url: public_url.trim_end_matches('/').to_owned(),
            ledger_signers: privacy::SignerCache::default(),
            document_fetcher: std::sync::OnceLock::new(),
            heavy: Arc::new(tokio::sync::Semaphore::new(HEAVY_WORK_AT_ONCE)),
            client_cache: castellan_oauth::DEFAULT_CLIENT_CACHE,
            rego: castellan_policy::Rego::in_process(),
            registrations: registration::RegistrationThrottle::default(),
            purged: std::sync::Mutex::default(),
        }
    }

    /// Keeps at most `capacity` clients in memory (see [`Engine::with_client_cache`]). Call
    /// before sharing the control plane: it builds a new engine.
    pub fn with_client_cache(mut self, capacity: usize) -> Self {
        self.client_cache = capacity;
        self.engine = Arc::new(self.build_engine());
        self
    }

    /// Runs Rego policies where `rego` says (see [`Engine::with_rego`]). Call before sharing
    /// the control plane: it builds a new engine.
    pub fn with_rego(mut self, rego: castellan_policy::Rego) -> Self {
        self.rego = rego;
        self.engine = Arc::new(self.build_engine());
        self
    }

    fn build_engine(&self) -> Engine {
        Engine::new(
            self.store.clone(),
            self.master.clone(),
            self.clock.clone(),
            &self.public_url,
        )
        .with_client_cache(self.client_cache)
        .with_rego(self.rego.clone())
    }

    /// The store this control plane writes to (for operator tooling such as bulk loads).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The protocol engine, sharing this control plane's store, keys and snapshots.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// How URL imports of specifications fetch them (once; later calls are ignored).
    pub fn set_document_fetcher(&self, f: Arc<dyn DocumentFetcher>) {
        let _ = self.document_fetcher.set(f);
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Applies a change another node committed: what it names is reloaded (see the engine's
    /// snapshot), while requests go on with the previous copy.
    pub async fn apply_change(&self, change: &ConfigChange) {
        self.engine.changed(change).await;
    }

    /// Follows the store's change feed until it ends, keeping this node's snapshots current.
    /// Returns at once for stores no other process writes.
    pub async fn follow_changes(self: Arc<Self>) -> ControlResult<()> {
        let Some(mut rx) = self.store.changes().await? else {
            return Ok(());
        };
        while let Some(change) = rx.recv().await {
            tracing::debug!(?change, "configuration changed elsewhere");
            self.apply_change(&change).await;
        }
        Ok(())
    }

    /// Proves the master key opens what the store holds, so a node started with the wrong key
    /// fails at start-up instead of on first use. Run it after [`Control::bootstrap`]: nodes
    /// starting together on an empty store queue on the bootstrap's lock, so by then the store
    /// holds the check value the first of them sealed, and every other node is held to that key.
    /// Stores bootstrapped before the check value existed are checked against a sealed server
    /// secret instead.
    pub async fn check_master_key(&self) -> ControlResult<()> {
        let refused = || {
            ControlError::Refused(
                "the master key does not open this database's secrets: start with the same \
                 CASTELLAN_MASTER_KEY (or <data-dir>/master.key) that created it"
                    .into(),
            )
        };
        if let Some(sealed) = self.store.key_check().await? {
            return match self.master.open(castellan_domain::seal::KEY_CHECK, &sealed) {
                Ok(v) if v.as_slice() == bootstrap::KEY_CHECK_VALUE => Ok(()),
                _ => Err(refused()),
            };
        }
        let Some(tid) = self.store.list_tenant_ids().await?.into_iter().next() else {
            return Ok(());
        };
        let Some(server) = self.store.list_servers(&tid).await?.into_iter().next() else {
            return Ok(());
        };
        self.open_server_secrets(&server).map(|_| ()).map_err(|_| refused())
    }

    /// Removes what expired (codes, sessions, grants with their refresh tokens, revocations,
    /// assertion ids, pending sign-ins, device requests) at `pace` (rows per statement, rest between), unless
    /// another node is doing it; adds the rows to [`Control::purged_rows`]. Run periodically.
    pub async fn purge_expired_in_batches(
        &self,
        pace: castellan_store::PurgePace,
    ) -> ControlResult<Option<castellan_store::Purged>> {
        let purged = self.store.purge_expired_in_batches(self.clock.now(), pace).await?;
        if let Some(p) = &purged {
            let mut totals = self.purged.lock().unwrap_or_else(|e| e.into_inner());
            for (table, n) in &p.tables {
                match totals.iter_mut().find(|(t, _)| t == table) {
                    Some((_, total)) => *total += n,
                    None => totals.push((table, *n)),
                }
            }
        }
        Ok(purged)
    }

    /// [`Control::purge_expired_in_batches`] at the default pace: how many rows went.
    pub async fn purge_expired(&self) -> ControlResult<u64> {
        Ok(self
            .purge_expired_in_batches(castellan_store::PurgePace::default())
            .await?
            .map_or(0, |p| p.total()))
    }

    /// Rows this process's purges removed since it started, by table (for `/metrics`).
    pub fn purged_rows(&self) -> Vec<(&'static str, u64)> {
        self.purged.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Readiness: the store answers.
    pub async fn ready(&self) -> ControlResult<()> {
        self.store.ping().await.map_err(Into::into)
    }
}
