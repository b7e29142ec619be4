//! The in-memory configuration snapshot Castellan keeps: per tenant, everything the protocol
//! endpoints read — servers with their parsed signing keys, clients, scopes — loaded from the
//! store on first use and dropped when the tenant's configuration changes. The token endpoint
//! reads no database.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use castellan_domain::{
    AuthorizationServer, Claim, Client, ClientId, KeyStatus, Scope, ServerId, SigningAlg, TenantId, seal,
};
use castellan_jose::jwt::encode_header;
use castellan_jose::{LoadedKey, MasterKey};
use castellan_store::{Store, StoreError};
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
    pub clients: HashMap<ClientId, Arc<Client>>,
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
}

impl TenantSnapshot {
    pub fn server(&self, aid: &str) -> Option<&Arc<ServerRuntime>> {
        self.servers.get(&ServerId::parse(aid).ok()?)
    }
}

#[derive(Default)]
pub struct Snapshots {
    tenants: RwLock<HashMap<TenantId, Arc<TenantSnapshot>>>,
    /// Bumped by every invalidation; a load that raced with one is used but not kept.
    epoch: AtomicU64,
}

impl Snapshots {
    /// The tenant's snapshot, loaded on a miss. `None` when the tenant does not exist (not
    /// cached, so unknown ids cannot fill memory).
    pub async fn get(
        &self,
        store: &dyn Store,
        master: &MasterKey,
        public_url: &str,
        tid: &TenantId,
        now: i64,
    ) -> Result<Option<Arc<TenantSnapshot>>, StoreError> {
        if let Some(s) = self.tenants.read().unwrap_or_else(|p| p.into_inner()).get(tid) {
            return Ok(Some(s.clone()));
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        if store.get_tenant(tid).await?.is_none() {
            return Ok(None);
        }
        let mut clients: HashMap<ServerId, HashMap<ClientId, Arc<Client>>> = HashMap::new();
        for c in store.list_tenant_clients(tid).await? {
            clients
                .entry(c.server_id.clone())
                .or_default()
                .insert(c.id.clone(), Arc::new(c));
        }
        let mut scopes: HashMap<ServerId, HashMap<String, Scope>> = HashMap::new();
        for s in store.list_tenant_scopes(tid).await? {
            scopes.entry(s.server_id.clone()).or_default().insert(s.name.clone(), s);
        }
        let mut claims: HashMap<ServerId, Vec<Claim>> = HashMap::new();
        for c in store.list_tenant_claims(tid).await? {
            claims.entry(c.server_id.clone()).or_default().push(c);
        }
        let mut revoked: HashMap<ServerId, HashSet<String>> = HashMap::new();
        for (aid, jti) in store.list_revoked(tid, now).await? {
            revoked.entry(aid).or_default().insert(jti);
        }
        let mut server_cutoffs: HashMap<ServerId, i64> = HashMap::new();
        let mut client_cutoffs: HashMap<ServerId, HashMap<ClientId, i64>> = HashMap::new();
        for c in store.list_cutoffs(tid, now).await? {
            match c.client_id {
                Some(cid) => {
                    client_cutoffs
                        .entry(c.server_id)
                        .or_default()
                        .insert(cid, c.issued_before);
                }
                None => {
                    server_cutoffs.insert(c.server_id, c.issued_before);
                }
            }
        }
        let mut servers = HashMap::new();
        for server in store.list_servers(tid).await? {
            let keys = store.list_keys(tid, &server.id).await?;
            let open = |k: &castellan_domain::SigningKey| {
                let opened = master.open(&seal::server_key(tid, &server.id, &k.kid), &k.private_sealed);
                match opened.ok().and_then(|der| LoadedKey::from_pkcs8(k.alg, &der).ok()) {
                    Some(key) => Some(Arc::new(Signer {
                        at_header: encode_header(k.alg, &k.kid, "at+jwt"),
                        id_header: encode_header(k.alg, &k.kid, "JWT"),
                        kid: k.kid.clone(),
                        alg: k.alg,
                        key,
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
            let runtime = ServerRuntime {
                issuer: format!("{public_url}/{tid}/{}", server.id),
                signer,
                id_signer,
                jwks: Jwks {
                    keys: keys.iter().map(|k| k.public_jwk.clone()).collect(),
                },
                clients: clients.remove(&server.id).unwrap_or_default(),
                scopes: scopes.remove(&server.id).unwrap_or_default(),
                claims: claims.remove(&server.id).unwrap_or_default(),
                revoked: RwLock::new(revoked.remove(&server.id).unwrap_or_default()),
                server_cutoff: server_cutoffs.remove(&server.id),
                client_cutoffs: client_cutoffs.remove(&server.id).unwrap_or_default(),
                verified: VerifiedTokens::default(),
                server,
            };
            servers.insert(runtime.server.id.clone(), Arc::new(runtime));
        }
        let snap = Arc::new(TenantSnapshot {
            tenant_id: tid.clone(),
            servers,
        });
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        if self.epoch.load(Ordering::SeqCst) == epoch {
            tenants.insert(tid.clone(), snap.clone());
        }
        Ok(Some(snap))
    }

    /// Drops the tenant's snapshot after a committed change; the next reader rebuilds it.
    pub fn invalidate(&self, tid: &TenantId) {
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        self.epoch.fetch_add(1, Ordering::SeqCst);
        tenants.remove(tid);
    }

    pub fn invalidate_all(&self) {
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        self.epoch.fetch_add(1, Ordering::SeqCst);
        tenants.clear();
    }
}
