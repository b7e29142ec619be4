//! Reading a tenant's parts from the store: services and gateways, access rules, revocations.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use castellan_domain::{AccessRules, ClientId, DEFAULT_TENANT, Permissions, RoleRule, ServerId, TenantId};
use castellan_store::StoreError;

use super::*;

/// Each service's APIs compiled into a matcher, and the gateways with their services. An API
/// that does not route (written by another version, or conflicting with an earlier one) is left
/// out and logged: a gateway answers it as no route.
pub(super) async fn load_services(src: &Source<'_>, tid: &TenantId) -> Result<Services, StoreError> {
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

/// The tenant's STS client mappings and roles, as the permission check reads them.
pub(super) async fn load_access(src: &Source<'_>, tid: &TenantId) -> Result<AccessRules, StoreError> {
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
    pub(super) async fn load(&mut self, src: &Source<'_>, tid: &TenantId) -> Result<(), StoreError> {
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

    pub(super) fn take(&mut self, aid: &ServerId) -> ServerRevocations {
        (
            self.revoked.remove(aid).unwrap_or_default(),
            self.server_cutoffs.remove(aid),
            self.client_cutoffs.remove(aid).unwrap_or_default(),
        )
    }
}

pub(super) type ServerRevocations = (HashSet<String>, Option<i64>, HashMap<ClientId, i64>);

/// The same server with other revocations and cutoffs (and its clients still current).
pub(super) fn with_revocations(
    old: &ServerRuntime,
    (revoked, server_cutoff, client_cutoffs): ServerRevocations,
) -> ServerRuntime {
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
pub(super) async fn load_revocations(
    src: &Source<'_>,
    tid: &TenantId,
    aid: &ServerId,
) -> Result<ServerRevocations, StoreError> {
    let mut r = Revocations::default();
    r.load(src, tid).await?;
    Ok(r.take(aid))
}
