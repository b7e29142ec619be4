//! What the protocol endpoints read: a server's runtime (keys, scopes, claims, revocations), a
//! tenant's snapshot, its services and gateways.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use castellan_domain::{AccessRules, AuthorizationServer, Claim, ClientId, Scope, ServerId, SigningAlg, TenantId};
use castellan_jose::LoadedKey;
use castellan_types::{Jwk, Jwks};

use super::*;

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
    pub(super) sealed: Vec<u8>,
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
    pub(super) clients_generation: u64,
}

/// A bounded map of verified access tokens; cleared when full (simple, and a miss only costs one
/// signature check).
#[derive(Default)]
pub struct VerifiedTokens(RwLock<HashMap<[u8; 32], Arc<crate::AccessClaims>>>);

pub(super) const MAX_VERIFIED: usize = 8_192;

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

impl TenantSnapshot {
    pub fn server(&self, aid: &str) -> Option<&Arc<ServerRuntime>> {
        self.servers.get(&ServerId::parse(aid).ok()?)
    }
}
