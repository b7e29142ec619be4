//! Import: every object of a dump checked by the rules of the admin API that creates it, its
//! references resolved against what the tenant holds plus what the dump brings, then everything
//! written in one store transaction. The first object that fails names itself (list, index,
//! kind and id) and nothing is written.

use std::collections::{BTreeMap, BTreeSet};

use castellan_domain::{
    Api, AuthorizationServer, Claim, ClaimId, Client, ClientId, ClientSettings, ConnectionMap, ConsentActionDef,
    DEFAULT_SERVER, DEFAULT_TENANT, Gateway, KeyStatus, NewLedgerEvent, Policy, PrivacyConsent, Role, Scope, ScopeId,
    ServerId, ServerSecrets, ServerSettings, Service, SigningAlg, SigningKey, StsClient, Tenant, TenantId,
};
use castellan_jose::{LoadedKey, b64url_decode, generate_secret};
use castellan_store::{BootstrapSeed, ConfigImport, Put, ServerPut, StoreError};
use castellan_types::{self as wire, system as dump};

use super::{ImportMode, tenant_id};
use crate::validate::{check_id, check_scope_name, name as check_name};
use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult, need};

/// Where an object the import meets already is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// In the store.
    Stored,
    /// In the seed of a tenant the import creates (written unless the dump brings its own).
    Seed,
    /// Earlier in the dump.
    Dump,
}

/// What the import does with one object.
enum Decision {
    Create,
    Replace,
    Keep,
}

/// One tenant as the import sees it: what is stored (or, for a tenant it creates, the seed)
/// and what the dump has added so far.
struct World {
    tid: TenantId,
    seed: Option<BootstrapSeed>,
    servers: BTreeMap<String, (AuthorizationServer, Origin)>,
    policies: BTreeMap<String, Origin>,
    scopes: BTreeMap<String, (Scope, Origin)>,
    services: BTreeMap<String, (Service, Origin)>,
    clients: BTreeMap<String, (KnownClient, Origin)>,
    gateways: BTreeMap<String, Origin>,
    dump_gateways: BTreeSet<String>,
    apis: BTreeMap<String, Origin>,
    claims: BTreeMap<String, Origin>,
    consents: BTreeMap<String, Origin>,
    actions: BTreeMap<String, Origin>,
    roles: BTreeMap<String, Origin>,
    sts: BTreeMap<String, Origin>,
}

/// What the import needs of a client it meets (a tenant may hold millions: not the whole client).
#[derive(Debug, Clone)]
struct KnownClient {
    server_id: ServerId,
    system: bool,
    created_at: i64,
    secret_hash: Option<Vec<u8>>,
    secret_sealed: Option<Vec<u8>>,
}

impl KnownClient {
    fn of(c: &Client, with_secret: bool) -> Self {
        Self {
            server_id: c.server_id.clone(),
            system: c.system,
            created_at: c.created_at,
            secret_hash: c.secret_hash.clone().filter(|_| with_secret),
            secret_sealed: c.secret_sealed.clone().filter(|_| with_secret),
        }
    }
}

impl World {
    fn scope_names(&self, aid: &str) -> BTreeSet<String> {
        self.scopes
            .values()
            .filter(|(s, _)| s.server_id.as_str() == aid)
            .map(|(s, _)| s.name.clone())
            .collect()
    }
}

#[derive(Default)]
struct Tally {
    created: u64,
    replaced: u64,
    kept: u64,
}

/// The object a failure is about, as the error names it: `clients[3]` (client `abc`).
fn at(list: &str, i: usize, kind: &str, id: &str) -> impl Fn(ControlError) -> ControlError {
    let place = format!("{list}[{i}]");
    let what = if id.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} {id}")
    };
    move |e| match e {
        ControlError::Invalid { field, reason } => ControlError::Invalid {
            field: format!("{place}.{field}"),
            reason: format!("{what}: {reason}"),
        },
        ControlError::Forbidden(m) => ControlError::Invalid {
            field: place.clone(),
            reason: format!("{what}: {m}"),
        },
        e => e,
    }
}

fn required<'a>(field: &str, v: &'a Option<String>) -> ControlResult<&'a str> {
    match v.as_deref() {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(ControlError::invalid(field, "is required")),
    }
}

fn decide(
    mode: ImportMode,
    origin: Option<Origin>,
    system: bool,
    what: &'static str,
    id: &str,
    t: &mut Tally,
) -> ControlResult<Decision> {
    let d = match origin {
        None | Some(Origin::Seed) => Decision::Create,
        Some(Origin::Dump) => {
            return Err(ControlError::invalid("id", format!("the dump holds {what} {id} twice")));
        }
        Some(Origin::Stored) => match mode {
            ImportMode::Fail => {
                return Err(ControlError::Conflict {
                    what,
                    id: id.to_owned(),
                });
            }
            ImportMode::Ignore => Decision::Keep,
            ImportMode::Update if system => Decision::Keep,
            ImportMode::Update => Decision::Replace,
        },
    };
    match d {
        Decision::Create => t.created += 1,
        Decision::Replace => t.replaced += 1,
        Decision::Keep => t.kept += 1,
    }
    Ok(d)
}

fn put<T>(d: &Decision, v: T) -> Option<Put<T>> {
    match d {
        Decision::Create => Some(Put::Create(v)),
        Decision::Replace => Some(Put::Replace(v)),
        Decision::Keep => None,
    }
}

impl Control {
    /// `PUT /api/system/configuration` and `castellan import`: writes `d` in one transaction.
    /// `tid` stands in for objects that name no tenant (and then every object must be of it).
    pub async fn import_configuration(
        &self,
        _access: &Allowed<need::SystemWrite>,
        tid: Option<&str>,
        mode: ImportMode,
        d: dump::Dump,
    ) -> ControlResult<wire::ConfigurationImported> {
        let default_tid = tid.map(|t| tenant_id("tid", t)).transpose()?;
        let mut worlds: BTreeMap<TenantId, World> = BTreeMap::new();
        let mut imp = ConfigImport::default();
        let mut t = Tally::default();

        // Which tenant each object is of; the tenants the dump creates first.
        let of = |list: &str, i: usize, given: Option<&str>| -> ControlResult<TenantId> {
            let field = format!("{list}[{i}].tenant_id");
            match (given.filter(|g| !g.is_empty()), &default_tid) {
                (Some(g), Some(d)) if g != d.as_str() => {
                    Err(ControlError::invalid(field, "must be the tenant of ?tid="))
                }
                (Some(g), _) => tenant_id(&field, g),
                (None, Some(d)) => Ok(d.clone()),
                (None, None) => Err(ControlError::invalid(field, "is required (or give ?tid=)")),
            }
        };
        let mut creating: BTreeMap<TenantId, (usize, wire::TenantRequest)> = BTreeMap::new();
        for (i, tr) in d.tenants.into_iter().enumerate() {
            let id = match tr.id.as_deref().filter(|s| !s.is_empty()) {
                Some(id) => tenant_id(&format!("tenants[{i}].id"), id)?,
                None => match &default_tid {
                    Some(d) => d.clone(),
                    None => return Err(ControlError::invalid(format!("tenants[{i}].id"), "is required")),
                },
            };
            if default_tid.as_ref().is_some_and(|d| *d != id) {
                return Err(ControlError::invalid(
                    format!("tenants[{i}].id"),
                    "must be the tenant of ?tid=",
                ));
            }
            if creating.insert(id.clone(), (i, tr)).is_some() {
                return Err(ControlError::invalid(
                    format!("tenants[{i}].id"),
                    format!("the dump holds tenant {id} twice"),
                ));
            }
        }
        let mut ids: BTreeSet<TenantId> = creating.keys().cloned().collect();
        macro_rules! tenants_of {
            ($list:expr, $name:literal, $o:ident => $get:expr) => {
                for (i, $o) in $list.iter().enumerate() {
                    ids.insert(of($name, i, $get)?);
                }
            };
        }
        tenants_of!(d.policies, "policies", o => o.tenant_id.as_deref());
        tenants_of!(d.servers, "servers", o => o.server.tenant_id.as_deref());
        tenants_of!(d.services, "services", o => o.service.tenant_id.as_deref());
        tenants_of!(d.scopes_without_service, "scopes_without_service", o => o
            .tenant_id
            .as_deref());
        tenants_of!(d.claims, "claims", o => o.tenant_id.as_deref());
        tenants_of!(d.clients, "clients", o => o.tenant_id.as_deref());
        tenants_of!(d.gateways, "gateways", o => Some(o.tenant_id.as_str()));
        tenants_of!(d.apis, "apis", o => o.tenant_id.as_deref());
        tenants_of!(d.consents, "consents", o => o.tenant_id.as_deref());
        tenants_of!(d.consent_actions, "consent_actions", o => o
            .tenant_id
            .as_deref());
        tenants_of!(d.roles, "roles", o => Some(o.tenant_id.as_str()));
        tenants_of!(d.sts_clients, "sts_clients", o => Some(o.tenant_id.as_str()));

        for tid in ids {
            let stored = self.store.get_tenant(&tid).await?;
            let w = match (&stored, creating.remove(&tid)) {
                (None, None) => {
                    return Err(ControlError::invalid(
                        "tenants",
                        format!("tenant {tid} does not exist; add it to tenants to create it"),
                    ));
                }
                (None, Some((i, tr))) => {
                    let w = self
                        .seeded_world(&tid, &tr)
                        .await
                        .map_err(at("tenants", i, "tenant", tid.as_str()))?;
                    t.created += 1;
                    imp.tenants.push(Put::Create(
                        w.seed
                            .as_ref()
                            .map(|s| s.tenant.clone())
                            .ok_or_else(|| ControlError::internal("a new tenant without its seed"))?,
                    ));
                    w
                }
                (Some(st), given) => {
                    if let Some((i, tr)) = given {
                        let system = tid.as_str() == DEFAULT_TENANT;
                        let dec = decide(mode, Some(Origin::Stored), system, "tenant", tid.as_str(), &mut t)?;
                        let tenant = tenant_from(st.clone(), tr).map_err(at("tenants", i, "tenant", tid.as_str()))?;
                        imp.tenants.extend(put(&dec, tenant));
                    }
                    self.stored_world(&tid).await?
                }
            };
            worlds.insert(tid, w);
        }
        for (i, g) in d.gateways.iter().enumerate() {
            let tid = of("gateways", i, Some(&g.tenant_id))?;
            if let Some(w) = worlds.get_mut(&tid) {
                w.dump_gateways.insert(g.id.clone());
            }
        }

        for (i, p) in d.policies.into_iter().enumerate() {
            let tid = of("policies", i, p.tenant_id.as_deref())?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let id = p.id.clone().unwrap_or_default();
            if crate::BUILT_IN_POLICIES.contains(&id.as_str()) {
                // Every tenant has its own, and they cannot be changed.
                t.kept += 1;
                continue;
            }
            let pol = self
                .policy_from(&tid, p)
                .await
                .map_err(at("policies", i, "policy", &id))?;
            let dec = decide(mode, w.policies.get(&id).copied(), false, "policy", &id, &mut t)?;
            drop_seed_policy(w, &id);
            w.policies.insert(id, Origin::Dump);
            imp.policies.extend(put(&dec, pol));
        }

        for (i, s) in d.servers.into_iter().enumerate() {
            let tid = of("servers", i, s.server.tenant_id.as_deref())?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let id = s.server.id.clone().unwrap_or_default();
            let origin = w.servers.get(&id).map(|(_, o)| *o);
            let (server, keys) = self
                .server_from(w, s)
                .await
                .map_err(at("servers", i, "authorization server", &id))?;
            let dec = decide(mode, origin, server.system, "authorization server", &id, &mut t)?;
            if !matches!(dec, Decision::Keep) {
                if let Some(seed) = w.seed.as_mut() {
                    seed.servers.retain(|(s, _)| s.id.as_str() != id);
                }
                w.servers.insert(id, (server.clone(), Origin::Dump));
            }
            imp.servers.extend(put(&dec, ServerPut { server, keys }));
        }

        for (i, s) in d.services.iter().enumerate() {
            let tid = of("services", i, s.service.tenant_id.as_deref())?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let id = s.service.id.clone().unwrap_or_default();
            let svc = self
                .service_from(w, &s.service)
                .map_err(at("services", i, "service", &id))?;
            let dec = decide(
                mode,
                w.services.get(&id).map(|(_, o)| *o),
                false,
                "service",
                &id,
                &mut t,
            )?;
            w.services.insert(id, (svc.clone(), Origin::Dump));
            imp.services.extend(put(&dec, svc));
        }

        let mut scope_list: Vec<(String, usize, wire::ScopeRequest)> = Vec::new();
        for (i, s) in d.scopes_without_service.into_iter().enumerate() {
            scope_list.push(("scopes_without_service".into(), i, s));
        }
        for (i, s) in d.services.into_iter().enumerate() {
            for (j, mut sc) in s.scopes.into_iter().enumerate() {
                if sc.service_id.is_none() {
                    sc.service_id = s.service.id.clone();
                }
                if sc.tenant_id.is_none() {
                    sc.tenant_id = s.service.tenant_id.clone();
                }
                scope_list.push((format!("services[{i}].scopes"), j, sc));
            }
        }
        for (list, i, s) in scope_list {
            let tid = of(&list, i, s.tenant_id.as_deref())?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let name = s.name.clone().unwrap_or_default();
            let (scope, origin) = self.scope_from(w, s).map_err(at(&list, i, "scope", &name))?;
            let id = scope.id.to_string();
            let dec = decide(mode, origin, false, "scope", &id, &mut t)?;
            if let Some(seed) = w.seed.as_mut() {
                seed.scopes
                    .retain(|x| !(x.server_id == scope.server_id && x.name == scope.name) && x.id != scope.id);
            }
            w.scopes
                .retain(|_, (x, _)| !(x.server_id == scope.server_id && x.name == scope.name) || x.id == scope.id);
            if !matches!(dec, Decision::Keep) {
                w.scopes.insert(id, (scope.clone(), Origin::Dump));
            }
            imp.scopes.extend(put(&dec, scope));
        }

        for (i, c) in d.claims.into_iter().enumerate() {
            let tid = of("claims", i, c.tenant_id.as_deref())?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let name = c.name.clone().unwrap_or_default();
            let claim = self.claim_from(w, c).map_err(at("claims", i, "claim", &name))?;
            let id = claim.id.to_string();
            let dec = decide(mode, w.claims.get(&id).copied(), false, "claim", &id, &mut t)?;
            w.claims.insert(id, Origin::Dump);
            imp.claims.extend(put(&dec, claim));
        }

        // Sized once: growing by doubling would hold two copies of a large list for a moment.
        imp.clients.reserve_exact(d.clients.len());
        for (i, c) in d.clients.into_iter().enumerate() {
            let tid = of("clients", i, c.tenant_id.as_deref())?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let id = c.client_id.clone().unwrap_or_default();
            let origin = w.clients.get(&id).map(|(_, o)| *o);
            let client = self.client_from(w, *c).await.map_err(at("clients", i, "client", &id))?;
            let dec = decide(mode, origin, client.system, "client", &id, &mut t)?;
            if let Some(seed) = w.seed.as_mut() {
                seed.clients.retain(|x| x.id.as_str() != id);
            }
            if !matches!(dec, Decision::Keep) {
                w.clients.insert(id, (KnownClient::of(&client, false), Origin::Dump));
            }
            imp.clients.extend(put(&dec, client));
        }

        for (i, g) in d.gateways.into_iter().enumerate() {
            let tid = of("gateways", i, Some(&g.tenant_id))?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let id = g.id.clone();
            let gw = self.gateway_from(w, g).map_err(at("gateways", i, "gateway", &id))?;
            let dec = decide(mode, w.gateways.get(&id).copied(), false, "gateway", &id, &mut t)?;
            w.gateways.insert(id, Origin::Dump);
            imp.gateways.extend(put(&dec, gw));
        }

        for (i, a) in d.apis.into_iter().enumerate() {
            let tid = of("apis", i, a.tenant_id.as_deref())?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let id = a.id.clone().unwrap_or_default();
            let api = api_from(w, a, i).map_err(at("apis", i, "api", &id))?;
            let dec = decide(mode, w.apis.get(&id).copied(), false, "api", &id, &mut t)?;
            w.apis.insert(id, Origin::Dump);
            imp.apis.extend(put(&dec, api));
        }

        for (i, c) in d.consents.into_iter().enumerate() {
            let tid = of("consents", i, c.tenant_id.as_deref())?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let id = c.id.clone().unwrap_or_default();
            let consent = self.consent_from(&tid, c).map_err(at("consents", i, "consent", &id))?;
            let dec = decide(mode, w.consents.get(&id).copied(), false, "consent", &id, &mut t)?;
            w.consents.insert(id, Origin::Dump);
            imp.consents.extend(put(&dec, consent));
        }

        for (i, a) in d.consent_actions.into_iter().enumerate() {
            let tid = of("consent_actions", i, a.tenant_id.as_deref())?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let id = a.id.clone().unwrap_or_default();
            let action = action_from(w, a).map_err(at("consent_actions", i, "consent action", &id))?;
            let dec = decide(mode, w.actions.get(&id).copied(), false, "consent action", &id, &mut t)?;
            w.actions.insert(id, Origin::Dump);
            imp.consent_actions.extend(put(&dec, action));
        }

        for (i, r) in d.roles.into_iter().enumerate() {
            let tid = of("roles", i, Some(&r.tenant_id))?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let id = r.id.clone();
            let role = self.role_from(&tid, r).map_err(at("roles", i, "role", &id))?;
            let dec = decide(mode, w.roles.get(&id).copied(), false, "role", &id, &mut t)?;
            w.roles.insert(id, Origin::Dump);
            imp.roles.extend(put(&dec, role));
        }

        for (i, m) in d.sts_clients.into_iter().enumerate() {
            let tid = of("sts_clients", i, Some(&m.tenant_id))?;
            let w = worlds
                .get_mut(&tid)
                .ok_or_else(|| ControlError::internal("tenant not read"))?;
            let id = m.client_id.clone();
            let sts = self
                .sts_from(&tid, m)
                .map_err(at("sts_clients", i, "STS client", &id))?;
            let dec = decide(mode, w.sts.get(&id).copied(), false, "STS client", &id, &mut t)?;
            w.sts.insert(id, Origin::Dump);
            imp.sts_clients.extend(put(&dec, sts));
        }

        // A tenant the import creates is born with what the dump did not bring of its seed.
        let mut created: Vec<TenantId> = Vec::new();
        for w in worlds.values_mut() {
            let Some(seed) = w.seed.take() else {
                continue;
            };
            created.push(w.tid.clone());
            let mut servers = Vec::new();
            for (s, keys) in seed.servers {
                t.created += 1;
                servers.push(Put::Create(ServerPut {
                    server: s,
                    keys: Some(keys),
                }));
            }
            servers.append(&mut imp.servers);
            imp.servers = servers;
            let mut policies: Vec<Put<Policy>> = seed.policies.into_iter().map(Put::Create).collect();
            t.created += policies.len() as u64;
            policies.append(&mut imp.policies);
            imp.policies = policies;
            t.created += (seed.scopes.len() + seed.clients.len()) as u64;
            imp.scopes.extend(seed.scopes.into_iter().map(Put::Create));
            imp.clients.extend(seed.clients.into_iter().map(Put::Create));
        }

        let changes = self.store.import_configuration(&imp).await.map_err(|e| match e {
            StoreError::Conflict(m) => ControlError::Conflict { what: "object", id: m },
            StoreError::NotFound(m) => {
                ControlError::invalid("dump", format!("{m} refers to an object that is not there"))
            }
            e => e.into(),
        })?;
        self.engine.apply(&changes).await;
        // A tenant that starts here starts its privacy ledger here: its first event says so.
        for tid in &created {
            self.record_import(tid, imp.len()).await?;
        }
        Ok(wire::ConfigurationImported {
            tenants: worlds.keys().map(|k| k.to_string()).collect(),
            created: t.created,
            replaced: t.replaced,
            kept: t.kept,
        })
    }

    async fn record_import(&self, tid: &TenantId, objects: usize) -> ControlResult<()> {
        let now = self.clock.now();
        let body = serde_json::json!({ "imported_at": crate::views::rfc3339(now), "objects": objects });
        let payload = serde_json::json!({ "configuration_imported": body, "event_type": "configuration_imported" });
        let w = castellan_store::PrivacyWrite {
            events: vec![NewLedgerEvent {
                id: uuid::Uuid::new_v4().to_string(),
                subject: String::new(),
                date: now,
                event_type: "configuration_imported".into(),
                payload: payload.to_string(),
                actor: String::new(),
            }],
            ..Default::default()
        };
        self.write_privacy(tid, &w).await.map(|_| ())
    }

    async fn seeded_world(&self, tid: &TenantId, tr: &wire::TenantRequest) -> ControlResult<World> {
        let name = tr.name.clone().unwrap_or_else(|| tid.to_string());
        check_name("name", &name)?;
        let mut seed = self.tenant_seed(tid, &name, castellan_domain::KeyType::Rsa).await?;
        seed.tenant = tenant_from(seed.tenant.clone(), tr.clone())?;
        // Its admin client (secret unknown until `castellan admin reset-secret`), unless the dump
        // brings the clients of its admin server.
        let cid = ClientId::parse(crate::bootstrap::SYSTEM_ADMIN_CLIENT).map_err(ControlError::internal)?;
        seed.clients.push(
            self.system_admin_client(tid, &cid, &generate_secret(), true, self.clock.now())
                .await?,
        );
        let mut w = empty_world(tid.clone());
        for (s, _) in &seed.servers {
            w.servers.insert(s.id.to_string(), (s.clone(), Origin::Seed));
        }
        for p in &seed.policies {
            w.policies.insert(p.id.clone(), Origin::Seed);
        }
        for s in &seed.scopes {
            w.scopes.insert(s.id.to_string(), (s.clone(), Origin::Seed));
        }
        for c in &seed.clients {
            w.clients
                .insert(c.id.to_string(), (KnownClient::of(c, true), Origin::Seed));
        }
        w.seed = Some(seed);
        Ok(w)
    }

    async fn stored_world(&self, tid: &TenantId) -> ControlResult<World> {
        let mut w = empty_world(tid.clone());
        let s = &self.store;
        for x in s.list_servers(tid).await? {
            w.servers.insert(x.id.to_string(), (x, Origin::Stored));
        }
        for x in s.list_policies(tid).await? {
            w.policies.insert(x.id, Origin::Stored);
        }
        for x in s.list_tenant_scopes(tid).await? {
            w.scopes.insert(x.id.to_string(), (x, Origin::Stored));
        }
        for x in s.list_services(tid, None).await? {
            w.services.insert(x.id.clone(), (x, Origin::Stored));
        }
        let mut after: Option<ClientId> = None;
        loop {
            let page = s.list_tenant_clients_after(tid, after.as_ref(), 1000).await?;
            for x in &page {
                w.clients
                    .insert(x.id.to_string(), (KnownClient::of(x, true), Origin::Stored));
            }
            match page.last() {
                Some(c) => after = Some(c.id.clone()),
                None => break,
            }
        }
        for x in s.list_gateways(tid, None).await? {
            w.gateways.insert(x.id, Origin::Stored);
        }
        for x in s.list_apis(tid, None, None).await? {
            w.apis.insert(x.id, Origin::Stored);
        }
        for x in s.list_tenant_claims(tid).await? {
            w.claims.insert(x.id.to_string(), Origin::Stored);
        }
        for x in s.list_privacy_consents(tid).await? {
            w.consents.insert(x.id, Origin::Stored);
        }
        for x in s.list_consent_actions(tid).await? {
            w.actions.insert(x.id, Origin::Stored);
        }
        for x in s.list_roles(tid).await? {
            w.roles.insert(x.id, Origin::Stored);
        }
        for x in s.list_sts_clients(tid).await? {
            w.sts.insert(x.client_id, Origin::Stored);
        }
        Ok(w)
    }

    async fn policy_from(&self, tid: &TenantId, p: wire::policies::PolicyRequest) -> ControlResult<Policy> {
        let id = required("id", &p.id)?.to_owned();
        check_id("id", &id)?;
        let name = required("policy_name", &p.policy_name)?.to_owned();
        check_name("policy_name", &name)?;
        let now = self.clock.now();
        let pol = Policy {
            tenant_id: tid.clone(),
            id,
            name,
            language: crate::policies::language(p.language.as_deref())?,
            validators: serde_json::to_value(p.validators.unwrap_or_default()).map_err(ControlError::internal)?,
            definition: p.definition.filter(|d| !d.is_empty()),
            read_only: false,
            imported_by: None,
            created_at: now,
            updated_at: now,
        };
        self.compile(&pol).await?;
        Ok(pol)
    }

    /// A server of the dump over the one stored (or seeded): settings as the admin API applies
    /// them; the secret, login methods and keys given, else the ones it has, else new ones.
    async fn server_from(
        &self,
        w: &World,
        d: dump::DumpServer,
    ) -> ControlResult<(AuthorizationServer, Option<Vec<SigningKey>>)> {
        let req = d.server;
        let id = required("id", &req.id)?;
        let aid = ServerId::parse(id).map_err(|e| ControlError::invalid("id", e.to_string()))?;
        let tid = &w.tid;
        let before = w.servers.get(id).map(|(s, _)| s.clone());
        let name = req.name.clone().unwrap_or_else(|| id.to_owned());
        check_name("name", &name)?;
        // The dump states the whole server: what it leaves out takes the defaults.
        let mut settings = ServerSettings::default();
        crate::servers::apply_settings(&mut settings, &req)?;
        for (field, pid) in [
            ("developer_policy_id", settings.developer_policy_id.as_deref()),
            ("user_policy_id", settings.user_policy_id.as_deref()),
        ] {
            if let Some(pid) = pid
                && !w.policies.contains_key(pid)
            {
                return Err(ControlError::invalid(field, format!("policy {pid} does not exist")));
            }
        }
        let secrets_sealed = match req.secret.as_deref().filter(|s| !s.is_empty()) {
            Some(secret) => {
                crate::servers::check_secret("secret", secret)?;
                let rotated = req.rotated_secrets.clone().unwrap_or_default();
                for (i, s) in rotated.iter().enumerate() {
                    crate::servers::check_secret(&format!("rotated_secrets[{i}]"), s)?;
                }
                if rotated.len() > 10 {
                    return Err(ControlError::invalid("rotated_secrets", "at most 10"));
                }
                self.seal_server_secrets(
                    tid,
                    &aid,
                    &ServerSecrets {
                        secret: secret.to_owned(),
                        rotated_secrets: rotated,
                    },
                )?
            }
            None => match &before {
                Some(b) => b.secrets_sealed.clone(),
                None => self.seal_server_secrets(
                    tid,
                    &aid,
                    &ServerSecrets {
                        secret: generate_secret(),
                        rotated_secrets: Vec::new(),
                    },
                )?,
            },
        };
        let existing_methods = before.as_ref().map(|b| b.authentications.clone()).unwrap_or_default();
        let authentications = match req.authentications {
            Some(a) => {
                self.prepare_methods(tid, &aid, a.methods, &existing_methods, "authentications.methods")
                    .await?
            }
            None => existing_methods,
        };
        let mut keys = if !d.signing_keys.is_empty() {
            let mut out = Vec::new();
            for (i, k) in d.signing_keys.iter().enumerate() {
                out.push(self.key_from(tid, &aid, k).map_err(|e| match e {
                    ControlError::Invalid { field, reason } => {
                        ControlError::invalid(format!("signing_keys[{i}].{field}"), reason)
                    }
                    e => e,
                })?);
            }
            Some(out)
        } else if let Some(jwks) = req.jwks.as_ref().filter(|j| j.keys.iter().any(|k| k.d.is_some())) {
            let keys = self
                .keys_from_jwks(tid, &aid, jwks, settings.key_type.alg(), &[])
                .await?;
            Some(self.with_id_token_key(tid, &aid, keys, &[]).await?)
        } else {
            None
        };
        if let Some(k) = &keys {
            if !k.iter().any(|k| k.status == KeyStatus::Current) {
                return Err(ControlError::invalid("signing_keys", "one key must be current"));
            }
            let current: Vec<SigningKey> = k.iter().filter(|k| k.status == KeyStatus::Current).cloned().collect();
            crate::servers::reconcile_key_type(&mut settings, &current, req.key_type.is_some())?;
        }
        let origin = w.servers.get(id).map(|(_, o)| *o);
        if keys.is_none() && origin != Some(Origin::Stored) {
            // New here: the seed's keys, else a new key.
            keys = Some(
                match w
                    .seed
                    .as_ref()
                    .and_then(|s| s.servers.iter().find(|(s, _)| s.id == aid))
                {
                    Some((_, k)) => k.clone(),
                    None => {
                        let k = vec![self.new_key(tid, &aid, settings.key_type.alg()).await?];
                        self.with_id_token_key(tid, &aid, k, &[]).await?
                    }
                },
            );
        }
        let now = self.clock.now();
        let system = match &before {
            Some(b) => b.system,
            None => false,
        };
        Ok((
            AuthorizationServer {
                tenant_id: tid.clone(),
                id: aid,
                name,
                system,
                settings,
                authentications,
                secrets_sealed,
                created_at: before.as_ref().map_or(now, |b| b.created_at),
                updated_at: now,
            },
            keys,
        ))
    }

    fn key_from(&self, tid: &TenantId, aid: &ServerId, k: &dump::DumpSigningKey) -> ControlResult<SigningKey> {
        let alg =
            SigningAlg::parse(&k.alg).ok_or_else(|| ControlError::invalid("alg", "must be RS256, PS256 or ES256"))?;
        let status = KeyStatus::parse(&k.status)
            .filter(|s| *s != KeyStatus::Revoked)
            .ok_or_else(|| ControlError::invalid("status", "must be current, next, retired or id_token"))?;
        let der = b64url_decode(&k.pkcs8).ok_or_else(|| ControlError::invalid("pkcs8", "is not base64url"))?;
        let loaded = LoadedKey::from_pkcs8(alg, &der).map_err(|e| ControlError::invalid("pkcs8", e.to_string()))?;
        let public_jwk = loaded.public_jwk();
        let kid = public_jwk.kid.clone().unwrap_or_default();
        if kid != k.kid {
            return Err(ControlError::invalid(
                "kid",
                format!("the key's thumbprint is {kid}, not {}", k.kid),
            ));
        }
        let private_sealed = self
            .master
            .seal(&castellan_domain::seal::server_key(tid, aid, &kid), &der)
            .map_err(ControlError::internal)?;
        Ok(SigningKey {
            kid,
            alg,
            status,
            public_jwk,
            private_sealed,
            created_at: if k.created_at > 0 {
                k.created_at
            } else {
                self.clock.now()
            },
            activates_at: k.activates_at,
            retires_at: k.retires_at,
            revoked_at: None,
        })
    }

    fn service_from(&self, w: &World, s: &wire::services::Service) -> ControlResult<Service> {
        let id = required("id", &s.id)?.to_owned();
        check_id("id", &id)?;
        let name = s.name.clone().unwrap_or_else(|| id.clone());
        check_name("name", &name)?;
        let aid = s
            .authorization_server_id
            .clone()
            .unwrap_or_else(|| DEFAULT_SERVER.into());
        let Some((server, _)) = w.servers.get(&aid) else {
            return Err(ControlError::invalid(
                "authorization_server_id",
                format!("authorization server {aid} does not exist"),
            ));
        };
        if let Some((before, _)) = w.services.get(&id)
            && before.server_id != server.id
        {
            return Err(ControlError::invalid(
                "authorization_server_id",
                "a service cannot move to another authorization server",
            ));
        }
        if let Some(d) = &s.description
            && d.chars().count() > 1024
        {
            return Err(ControlError::invalid("description", "at most 1024 characters"));
        }
        let gateway_id = s.gateway_id.clone().filter(|g| !g.is_empty());
        if let Some(g) = &gateway_id
            && !w.gateways.contains_key(g)
            && !w.dump_gateways.contains(g)
        {
            return Err(ControlError::invalid(
                "gateway_id",
                format!("gateway {g} does not exist"),
            ));
        }
        Ok(Service {
            tenant_id: w.tid.clone(),
            id: id.clone(),
            server_id: server.id.clone(),
            name,
            description: s.description.clone(),
            gateway_id,
            with_specification: s.with_specification.unwrap_or(false),
            created_at: w.services.get(&id).map_or(self.clock.now(), |(s, _)| s.created_at),
        })
    }

    /// A scope, matched to the one it stands for by id or else by name on its server.
    fn scope_from(&self, w: &World, s: wire::ScopeRequest) -> ControlResult<(Scope, Option<Origin>)> {
        let name = required("name", &s.name)?.to_owned();
        check_scope_name("name", &name)?;
        crate::scopes::check_texts(&s)?;
        let aid = required("authorization_server_id", &s.authorization_server_id)?;
        let Some((server, _)) = w.servers.get(aid) else {
            return Err(ControlError::invalid(
                "authorization_server_id",
                format!("authorization server {aid} does not exist"),
            ));
        };
        let by_name = w
            .scopes
            .values()
            .find(|(x, _)| x.server_id == server.id && x.name == name)
            .map(|(x, o)| (x.id.clone(), *o));
        let (id, origin) = match s.id.as_deref().filter(|i| !i.is_empty()) {
            Some(id) => {
                let id = ScopeId::parse(id).map_err(|e| ControlError::invalid("id", e.to_string()))?;
                if let Some((other, Origin::Stored | Origin::Dump)) = &by_name
                    && *other != id
                {
                    return Err(ControlError::invalid(
                        "name",
                        format!("scope {other} already has the name {name:?} on authorization server {aid}"),
                    ));
                }
                let origin = w.scopes.get(id.as_str()).map(|(_, o)| *o);
                (id, origin)
            }
            None => match by_name {
                Some((id, o)) => (id, Some(o)),
                None => (
                    ScopeId::parse(uuid::Uuid::new_v4().simple().to_string()).map_err(ControlError::internal)?,
                    None,
                ),
            },
        };
        if let Some((before, _)) = w.scopes.get(id.as_str())
            && before.server_id != server.id
        {
            return Err(ControlError::invalid(
                "authorization_server_id",
                "a scope cannot move to another authorization server",
            ));
        }
        for (field, pid) in [
            ("developer_policy_id", s.developer_policy_id.as_deref()),
            ("user_policy_id", s.user_policy_id.as_deref()),
        ] {
            if let Some(pid) = pid.filter(|p| !p.is_empty())
                && !w.policies.contains_key(pid)
            {
                return Err(ControlError::invalid(field, format!("policy {pid} does not exist")));
            }
        }
        let service_id = s.service_id.filter(|x| !x.is_empty());
        if let Some(sid) = &service_id {
            match w.services.get(sid) {
                Some((svc, _)) if svc.server_id == server.id => {}
                Some(_) => {
                    return Err(ControlError::invalid(
                        "service_id",
                        format!("service {sid} belongs to another authorization server"),
                    ));
                }
                None => {
                    return Err(ControlError::invalid(
                        "service_id",
                        format!("service {sid} does not exist"),
                    ));
                }
            }
        }
        let created_at = w
            .scopes
            .get(id.as_str())
            .map_or(self.clock.now(), |(x, _)| x.created_at);
        Ok((
            Scope {
                tenant_id: w.tid.clone(),
                server_id: server.id.clone(),
                id,
                display_name: s.display_name.unwrap_or_else(|| name.clone()),
                name,
                description: s.description.unwrap_or_default(),
                developer_policy_id: s.developer_policy_id.filter(|x| !x.is_empty()),
                user_policy_id: s.user_policy_id.filter(|x| !x.is_empty()),
                service_id,
                created_at,
            },
            origin,
        ))
    }

    fn claim_from(&self, w: &World, c: wire::ClaimRequest) -> ControlResult<Claim> {
        let id = required("id", &c.id)?;
        let id = ClaimId::parse(id).map_err(|e| ControlError::invalid("id", e.to_string()))?;
        let name = required("name", &c.name)?.to_owned();
        crate::claims::check_claim_name("name", &name)?;
        let mapping = required("mapping", &c.mapping)?.to_owned();
        crate::claims::check_mapping("mapping", &mapping)?;
        let claim_type = crate::claims::parse_type(required("type", &c.claim_type)?)?;
        let scopes = c.scopes.unwrap_or_default();
        crate::claims::check_scopes(&scopes)?;
        let aid = required("authorization_server_id", &c.authorization_server_id)?;
        let Some((server, _)) = w.servers.get(aid) else {
            return Err(ControlError::invalid(
                "authorization_server_id",
                format!("authorization server {aid} does not exist"),
            ));
        };
        Ok(Claim {
            tenant_id: w.tid.clone(),
            server_id: server.id.clone(),
            id,
            name,
            mapping,
            claim_type,
            scopes,
            created_at: self.clock.now(),
        })
    }

    /// A client as the admin API would make it from the same request, with its secret: the one
    /// given in clear (hashed and sealed again here), else the hash given (kept as it is), else
    /// the one it has, else a new one an admin can read.
    async fn client_from(&self, w: &World, mut req: wire::ClientRequest) -> ControlResult<Client> {
        let id = required("client_id", &req.client_id)?.to_owned();
        let cid = ClientId::parse(id.as_str()).map_err(|e| ControlError::invalid("client_id", e.to_string()))?;
        let aid = required("authorization_server_id", &req.authorization_server_id)?.to_owned();
        let Some((server, _)) = w.servers.get(&aid) else {
            return Err(ControlError::invalid(
                "authorization_server_id",
                format!("authorization server {aid} does not exist"),
            ));
        };
        let before = w.clients.get(&id).map(|(c, _)| c.clone());
        if let Some(b) = &before
            && b.server_id != server.id
        {
            return Err(ControlError::invalid(
                "authorization_server_id",
                "a client cannot move to another authorization server",
            ));
        }
        let now = self.clock.now();
        let mut c = Client {
            tenant_id: w.tid.clone(),
            server_id: server.id.clone(),
            id: cid.clone(),
            name: id.clone(),
            // Only the admin and developer servers hold system clients (the bootstrap client).
            system: before
                .as_ref()
                .map_or(server.system && req.system == Some(true), |b| b.system),
            grant_types: Vec::new(),
            token_endpoint_auth_method: "client_secret_basic".into(),
            secret_hash: None,
            secret_sealed: None,
            settings: ClientSettings::default(),
            created_at: match req.client_id_issued_at {
                Some(t) if t > 0 => t,
                _ => before.as_ref().map_or(now, |b| b.created_at),
            },
        };
        let hashed = req.client_hashed_secret.take().filter(|h| !h.is_empty());
        let clear = req.client_secret.clone().filter(|s| !s.is_empty());
        match (&clear, &hashed) {
            (None, Some(h)) => c.secret_hash = Some(stored_hash(h)?),
            (None, None) => {
                if let Some(b) = &before {
                    c.secret_hash = b.secret_hash.clone();
                    c.secret_sealed = b.secret_sealed.clone();
                }
            }
            _ => {}
        }
        if req.grant_types.is_none() {
            req.grant_types = Some(vec!["authorization_code".into()]);
        }
        let known = w.scope_names(&aid);
        let secret = self.apply_client(server, &mut c, req, true, Some(&known)).await?;
        if let Some((s, generated)) = secret {
            // A secret Castellan generated carries the exporter's keyed hash: hashed again here
            // under this master key. A chosen one keeps the argon2id hash it came with, or gets
            // one, as the admin API gives it.
            match hashed.as_deref() {
                Some(h) if clear.is_some() && h.starts_with("$argon2") => {
                    c.secret_hash = Some(stored_hash(h)?);
                    c.secret_sealed = Some(
                        self.master
                            .seal(&castellan_domain::seal::client_secret(&w.tid, &cid), s.as_bytes())
                            .map_err(ControlError::internal)?,
                    );
                }
                h => {
                    let keyed = h.is_some_and(|h| h.starts_with("hmac-sha256:"));
                    self.set_secret(&w.tid, &mut c, &s, generated || keyed).await?
                }
            }
        }
        Ok(c)
    }

    fn gateway_from(&self, w: &World, g: dump::DumpGateway) -> ControlResult<Gateway> {
        let ok = !g.id.is_empty()
            && g.id.len() <= 64
            && g.id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
        if !ok {
            return Err(ControlError::invalid("id", "1 to 64 letters, digits, '_' or '-'"));
        }
        if !crate::GATEWAY_TYPES.contains(&g.kind.as_str()) {
            return Err(ControlError::invalid(
                "type",
                format!("one of {}", crate::GATEWAY_TYPES.join(", ")),
            ));
        }
        let name = if g.name.is_empty() { g.id.clone() } else { g.name };
        check_name("name", &name)?;
        let Some((server, _)) = w.servers.get(&g.authorization_server_id) else {
            return Err(ControlError::invalid(
                "authorization_server_id",
                format!("authorization server {} does not exist", g.authorization_server_id),
            ));
        };
        if server.system {
            return Err(ControlError::invalid(
                "authorization_server_id",
                "a system server; gateways protect APIs of the others",
            ));
        }
        match w.clients.get(&g.client_id) {
            Some((c, _)) if c.server_id == server.id => {}
            _ => {
                return Err(ControlError::invalid(
                    "client_id",
                    format!("no client {} on authorization server {}", g.client_id, server.id),
                ));
            }
        }
        Ok(Gateway {
            tenant_id: w.tid.clone(),
            id: g.id,
            server_id: server.id.clone(),
            name,
            description: g.description,
            kind: g.kind,
            client_id: ClientId::parse(g.client_id).map_err(|e| ControlError::invalid("client_id", e.to_string()))?,
            created_at: self.clock.now(),
            last_active: None,
        })
    }

    fn consent_from(&self, tid: &TenantId, req: wire::privacy::Consent) -> ControlResult<PrivacyConsent> {
        let id = required("id", &req.id)?.to_owned();
        check_id("id", &id)?;
        required("name", &req.name)?;
        required("update_existing_grants", &req.update_existing_grants)?;
        let version = req.version.unwrap_or(1);
        if version < 1 {
            return Err(ControlError::invalid("version", "at least 1"));
        }
        let mut doc = wire::privacy::Consent {
            id: Some(id.clone()),
            tenant_id: Some(tid.to_string()),
            version: Some(version),
            valid_from: Some(crate::views::rfc3339(self.clock.now())),
            can_be_withdrawn: Some(false),
            internal_services: Some(Vec::new()),
            third_party_services: Some(Vec::new()),
            pii_categories: Some(Vec::new()),
            ..Default::default()
        };
        self.merge_consent(tid, &mut doc, req)?;
        Ok(PrivacyConsent {
            tenant_id: tid.clone(),
            id,
            version,
            can_be_withdrawn: doc.can_be_withdrawn.unwrap_or(false),
            update_existing_grants: doc.update_existing_grants.clone().unwrap_or_default(),
            doc,
        })
    }

    fn role_from(&self, tid: &TenantId, r: dump::DumpRole) -> ControlResult<Role> {
        if r.id.is_empty() || r.id.len() > 128 {
            return Err(ControlError::invalid("id", "1 to 128 characters"));
        }
        check_name("name", &r.name)?;
        let held = AdminAccess::for_operator(tid.clone());
        let permissions = self.grantable(&held, "permissions", &r.permissions, false)?;
        let mut maps = Vec::new();
        for (i, m) in r.connection_maps.into_iter().enumerate() {
            if m.group_name.trim().is_empty() || m.group_name.len() > 256 {
                return Err(ControlError::invalid(
                    format!("connection_maps[{i}].group_name"),
                    "1 to 256 characters",
                ));
            }
            maps.push(ConnectionMap {
                id: 0,
                role_id: r.id.clone(),
                name: m.name,
                group_name: m.group_name,
                connection_id: m.connection_id,
            });
        }
        Ok(Role {
            tenant_id: tid.clone(),
            id: r.id,
            name: r.name,
            audience: r.audience,
            description: r.description,
            permissions: permissions.to_string(),
            connection_maps: maps,
            created_at: self.clock.now(),
        })
    }

    fn sts_from(&self, tid: &TenantId, m: dump::DumpStsClient) -> ControlResult<StsClient> {
        if m.client_id.is_empty() || m.client_id.len() > 256 {
            return Err(ControlError::invalid("client_id", "1 to 256 characters"));
        }
        let held = AdminAccess::for_operator(tid.clone());
        let permissions = self.grantable(&held, "permissions", &m.permissions, true)?;
        let now = self.clock.now();
        Ok(StsClient {
            tenant_id: tid.clone(),
            client_id: m.client_id,
            description: m.description,
            permissions: permissions.to_string(),
            created_by: Some("import".into()),
            modified_by: Some("import".into()),
            user_id: None,
            created_at: now,
            modified_at: now,
        })
    }
}

fn empty_world(tid: TenantId) -> World {
    World {
        tid,
        seed: None,
        servers: BTreeMap::new(),
        policies: BTreeMap::new(),
        scopes: BTreeMap::new(),
        services: BTreeMap::new(),
        clients: BTreeMap::new(),
        gateways: BTreeMap::new(),
        dump_gateways: BTreeSet::new(),
        apis: BTreeMap::new(),
        claims: BTreeMap::new(),
        consents: BTreeMap::new(),
        actions: BTreeMap::new(),
        roles: BTreeMap::new(),
        sts: BTreeMap::new(),
    }
}

fn drop_seed_policy(w: &mut World, id: &str) {
    if let Some(seed) = w.seed.as_mut() {
        seed.policies.retain(|p| p.id != id);
    }
}

/// The tenant as the dump states it over the one it is (or is born as).
fn tenant_from(mut t: Tenant, tr: wire::TenantRequest) -> ControlResult<Tenant> {
    if let Some(n) = tr.name {
        check_name("name", &n)?;
        t.name = n;
    }
    if let Some(acs) = tr.authentication_context_settings {
        t.authentication_context_settings = acs;
    }
    if let Some(jwks) = tr.jwks {
        crate::tenants::check_public_jwks(&jwks)?;
        t.jwks = jwks;
    }
    Ok(t)
}

/// A client secret's hash as the dump gives it: an argon2id PHC string, or `hmac-sha256:` and
/// the keyed hash (valid only under the master key that made it).
fn stored_hash(h: &str) -> ControlResult<Vec<u8>> {
    if h.starts_with("$argon2") {
        castellan_jose::password::check_phc(h).map_err(|e| ControlError::invalid("client_hashed_secret", e))?;
        return Ok(h.as_bytes().to_vec());
    }
    h.strip_prefix("hmac-sha256:")
        .and_then(b64url_decode)
        .filter(|b| b.len() == 32)
        .ok_or_else(|| {
            ControlError::invalid(
                "client_hashed_secret",
                "must be an argon2id PHC string or hmac-sha256: and 32 bytes base64url",
            )
        })
}

fn api_from(w: &World, a: wire::services::Api, i: usize) -> ControlResult<Api> {
    let id = required("id", &a.id)?.to_owned();
    check_id("id", &id)?;
    let sid = required("service_id", &a.service_id)?;
    let Some((svc, _)) = w.services.get(sid) else {
        return Err(ControlError::invalid(
            "service_id",
            format!("service {sid} does not exist"),
        ));
    };
    let method = required("method", &a.method)?.to_ascii_uppercase();
    if !crate::API_METHODS.contains(&method.as_str()) {
        return Err(ControlError::invalid(
            "method",
            format!("one of {}", crate::API_METHODS.join(", ")),
        ));
    }
    let path = required("path", &a.path)?.to_owned();
    if !path.starts_with('/') || path.len() > 2048 {
        return Err(ControlError::invalid(
            "path",
            "a path template starting with / (at most 2048 characters)",
        ));
    }
    let policy_id = a.policy_id.filter(|p| !p.is_empty());
    if let Some(p) = &policy_id
        && !w.policies.contains_key(p)
    {
        return Err(ControlError::invalid("policy_id", format!("policy {p} does not exist")));
    }
    let data_classifications = a.data_classifications.unwrap_or_default();
    if data_classifications.len() > 64 {
        return Err(ControlError::invalid("data_classifications", "at most 64"));
    }
    Ok(Api {
        tenant_id: w.tid.clone(),
        id,
        service_id: svc.id.clone(),
        server_id: svc.server_id.clone(),
        method,
        path,
        position: a.position.unwrap_or(i as i64),
        policy_id,
        data_classifications,
        can_have_policy: a.can_have_policy.unwrap_or(true),
        imported: svc.with_specification,
    })
}

fn action_from(w: &World, a: wire::privacy::ConsentActionWithConsents) -> ControlResult<ConsentActionDef> {
    let id = required("id", &a.id)?.to_owned();
    check_id("id", &id)?;
    let name = required("name", &a.name)?.to_owned();
    check_name("name", &name)?;
    let mut consents = Vec::new();
    for (i, c) in a.consents.unwrap_or_default().into_iter().enumerate() {
        let cid = c.consent.id.clone().unwrap_or_default();
        if !w.consents.contains_key(&cid) {
            return Err(ControlError::invalid(
                format!("consents[{i}].id"),
                format!("consent {cid:?} does not exist"),
            ));
        }
        consents.push((cid, c.required.unwrap_or(false)));
    }
    Ok(ConsentActionDef {
        tenant_id: w.tid.clone(),
        id,
        name,
        description: a.description,
        consents,
    })
}
