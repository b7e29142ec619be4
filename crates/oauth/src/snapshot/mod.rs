//! The in-memory configuration Castellan keeps, in two parts:
//!
//! - per tenant, a snapshot of the small configuration the protocol endpoints read — servers
//!   with their parsed signing keys, scopes, claims, revocations and token cutoffs — loaded on
//!   first use and then kept current change by change: a write replaces the one server it
//!   touched in a new copy of the tenant's snapshot (copy-on-write: readers never wait and never
//!   see half of a change);
//! - clients, which can number in the millions, in one bounded cache ([`ClientCache`]) shared
//!   by all tenants: a miss reads one row from the store, a change to a client evicts it.
//!
//! Changes arrive as [`ConfigChange`]s: from the control plane of this node right after its
//! write commits, and from other nodes through the store's change feed (PostgreSQL).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use castellan_domain::{
    AuthorizationServer, Claim, Client, ClientId, KeyStatus, Scope, ServerId, SigningAlg, TenantId, seal,
};
use castellan_jose::jwt::encode_header;
use castellan_jose::{LoadedKey, MasterKey};
use castellan_store::{ConfigChange, Store, StoreError};
use castellan_types::Jwks;

mod clients;
mod loads;
mod policies;
mod runtime;

pub use clients::*;
use loads::*;
pub use policies::*;
pub use runtime::*;

/// Where the snapshot reads from, and what it needs to open keys and name issuers.
pub(crate) struct Source<'a> {
    pub store: &'a dyn Store,
    pub master: &'a MasterKey,
    pub public_url: &'a str,
    pub now: i64,
    /// Where Rego policies run.
    pub rego: &'a castellan_policy::Rego,
}

/// Stripes of locks: changes to one tenant apply one at a time; different tenants in parallel.
pub(super) const STRIPES: usize = 64;

pub(super) fn stripe<K: Hash + ?Sized>(key: &K) -> usize {
    let fixed = std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
    (fixed.hash_one(key) as usize) % STRIPES
}

pub struct Snapshots {
    tenants: RwLock<HashMap<TenantId, Arc<TenantSnapshot>>>,
    /// The source of [`ServerRuntime`]'s client generations.
    generations: AtomicU64,
    /// Loads and changes of one tenant take its stripe's lock: a load never races a change (no
    /// stale copy is kept), and many first requests to a tenant load it once.
    apply: Vec<tokio::sync::Mutex<()>>,
    pub clients: ClientCache,
}

impl Snapshots {
    /// Snapshots with room for `client_capacity` cached clients.
    pub fn new(client_capacity: usize) -> Self {
        Self {
            tenants: RwLock::default(),
            generations: AtomicU64::new(0),
            apply: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            clients: ClientCache::new(client_capacity),
        }
    }

    fn cached(&self, tid: &TenantId) -> Option<Arc<TenantSnapshot>> {
        self.tenants.read().unwrap_or_else(|p| p.into_inner()).get(tid).cloned()
    }

    /// The tenant's snapshot, loaded on a miss. `None` when the tenant does not exist (not
    /// cached, so unknown ids cannot fill memory).
    pub(crate) async fn get(
        &self,
        src: &Source<'_>,
        tid: &TenantId,
    ) -> Result<Option<Arc<TenantSnapshot>>, StoreError> {
        if let Some(s) = self.cached(tid) {
            return Ok(Some(s));
        }
        let _one_at_a_time = self.apply[stripe(tid)].lock().await;
        if let Some(s) = self.cached(tid) {
            return Ok(Some(s));
        }
        let Some(snap) = self.load_tenant(src, tid).await? else {
            return Ok(None);
        };
        let snap = Arc::new(snap);
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        tenants.insert(tid.clone(), snap.clone());
        Ok(Some(snap))
    }

    /// Brings the snapshots up to date with a committed change, reading what changed from the
    /// store (never the whole tenant for a change to one object). Readers keep using the
    /// previous copy until the new one is swapped in.
    pub(crate) async fn apply(&self, src: &Source<'_>, change: &ConfigChange) -> Result<(), StoreError> {
        match change {
            ConfigChange::Client(tid, cid) => {
                self.clients.evict(tid, cid);
                Ok(())
            }
            ConfigChange::Tenant(tid) => self.refresh_tenant(src, tid).await,
            ConfigChange::Access(tid) | ConfigChange::Policies(tid) | ConfigChange::Services(tid) => {
                let _one_at_a_time = self.apply[stripe(tid)].lock().await;
                if self.cached(tid).is_none() {
                    return Ok(());
                }
                let (mut access, mut policies, mut services) = (None, None, None);
                match change {
                    ConfigChange::Access(_) => access = Some(Arc::new(load_access(src, tid).await?)),
                    ConfigChange::Policies(_) => policies = Some(Arc::new(load_policies(src, tid).await?)),
                    _ => services = Some(Arc::new(load_services(src, tid).await?)),
                }
                let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
                if let Some(old) = tenants.get(tid) {
                    let snap = TenantSnapshot {
                        tenant_id: tid.clone(),
                        servers: old.servers.clone(),
                        access: access.unwrap_or_else(|| old.access.clone()),
                        policies: policies.unwrap_or_else(|| old.policies.clone()),
                        services: services.unwrap_or_else(|| old.services.clone()),
                    };
                    tenants.insert(tid.clone(), Arc::new(snap));
                }
                Ok(())
            }
            ConfigChange::Server(tid, aid) | ConfigChange::Revoked(tid, aid) => {
                let _one_at_a_time = self.apply[stripe(tid)].lock().await;
                let Some(old) = self.cached(tid) else {
                    return Ok(());
                };
                let fresh = match (change, old.servers.get(aid)) {
                    (ConfigChange::Revoked(..), Some(rt)) => {
                        Some(with_revocations(rt, load_revocations(src, tid, aid).await?))
                    }
                    _ => self.load_server(src, tid, aid).await?,
                };
                self.swap_server(tid, aid, fresh);
                Ok(())
            }
            ConfigChange::Everything => {
                let loaded: Vec<TenantId> = self
                    .tenants
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .keys()
                    .cloned()
                    .collect();
                for tid in loaded {
                    self.refresh_tenant(src, &tid).await?;
                }
                Ok(())
            }
        }
    }

    /// Drops what `change` touched, for the next reader to load (when reloading it failed).
    pub(crate) fn forget(&self, change: &ConfigChange) {
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        match change {
            ConfigChange::Tenant(tid)
            | ConfigChange::Server(tid, _)
            | ConfigChange::Revoked(tid, _)
            | ConfigChange::Access(tid)
            | ConfigChange::Policies(tid)
            | ConfigChange::Services(tid) => {
                tenants.remove(tid);
            }
            ConfigChange::Client(tid, cid) => self.clients.evict(tid, cid),
            ConfigChange::Everything => tenants.clear(),
        }
    }

    /// Reloads a loaded tenant (or forgets it when it is gone); a tenant not loaded is left to
    /// its next reader.
    async fn refresh_tenant(&self, src: &Source<'_>, tid: &TenantId) -> Result<(), StoreError> {
        let _one_at_a_time = self.apply[stripe(tid)].lock().await;
        if self.cached(tid).is_none() {
            return Ok(());
        }
        let fresh = self.load_tenant(src, tid).await?;
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        match fresh {
            Some(t) => tenants.insert(tid.clone(), Arc::new(t)),
            None => tenants.remove(tid),
        };
        Ok(())
    }

    /// Replaces one server of a loaded tenant (`None`: it is gone) in a new copy of its snapshot.
    fn swap_server(&self, tid: &TenantId, aid: &ServerId, fresh: Option<ServerRuntime>) {
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        let Some(old) = tenants.get(tid) else {
            return;
        };
        let mut servers = old.servers.clone();
        match fresh {
            Some(rt) => servers.insert(aid.clone(), Arc::new(rt)),
            None => servers.remove(aid),
        };
        let snap = TenantSnapshot {
            tenant_id: tid.clone(),
            servers,
            access: old.access.clone(),
            policies: old.policies.clone(),
            services: old.services.clone(),
        };
        tenants.insert(tid.clone(), Arc::new(snap));
    }

    /// Everything of one tenant but its clients, or `None` when the tenant does not exist.
    async fn load_tenant(&self, src: &Source<'_>, tid: &TenantId) -> Result<Option<TenantSnapshot>, StoreError> {
        let store = src.store;
        if store.get_tenant(tid).await?.is_none() {
            return Ok(None);
        }
        let mut scopes: HashMap<ServerId, HashMap<String, Scope>> = HashMap::new();
        for s in store.list_tenant_scopes(tid).await? {
            scopes.entry(s.server_id.clone()).or_default().insert(s.name.clone(), s);
        }
        let mut claims: HashMap<ServerId, Vec<Claim>> = HashMap::new();
        for c in store.list_tenant_claims(tid).await? {
            claims.entry(c.server_id.clone()).or_default().push(c);
        }
        let mut revocations = Revocations::default();
        revocations.load(src, tid).await?;
        let mut servers = HashMap::new();
        for server in store.list_servers(tid).await? {
            let aid = server.id.clone();
            let parts = Parts {
                scopes: scopes.remove(&aid).unwrap_or_default(),
                claims: claims.remove(&aid).unwrap_or_default(),
                revocations: revocations.take(&aid),
            };
            let rt = self.build_server(src, server, parts).await?;
            servers.insert(aid, Arc::new(rt));
        }
        Ok(Some(TenantSnapshot {
            tenant_id: tid.clone(),
            servers,
            access: Arc::new(load_access(src, tid).await?),
            policies: Arc::new(load_policies(src, tid).await?),
            services: Arc::new(load_services(src, tid).await?),
        }))
    }

    /// One server of a tenant, read afresh (`None` when it does not exist).
    async fn load_server(
        &self,
        src: &Source<'_>,
        tid: &TenantId,
        aid: &ServerId,
    ) -> Result<Option<ServerRuntime>, StoreError> {
        let store = src.store;
        let Some(server) = store.get_server(tid, aid).await? else {
            return Ok(None);
        };
        let parts = Parts {
            scopes: store
                .list_scopes(tid, aid)
                .await?
                .into_iter()
                .map(|s| (s.name.clone(), s))
                .collect(),
            claims: store.list_claims(tid, aid).await?,
            revocations: load_revocations(src, tid, aid).await?,
        };
        Ok(Some(self.build_server(src, server, parts).await?))
    }

    async fn build_server(
        &self,
        src: &Source<'_>,
        server: AuthorizationServer,
        parts: Parts,
    ) -> Result<ServerRuntime, StoreError> {
        let tid = server.tenant_id.clone();
        let keys = src.store.list_keys(&tid, &server.id).await?;
        let loaded = self.cached(&tid).and_then(|t| t.servers.get(&server.id).cloned());
        let open = |k: &castellan_domain::SigningKey| {
            let same = |s: &&Arc<Signer>| s.kid == k.kid && s.alg == k.alg && s.sealed == k.private_sealed;
            if let Some(rt) = &loaded
                && let Some(s) = rt.signer.iter().chain(rt.id_signer.iter()).find(same)
            {
                return Some(s.clone());
            }
            let opened = src
                .master
                .open(&seal::server_key(&tid, &server.id, &k.kid), &k.private_sealed);
            match opened.ok().and_then(|der| LoadedKey::from_pkcs8(k.alg, &der).ok()) {
                Some(key) => Some(Arc::new(Signer {
                    at_header: encode_header(k.alg, &k.kid, "at+jwt"),
                    id_header: encode_header(k.alg, &k.kid, "JWT"),
                    kid: k.kid.clone(),
                    alg: k.alg,
                    key,
                    sealed: k.private_sealed.clone(),
                })),
                None => {
                    tracing::error!(tenant = %tid, server = %server.id, kid = %k.kid,
                        "cannot open the signing key (was the master key changed?)");
                    None
                }
            }
        };
        let current = keys.iter().find(|k| k.status == KeyStatus::Current);
        let signer = current.and_then(open);
        let id_signer = match current {
            Some(k) if k.alg == SigningAlg::RS256 => signer.clone(),
            _ => keys.iter().find(|k| k.status == KeyStatus::IdToken).and_then(open),
        };
        let (revoked, server_cutoff, client_cutoffs) = parts.revocations;
        Ok(ServerRuntime {
            issuer: format!("{}/{tid}/{}", src.public_url, server.id),
            signer,
            id_signer,
            jwks: Jwks {
                keys: keys
                    .iter()
                    .filter(|k| k.published())
                    .map(|k| k.public_jwk.clone())
                    .collect(),
            },
            scopes: parts.scopes,
            claims: parts.claims,
            revoked: RwLock::new(revoked),
            server_cutoff,
            client_cutoffs,
            verified: VerifiedTokens::default(),
            clients_generation: self.generations.fetch_add(1, Ordering::SeqCst) + 1,
            server,
        })
    }

    /// The client `cid` of the server `rt`, from the cache or the store.
    pub(crate) async fn client(
        &self,
        store: &dyn Store,
        rt: &ServerRuntime,
        cid: &ClientId,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        let client = self
            .clients
            .get_or_load(store, rt.tenant_id(), cid, rt.clients_generation)
            .await?;
        Ok(client.filter(|c| &c.server_id == rt.id()))
    }
}

/// What a server's runtime is built from besides the server and its keys.
pub(super) struct Parts {
    scopes: HashMap<String, Scope>,
    claims: Vec<Claim>,
    revocations: ServerRevocations,
}

/// A tenant's revoked token ids and cutoffs, by server.
#[derive(Default)]
pub(super) struct Revocations {
    revoked: HashMap<ServerId, HashSet<String>>,
    server_cutoffs: HashMap<ServerId, i64>,
    client_cutoffs: HashMap<ServerId, HashMap<ClientId, i64>>,
}
