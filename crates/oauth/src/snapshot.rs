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
use std::sync::{Arc, Mutex, RwLock};

use castellan_domain::{
    AccessRules, AuthorizationServer, Claim, Client, ClientId, DEFAULT_TENANT, KeyStatus, Permissions, RoleRule, Scope,
    ServerId, SigningAlg, TenantId, seal,
};
use castellan_jose::jwt::encode_header;
use castellan_jose::{LoadedKey, MasterKey};
use castellan_store::{ConfigChange, Store, StoreError};
use castellan_types::{Jwk, Jwks};

/// The key a server signs with, parsed once.
pub struct Signer {
    pub kid: String,
    pub alg: SigningAlg,
    pub key: LoadedKey,
    /// base64url of `{"alg","kid","typ":"at+jwt"}`, reused for every access token.
    pub at_header: String,
    /// The same with `"typ":"JWT"`, for id_tokens.
    pub id_header: String,
    /// The stored (sealed) key it was opened from: a reload that finds the same key reuses this
    /// signer instead of opening and parsing it again (an RSA key costs about a millisecond).
    sealed: Vec<u8>,
}

/// One authorization server as the protocol endpoints see it.
pub struct ServerRuntime {
    pub server: AuthorizationServer,
    pub issuer: String,
    pub signer: Option<Arc<Signer>>,
    /// The RS256 key ID tokens are signed with unless a client asked for the server's own
    /// algorithm: the signer itself on an RS256 server, else the server's `id_token` key. Servers
    /// created before ID-token keys existed have none until their keys next change (then ID tokens
    /// use `signer`).
    pub id_signer: Option<Arc<Signer>>,
    /// Published keys (current, next, rotated), public members only.
    pub jwks: Jwks,
    /// By name.
    pub scopes: HashMap<String, Scope>,
    pub claims: Vec<Claim>,
    /// `jti`s of revoked, unexpired access tokens: loaded with the snapshot, added to in place by
    /// a revocation on this node; other nodes learn of it through the store's change feed.
    pub revoked: RwLock<HashSet<String>>,
    /// Tokens issued at or before these times are dead (`TokenCutoff`): every token, when a
    /// server of the same id was deleted before; a client's, when a client of its id was deleted.
    pub server_cutoff: Option<i64>,
    pub client_cutoffs: HashMap<ClientId, i64>,
    /// Access tokens whose signature this node has verified (by SHA-256 of the token): gateways
    /// introspect the same token on every call, and an ECDSA/RSA verification costs far more than
    /// the lookup. Expiry and revocation are still checked on every use. Dropped with the snapshot.
    pub verified: VerifiedTokens,
    /// Cached clients loaded under another generation are stale: every (re)load of the server
    /// takes a new one, so a change that edits clients in bulk (a scope deletion) or that may
    /// have been missed (a full refresh) drops the server's clients from the cache at once.
    clients_generation: u64,
}

/// A bounded map of verified access tokens; cleared when full (simple, and a miss only costs one
/// signature check).
#[derive(Default)]
pub struct VerifiedTokens(RwLock<HashMap<[u8; 32], Arc<crate::AccessClaims>>>);

const MAX_VERIFIED: usize = 8_192;

impl VerifiedTokens {
    pub fn get(&self, key: &[u8; 32]) -> Option<Arc<crate::AccessClaims>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    pub fn insert(&self, key: [u8; 32], claims: Arc<crate::AccessClaims>) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_VERIFIED {
            map.clear();
        }
        map.insert(key, claims);
    }
}

impl ServerRuntime {
    pub fn tenant_id(&self) -> &TenantId {
        &self.server.tenant_id
    }
    pub fn id(&self) -> &ServerId {
        &self.server.id
    }
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
    /// The verification key for a `kid`, with its algorithm.
    pub fn verification_key(&self, kid: &str) -> Option<(&Jwk, SigningAlg)> {
        let jwk = self.jwks.keys.iter().find(|k| k.kid.as_deref() == Some(kid))?;
        let alg = SigningAlg::parse(jwk.alg.as_deref()?)?;
        Some((jwk, alg))
    }
}

pub struct TenantSnapshot {
    pub tenant_id: TenantId,
    pub servers: HashMap<ServerId, Arc<ServerRuntime>>,
    /// STS client mappings and roles: what each caller of the management APIs holds, and the
    /// `permissions` claim of tokens.
    pub access: Arc<AccessRules>,
    /// Every policy of the tenant, compiled.
    pub policies: Arc<PolicySet>,
    /// Each service's APIs compiled into a matcher, and the gateways that enforce them.
    pub services: Arc<Services>,
}

/// The tenant's services as gateways see them (reloaded on `ConfigChange::Services`).
#[derive(Debug, Default)]
pub struct Services {
    /// By service id.
    pub routes: HashMap<String, castellan_policy::routes::ServiceRoutes>,
    /// By gateway id.
    pub gateways: HashMap<String, GatewayRuntime>,
}

/// A gateway: its server, its client, and the services connected to it (by id).
#[derive(Debug, Clone)]
pub struct GatewayRuntime {
    pub id: String,
    pub server_id: ServerId,
    pub client_id: castellan_domain::ClientId,
    pub kind: String,
    pub services: Vec<String>,
}

/// A tenant's policies, compiled once when loaded and evaluated many times.
#[derive(Debug, Default)]
pub struct PolicySet {
    compiled: HashMap<String, Arc<castellan_policy::Policy>>,
}

impl PolicySet {
    /// The policy with this id. A stored policy that no longer compiles (written by another
    /// version) is absent, and whatever refers to it is refused: policies fail closed.
    pub fn get(&self, id: &str) -> Option<&castellan_policy::Policy> {
        self.compiled.get(id).map(|p| &**p)
    }

    /// Evaluates policy `id`; an unknown id fails.
    pub fn evaluate(&self, id: &str, input: &castellan_policy::Input<'_>) -> castellan_policy::Decision {
        match self.get(id) {
            Some(p) => p.evaluate(input),
            None => castellan_policy::Decision {
                pass: false,
                failed_validator: None,
                recovery: Vec::new(),
                reason: Some(format!("policy {id} does not exist or does not compile")),
            },
        }
    }
}

/// Compiles a policy being written, with every check ([`castellan_policy::Policy::compile`]: a
/// Rego one is also evaluated once on an empty input).
pub fn compile_policy(
    p: &castellan_domain::Policy,
    rego: &castellan_policy::Rego,
) -> Result<castellan_policy::Policy, castellan_policy::CompileError> {
    build_policy(p, rego, castellan_policy::Policy::compile)
}

/// Compiles a stored policy, checked when it was written ([`castellan_policy::Policy::load`]).
pub fn load_policy(
    p: &castellan_domain::Policy,
    rego: &castellan_policy::Rego,
) -> Result<castellan_policy::Policy, castellan_policy::CompileError> {
    build_policy(p, rego, castellan_policy::Policy::load)
}

type PolicyBuilder = fn(
    castellan_policy::Language,
    &[castellan_policy::ValidatorSpec],
    Option<&str>,
    &castellan_policy::Rego,
) -> Result<castellan_policy::Policy, castellan_policy::CompileError>;

fn build_policy(
    p: &castellan_domain::Policy,
    rego: &castellan_policy::Rego,
    build: PolicyBuilder,
) -> Result<castellan_policy::Policy, castellan_policy::CompileError> {
    let language = castellan_policy::Language::parse(&p.language).ok_or_else(|| castellan_policy::CompileError {
        field: "language".into(),
        reason: format!("unknown language {:?}", p.language),
    })?;
    let validators: Vec<castellan_policy::ValidatorSpec> =
        serde_json::from_value(p.validators.clone()).map_err(|e| castellan_policy::CompileError {
            field: "validators".into(),
            reason: e.to_string(),
        })?;
    build(language, &validators, p.definition.as_deref(), rego)
}

impl TenantSnapshot {
    pub fn server(&self, aid: &str) -> Option<&Arc<ServerRuntime>> {
        self.servers.get(&ServerId::parse(aid).ok()?)
    }
}

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
const STRIPES: usize = 64;

fn stripe<K: Hash + ?Sized>(key: &K) -> usize {
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
                keys: keys.iter().map(|k| k.public_jwk.clone()).collect(),
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
struct Parts {
    scopes: HashMap<String, Scope>,
    claims: Vec<Claim>,
    revocations: ServerRevocations,
}

/// A tenant's revoked token ids and cutoffs, by server.
#[derive(Default)]
struct Revocations {
    revoked: HashMap<ServerId, HashSet<String>>,
    server_cutoffs: HashMap<ServerId, i64>,
    client_cutoffs: HashMap<ServerId, HashMap<ClientId, i64>>,
}

/// The tenant's STS client mappings and roles, as the permission check reads them.
async fn load_policies(src: &Source<'_>, tid: &TenantId) -> Result<PolicySet, StoreError> {
    let mut compiled = HashMap::new();
    for p in src.store.list_policies(tid).await? {
        match load_policy(&p, src.rego) {
            Ok(c) => {
                compiled.insert(p.id, Arc::new(c));
            }
            Err(e) => {
                tracing::error!(tenant = %tid, policy = %p.id, error = %e, "stored policy does not compile; it fails")
            }
        }
    }
    Ok(PolicySet { compiled })
}

/// Each service's APIs compiled into a matcher, and the gateways with their services. An API
/// that does not route (written by another version, or conflicting with an earlier one) is left
/// out and logged: a gateway answers it as no route.
async fn load_services(src: &Source<'_>, tid: &TenantId) -> Result<Services, StoreError> {
    use castellan_policy::routes::{RouteTarget, ServiceRoutes};
    let mut by_service: HashMap<String, Vec<castellan_domain::Api>> = HashMap::new();
    for a in src.store.list_apis(tid, None, None).await? {
        by_service.entry(a.service_id.clone()).or_default().push(a);
    }
    let mut routes = HashMap::new();
    for (sid, apis) in by_service {
        let mut r = ServiceRoutes::default();
        for a in &apis {
            let target = RouteTarget {
                api_id: a.id.clone(),
                policy_id: a.policy_id.clone(),
            };
            if let Err(e) = r.add(&a.method, &a.path, target) {
                tracing::error!(tenant = %tid, api = %a.id, error = %e, "stored API does not route");
            }
        }
        routes.insert(sid, r);
    }
    let mut gateways: HashMap<String, GatewayRuntime> = src
        .store
        .list_gateways(tid, None)
        .await?
        .into_iter()
        .map(|g| {
            (
                g.id.clone(),
                GatewayRuntime {
                    id: g.id,
                    server_id: g.server_id,
                    client_id: g.client_id,
                    kind: g.kind,
                    services: Vec::new(),
                },
            )
        })
        .collect();
    for s in src.store.list_services(tid, None).await? {
        if let Some(g) = s.gateway_id.as_ref().and_then(|g| gateways.get_mut(g)) {
            g.services.push(s.id);
        }
    }
    Ok(Services { routes, gateways })
}

async fn load_access(src: &Source<'_>, tid: &TenantId) -> Result<AccessRules, StoreError> {
    let parse = |list: &str| Permissions::parse(list).map_err(|e| StoreError::Corrupt(e.to_string()));
    let mut sts = Vec::new();
    for m in src.store.list_sts_clients(tid).await? {
        let held = Permissions::parse_mapping(&m.permissions).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sts.push((m.client_id, held));
    }
    let mut roles = Vec::new();
    for r in src.store.list_roles(tid).await? {
        roles.push(RoleRule {
            permissions: parse(&r.permissions)?,
            audience: r.audience,
            groups: r.connection_maps.into_iter().map(|m| m.group_name).collect(),
        });
    }
    Ok(AccessRules::new(tid.as_str() == DEFAULT_TENANT, sts, roles))
}

impl Revocations {
    async fn load(&mut self, src: &Source<'_>, tid: &TenantId) -> Result<(), StoreError> {
        for (aid, jti) in src.store.list_revoked(tid, src.now).await? {
            self.revoked.entry(aid).or_default().insert(jti);
        }
        for c in src.store.list_cutoffs(tid, src.now).await? {
            match c.client_id {
                Some(cid) => {
                    self.client_cutoffs
                        .entry(c.server_id)
                        .or_default()
                        .insert(cid, c.issued_before);
                }
                None => {
                    self.server_cutoffs.insert(c.server_id, c.issued_before);
                }
            }
        }
        Ok(())
    }

    fn take(&mut self, aid: &ServerId) -> ServerRevocations {
        (
            self.revoked.remove(aid).unwrap_or_default(),
            self.server_cutoffs.remove(aid),
            self.client_cutoffs.remove(aid).unwrap_or_default(),
        )
    }
}

type ServerRevocations = (HashSet<String>, Option<i64>, HashMap<ClientId, i64>);

/// The same server with other revocations and cutoffs (and its clients still current).
fn with_revocations(old: &ServerRuntime, (revoked, server_cutoff, client_cutoffs): ServerRevocations) -> ServerRuntime {
    ServerRuntime {
        server: old.server.clone(),
        issuer: old.issuer.clone(),
        signer: old.signer.clone(),
        id_signer: old.id_signer.clone(),
        jwks: old.jwks.clone(),
        scopes: old.scopes.clone(),
        claims: old.claims.clone(),
        revoked: RwLock::new(revoked),
        server_cutoff,
        client_cutoffs,
        verified: VerifiedTokens::default(),
        clients_generation: old.clients_generation,
    }
}

/// One server's revocations and cutoffs (the store lists them per tenant; a tenant's unexpired
/// revocations are few next to its clients).
async fn load_revocations(src: &Source<'_>, tid: &TenantId, aid: &ServerId) -> Result<ServerRevocations, StoreError> {
    let mut r = Revocations::default();
    r.load(src, tid).await?;
    Ok(r.take(aid))
}

/// A borrowed cache key: looks a client up without copying its ids (the token path does this on
/// every request). Hashes exactly as the owned `(TenantId, ClientId)` tuple does.
#[derive(Hash)]
struct ClientKey<'a>(&'a TenantId, &'a ClientId);

impl quick_cache::Equivalent<(TenantId, ClientId)> for ClientKey<'_> {
    fn equivalent(&self, key: &(TenantId, ClientId)) -> bool {
        self.0 == &key.0 && self.1 == &key.1
    }
}

/// A client as cached, with the generation of the server runtime it was loaded under.
#[derive(Clone)]
struct CachedClient {
    generation: u64,
    client: Arc<Client>,
}

/// Clients of every tenant, bounded: at most `capacity` are kept (S3-FIFO eviction, so the
/// clients in use stay), a miss costs one store read by primary key, and memory follows the
/// working set rather than the number of clients. Unknown ids are not cached, so requests
/// naming made-up clients cannot push real ones out.
pub struct ClientCache {
    cache: quick_cache::sync::Cache<(TenantId, ClientId), CachedClient>,
    /// Per stripe of keys, the count of evictions: a load that raced with an eviction of a key
    /// in its stripe is used but not kept (it may have read the row before the change).
    evictions: Vec<Mutex<u64>>,
}

impl ClientCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            cache: quick_cache::sync::Cache::new(capacity.max(1)),
            evictions: (0..STRIPES).map(|_| Mutex::new(0)).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    pub fn capacity(&self) -> u64 {
        self.cache.capacity()
    }

    fn stripe(&self, tid: &TenantId, cid: &ClientId) -> &Mutex<u64> {
        &self.evictions[stripe(&(tid, cid))]
    }

    /// Forgets a client after a change to it committed.
    pub fn evict(&self, tid: &TenantId, cid: &ClientId) {
        let mut n = self.stripe(tid, cid).lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        self.cache.remove(&ClientKey(tid, cid));
    }

    async fn get_or_load(
        &self,
        store: &dyn Store,
        tid: &TenantId,
        cid: &ClientId,
        generation: u64,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        if let Some(c) = self
            .cache
            .get(&ClientKey(tid, cid))
            .filter(|c| c.generation == generation)
        {
            return Ok(Some(c.client));
        }
        let before = *self.stripe(tid, cid).lock().unwrap_or_else(|p| p.into_inner());
        let Some(client) = store.get_client(tid, cid).await? else {
            return Ok(None);
        };
        let client = Arc::new(client);
        let n = self.stripe(tid, cid).lock().unwrap_or_else(|p| p.into_inner());
        if *n == before {
            let cached = CachedClient {
                generation,
                client: client.clone(),
            };
            self.cache.insert((tid.clone(), cid.clone()), cached);
        }
        Ok(Some(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_key_finds_and_removes_what_an_owned_key_stored() {
        let cache = quick_cache::sync::Cache::new(16);
        let (t, c) = (TenantId::parse("t").unwrap(), ClientId::parse("c").unwrap());
        cache.insert((t.clone(), c.clone()), 7);
        assert_eq!(cache.get(&ClientKey(&t, &c)), Some(7));
        let other = ClientId::parse("d").unwrap();
        assert_eq!(cache.get(&ClientKey(&t, &other)), None);
        assert!(cache.remove(&ClientKey(&t, &c)).is_some());
        assert_eq!(cache.get(&(t, c)), None);
    }
}
