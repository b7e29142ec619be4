//! Services and their APIs (Cloudentity ACP `/services`, `/apis`): a service belongs to an
//! authorization server and holds APIs (a method and a path template, optionally protected by a
//! policy). APIs of a service with an imported specification come only from the import.

use std::collections::BTreeMap;

use castellan_domain::{Api, ServerId, Service, TenantId};
use castellan_policy::routes::{RouteTarget, ServiceRoutes};
use castellan_store::{ConfigChange, StoreError};
use castellan_types::services as wire;

use crate::error::{check_id, check_name, unchanged};
use crate::{Allowed, Control, ControlError, ControlResult, need};

/// The methods an API may have (upper case; the server upper-cases what it is given).
pub const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];

pub(crate) fn service_view(s: &Service) -> wire::Service {
    wire::Service {
        authorization_server_id: Some(s.server_id.to_string()),
        description: s.description.clone(),
        gateway_id: s.gateway_id.clone(),
        id: Some(s.id.clone()),
        name: Some(s.name.clone()),
        tenant_id: Some(s.tenant_id.to_string()),
        with_specification: Some(s.with_specification),
    }
}

fn api_view(a: &Api) -> wire::Api {
    wire::Api {
        can_have_policy: Some(a.can_have_policy),
        data_classifications: Some(a.data_classifications.clone()),
        id: Some(a.id.clone()),
        method: Some(a.method.clone()),
        path: Some(a.path.clone()),
        policy_id: a.policy_id.clone(),
        position: Some(a.position),
        server_id: Some(a.server_id.to_string()),
        service_id: Some(a.service_id.clone()),
        tenant_id: Some(a.tenant_id.to_string()),
    }
}

fn check_classifications(list: &[String]) -> ControlResult<()> {
    if list.len() > 64 {
        return Err(ControlError::invalid("data_classifications", "at most 64"));
    }
    if let Some(i) = list.iter().position(|c| c.trim().is_empty() || c.chars().count() > 128) {
        return Err(ControlError::invalid(
            format!("data_classifications[{i}]"),
            "1 to 128 characters",
        ));
    }
    Ok(())
}

/// The filters of the API lists: `data_classification[]` (any of them) and
/// `without_data_classifications`.
#[derive(Debug, Clone, Default)]
pub struct ApiFilter {
    pub data_classification: Vec<String>,
    pub without_data_classifications: bool,
}

impl ApiFilter {
    fn keeps(&self, a: &Api) -> bool {
        if self.without_data_classifications && !a.data_classifications.is_empty() {
            return false;
        }
        self.data_classification.is_empty()
            || a.data_classifications
                .iter()
                .any(|c| self.data_classification.contains(c))
    }
}

impl Control {
    async fn services_changed(&self, tid: &TenantId) {
        self.engine.changed(&ConfigChange::Services(tid.clone())).await;
    }

    async fn load_service(&self, tid: &TenantId, sid: &str) -> ControlResult<Service> {
        self.store
            .get_service(tid, sid)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "service",
                id: sid.to_owned(),
            })
    }

    async fn load_api(&self, tid: &TenantId, id: &str) -> ControlResult<Api> {
        self.store
            .get_api(tid, id)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "API",
                id: id.to_owned(),
            })
    }

    /// `POST /services`: `name` and `authorization_server_id` required; the id is generated
    /// when absent.
    pub async fn create_service(
        &self,
        access: &Allowed<need::ServiceWrite>,
        req: wire::Service,
    ) -> ControlResult<wire::Service> {
        let tid = access.tenant().clone();
        unchanged(
            "tenant_id",
            req.tenant_id.as_deref(),
            tid.as_str(),
            "must be the tenant of the path",
        )?;
        let name = req.name.ok_or_else(|| ControlError::invalid("name", "required"))?;
        check_name("name", &name)?;
        let id = match req.id {
            Some(id) => {
                check_id("id", &id)?;
                id
            }
            None => uuid::Uuid::new_v4().simple().to_string(),
        };
        // Cloudentity ACP requires only `name`: the server defaults to the tenant's `default`.
        let aid = req
            .authorization_server_id
            .unwrap_or_else(|| castellan_domain::DEFAULT_SERVER.to_owned());
        let server_id = ServerId::parse(aid.as_str())
            .map_err(|e| ControlError::invalid("authorization_server_id", e.to_string()))?;
        if self.store.get_server(&tid, &server_id).await?.is_none() {
            return Err(ControlError::invalid(
                "authorization_server_id",
                format!("authorization server {aid} does not exist"),
            ));
        }
        self.check_service_gateway(&tid, &server_id, req.gateway_id.as_deref())
            .await?;
        if req.description.as_ref().is_some_and(|d| d.chars().count() > 4096) {
            return Err(ControlError::invalid("description", "at most 4096 characters"));
        }
        let s = Service {
            tenant_id: tid.clone(),
            id: id.clone(),
            server_id,
            name,
            description: req.description,
            gateway_id: req.gateway_id.filter(|g| !g.is_empty()),
            // Read-only: only an import makes a service's APIs come from a specification.
            with_specification: false,
            created_at: self.clock.now(),
        };
        self.store.create_service(&s).await.map_err(|e| match e {
            StoreError::Conflict(_) => ControlError::Conflict { what: "service", id },
            e => e.into(),
        })?;
        self.services_changed(&tid).await;
        Ok(service_view(&s))
    }

    /// `GET /services/{sid}`, with the scopes that name the service.
    pub async fn get_service(
        &self,
        access: &Allowed<need::ServiceRead>,
        sid: &str,
    ) -> ControlResult<wire::ServiceWithScopesResponse> {
        let tid = access.tenant();
        let s = self.load_service(tid, sid).await?;
        let scopes = self
            .store
            .list_tenant_scopes(tid)
            .await?
            .into_iter()
            .filter(|sc| sc.service_id.as_deref() == Some(sid))
            .map(crate::scopes::scope_view)
            .collect();
        Ok(wire::ServiceWithScopesResponse {
            service: service_view(&s),
            protected_by_lambda_authorizer: false,
            scopes,
        })
    }

    /// `GET /servers/{aid}/services`.
    pub async fn list_server_services(
        &self,
        access: &Allowed<need::ServiceRead>,
        aid: &str,
    ) -> ControlResult<wire::ServicesResponse> {
        let server = self.server_id_of(access.tenant(), aid).await?;
        let all = self.store.list_services(access.tenant(), Some(&server)).await?;
        Ok(wire::ServicesResponse {
            services: all
                .iter()
                .map(|s| wire::ServiceResponse {
                    service: service_view(s),
                    protected_by_lambda_authorizer: false,
                })
                .collect(),
        })
    }

    async fn server_id_of(&self, tid: &TenantId, aid: &str) -> ControlResult<ServerId> {
        let not_found = || ControlError::NotFound {
            what: "authorization server",
            id: aid.to_owned(),
        };
        let id = ServerId::parse(aid).map_err(|_| not_found())?;
        if self.store.get_server(tid, &id).await?.is_none() {
            return Err(not_found());
        }
        Ok(id)
    }

    /// `PUT /services/{sid}`: name and description; the server cannot change.
    pub async fn update_service(
        &self,
        access: &Allowed<need::ServiceWrite>,
        sid: &str,
        req: wire::Service,
    ) -> ControlResult<wire::Service> {
        let tid = access.tenant().clone();
        let mut s = self.load_service(&tid, sid).await?;
        unchanged("id", req.id.as_deref(), sid, "does not match the service in the path")?;
        unchanged(
            "tenant_id",
            req.tenant_id.as_deref(),
            tid.as_str(),
            "must be the tenant of the path",
        )?;
        unchanged(
            "authorization_server_id",
            req.authorization_server_id.as_deref(),
            s.server_id.as_str(),
            "a service cannot move to another server",
        )?;
        if let Some(g) = req.gateway_id {
            self.check_service_gateway(&tid, &s.server_id, Some(&g)).await?;
            s.gateway_id = (!g.is_empty()).then_some(g);
        }
        if let Some(n) = req.name {
            check_name("name", &n)?;
            s.name = n;
        }
        if let Some(d) = req.description {
            if d.len() > 4096 {
                return Err(ControlError::invalid("description", "at most 4096 characters"));
            }
            s.description = Some(d);
        }
        self.store.update_service(&s).await?;
        self.services_changed(&tid).await;
        Ok(service_view(&s))
    }

    /// `DELETE /services/{sid}`: its APIs go with it; 400 while scopes name it.
    pub async fn delete_service(&self, access: &Allowed<need::ServiceWrite>, sid: &str) -> ControlResult<()> {
        let tid = access.tenant().clone();
        self.load_service(&tid, sid).await?;
        let scopes: Vec<String> = self
            .store
            .list_tenant_scopes(&tid)
            .await?
            .into_iter()
            .filter(|sc| sc.service_id.as_deref() == Some(sid))
            .map(|sc| sc.name)
            .collect();
        if !scopes.is_empty() {
            return Err(ControlError::InUse(format!(
                "service {sid} is named by scopes {}; remove their service_id first",
                scopes.join(", ")
            )));
        }
        if !self.store.delete_service(&tid, sid).await? {
            return Err(ControlError::NotFound {
                what: "service",
                id: sid.to_owned(),
            });
        }
        self.services_changed(&tid).await;
        Ok(())
    }

    /// 422 naming `field` unless the policy exists.
    async fn check_api_policy(&self, tid: &TenantId, policy: Option<&str>) -> ControlResult<()> {
        self.check_policy_ids(tid, [("policy_id", policy)]).await
    }

    /// `POST /apis`: `service_id`, `method` and `path` required; not on a service whose APIs
    /// come from an imported specification.
    pub async fn create_api(&self, access: &Allowed<need::ServiceWrite>, req: wire::Api) -> ControlResult<wire::Api> {
        let tid = access.tenant().clone();
        unchanged(
            "tenant_id",
            req.tenant_id.as_deref(),
            tid.as_str(),
            "must be the tenant of the path",
        )?;
        let sid = req
            .service_id
            .ok_or_else(|| ControlError::invalid("service_id", "required"))?;
        let service = self
            .store
            .get_service(&tid, &sid)
            .await?
            .ok_or_else(|| ControlError::invalid("service_id", format!("service {sid} does not exist")))?;
        if service.with_specification {
            return Err(ControlError::invalid(
                "service_id",
                format!("service {sid} has an imported specification; its APIs come only from the import"),
            ));
        }
        unchanged(
            "server_id",
            req.server_id.as_deref(),
            service.server_id.as_str(),
            "must be the server of the service",
        )?;
        let method = req
            .method
            .map(|m| m.to_ascii_uppercase())
            .ok_or_else(|| ControlError::invalid("method", "required"))?;
        if !METHODS.contains(&method.as_str()) {
            return Err(ControlError::invalid(
                "method",
                format!("one of {}", METHODS.join(", ")),
            ));
        }
        let path = req.path.ok_or_else(|| ControlError::invalid("path", "required"))?;
        if path.chars().count() > 2048 {
            return Err(ControlError::invalid("path", "at most 2048 characters"));
        }
        ServiceRoutes::check_template(&path).map_err(|e| ControlError::invalid("path", e.reason))?;
        let id = match req.id {
            Some(id) => {
                check_id("id", &id)?;
                id
            }
            None => uuid::Uuid::new_v4().simple().to_string(),
        };
        let classifications = req.data_classifications.unwrap_or_default();
        check_classifications(&classifications)?;
        let policy_id = req.policy_id.filter(|p| !p.is_empty());
        self.check_api_policy(&tid, policy_id.as_deref()).await?;
        // The new API must route beside the service's others (a gateway matches against all).
        let existing = self.store.list_apis(&tid, Some(&sid), None).await?;
        if existing.iter().any(|a| a.method == method && a.path == path) {
            return Err(ControlError::Conflict {
                what: "API",
                id: format!("{method} {path} in service {sid}"),
            });
        }
        let mut routes = ServiceRoutes::default();
        for a in &existing {
            let _ = routes.add(&a.method, &a.path, RouteTarget::default());
        }
        routes
            .add(&method, &path, RouteTarget::default())
            .map_err(|e| ControlError::invalid("path", e.reason))?;
        let position = match req.position {
            Some(p) => p,
            None => existing.iter().map(|a| a.position).max().unwrap_or(0) + 1,
        };
        let api = Api {
            tenant_id: tid.clone(),
            id: id.clone(),
            service_id: sid,
            server_id: service.server_id,
            method,
            path,
            position,
            policy_id,
            data_classifications: classifications,
            can_have_policy: req.can_have_policy.unwrap_or(true),
            imported: false,
        };
        self.store.create_api(&api).await.map_err(|e| match e {
            StoreError::Conflict(_) => ControlError::Conflict {
                what: "API",
                id: format!("{id} ({} {} in service {})", api.method, api.path, api.service_id),
            },
            e => e.into(),
        })?;
        self.services_changed(&tid).await;
        Ok(api_view(&api))
    }

    pub async fn get_api(&self, access: &Allowed<need::ServiceRead>, id: &str) -> ControlResult<wire::Api> {
        Ok(api_view(&self.load_api(access.tenant(), id).await?))
    }

    /// `PUT /apis/{api}`: the policy and the data classifications.
    pub async fn update_api(
        &self,
        access: &Allowed<need::ServiceWrite>,
        id: &str,
        req: wire::UpdateApiRequest,
    ) -> ControlResult<wire::Api> {
        let tid = access.tenant().clone();
        let mut api = self.load_api(&tid, id).await?;
        if let Some(p) = req.policy_id {
            let p = (!p.is_empty()).then_some(p);
            if p.is_some() && !api.can_have_policy {
                return Err(ControlError::invalid("policy_id", "this API cannot have a policy"));
            }
            self.check_api_policy(&tid, p.as_deref()).await?;
            api.policy_id = p;
        }
        if let Some(c) = req.data_classifications {
            check_classifications(&c)?;
            api.data_classifications = c;
        }
        self.store.update_api(&api).await?;
        self.services_changed(&tid).await;
        Ok(api_view(&api))
    }

    /// `DELETE /apis/{api}`: 400 for an imported API (the import's removal takes it).
    pub async fn delete_api(&self, access: &Allowed<need::ServiceWrite>, id: &str) -> ControlResult<()> {
        let tid = access.tenant().clone();
        let api = self.load_api(&tid, id).await?;
        if api.imported {
            return Err(ControlError::Refused(format!(
                "API {id} comes from the service's imported specification; remove the specification instead"
            )));
        }
        self.store.delete_api(&tid, id).await?;
        self.services_changed(&tid).await;
        Ok(())
    }

    /// `GET /services/{sid}/apis`.
    pub async fn list_service_apis(
        &self,
        access: &Allowed<need::ServiceRead>,
        sid: &str,
        filter: &ApiFilter,
    ) -> ControlResult<wire::Apis> {
        self.load_service(access.tenant(), sid).await?;
        let all = self.store.list_apis(access.tenant(), Some(sid), None).await?;
        Ok(wire::Apis {
            apis: all.iter().filter(|a| filter.keeps(a)).map(api_view).collect(),
        })
    }

    /// `GET /servers/{aid}/apis`: by service.
    pub async fn list_server_apis(
        &self,
        access: &Allowed<need::ServiceRead>,
        aid: &str,
        filter: &ApiFilter,
    ) -> ControlResult<wire::ServerApis> {
        let server = self.server_id_of(access.tenant(), aid).await?;
        let mut by: BTreeMap<String, Vec<wire::Api>> = BTreeMap::new();
        for s in self.store.list_services(access.tenant(), Some(&server)).await? {
            by.entry(s.id).or_default();
        }
        for a in self.store.list_apis(access.tenant(), None, Some(&server)).await? {
            if filter.keeps(&a) {
                by.entry(a.service_id.clone()).or_default().push(api_view(&a));
            }
        }
        Ok(wire::ServerApis { apis_by_services: by })
    }

    /// `DELETE /services/{sid}/apis`: removes every API of the service and the policies its
    /// import created that nothing else uses; the service is left without a specification and
    /// disconnected from its gateway. Scopes the import created stay (clients may hold them).
    pub async fn remove_specification(
        &self,
        access: &Allowed<need::ServiceWrite>,
        sid: &str,
    ) -> ControlResult<wire::RemoveServiceConfigurationResult> {
        let tid = access.tenant().clone();
        let s = self.load_service(&tid, sid).await?;
        let apis = self.store.list_apis(&tid, Some(sid), None).await?;
        let (removed, kept) = self.previous_import_policies(&tid, sid).await?;
        let imp = castellan_store::ServiceImport {
            service: Service {
                with_specification: false,
                gateway_id: None,
                ..s
            },
            remove_apis: apis.iter().map(|a| a.id.clone()).collect(),
            remove_policies: removed.iter().map(|p| p.id.clone()).collect(),
            policies: Vec::new(),
            scopes: Vec::new(),
            apis: Vec::new(),
        };
        self.write_import(&imp).await?;
        Ok(wire::RemoveServiceConfigurationResult {
            not_removed_policies: Self::policy_views(kept)?,
            removed_apis: apis.iter().map(api_view).collect(),
            removed_policies: Self::policy_views(removed)?,
        })
    }
}

/// Fetches a specification for `POST …/apis/import/url`. The server's implementation refuses
/// other hosts' redirects and stops at [`MAX_SPECIFICATION_BYTES`] and a few seconds.
#[async_trait::async_trait]
pub trait DocumentFetcher: Send + Sync {
    /// The body at `url`, or why there is none (said to the caller as is).
    async fn fetch(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, String>;
}

/// The largest specification an import reads (file, text or URL).
pub const MAX_SPECIFICATION_BYTES: usize = 5 * 1024 * 1024;

/// `{service}-{scope}-{scope}`, with characters a policy id cannot hold replaced by `_`; a long
/// one ends in a digest of the scopes so that different sets never share an id.
fn import_policy_id(service: &str, scopes: &[String]) -> String {
    let joined = format!("{service}-{}", scopes.join("-"));
    let clean: String = joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.len() <= 128 && clean == joined {
        return clean;
    }
    let digest = castellan_jose::sha256(scopes.join(" ").as_bytes());
    let tag: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let head: String = clean.chars().take(128 - 13).collect();
    format!("{head}-{tag}")
}

impl Control {
    /// Which previous-import policies of `sid` go (unused elsewhere) and which stay.
    async fn previous_import_policies(
        &self,
        tid: &TenantId,
        sid: &str,
    ) -> ControlResult<(Vec<castellan_domain::Policy>, Vec<castellan_domain::Policy>)> {
        let mine: Vec<_> = self
            .store
            .list_policies(tid)
            .await?
            .into_iter()
            .filter(|p| p.imported_by.as_deref() == Some(sid) && !p.read_only)
            .collect();
        if mine.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
        for s in self.store.list_servers(tid).await? {
            used.extend(s.settings.developer_policy_id.clone());
            used.extend(s.settings.user_policy_id.clone());
        }
        for sc in self.store.list_tenant_scopes(tid).await? {
            used.extend(sc.developer_policy_id);
            used.extend(sc.user_policy_id);
        }
        for a in self.store.list_apis(tid, None, None).await? {
            if a.service_id != sid {
                used.extend(a.policy_id);
            }
        }
        Ok(mine.into_iter().partition(|p| !used.contains(&p.id)))
    }

    fn policy_views(list: Vec<castellan_domain::Policy>) -> ControlResult<Vec<castellan_types::policies::Policy>> {
        list.into_iter().map(crate::policies::view).collect()
    }

    async fn import_changed(&self, s: &Service) {
        self.services_changed(&s.tenant_id).await;
        self.policies_changed(&s.tenant_id).await;
        self.engine
            .changed(&ConfigChange::Server(s.tenant_id.clone(), s.server_id.clone()))
            .await;
    }

    async fn write_import(&self, imp: &castellan_store::ServiceImport) -> ControlResult<()> {
        self.store.apply_service_import(imp).await.map_err(|e| match e {
            StoreError::Conflict(what) => ControlError::Conflict {
                what: "import",
                id: format!("{what} was written meanwhile; try again"),
            },
            StoreError::NotFound(_) => ControlError::NotFound {
                what: "service",
                id: imp.service.id.clone(),
            },
            e => e.into(),
        })?;
        self.import_changed(&imp.service).await;
        Ok(())
    }

    /// `POST /services/{sid}/apis/import/{file,text}`: imports an OpenAPI 3.0/3.1 or Swagger 2.0
    /// document (JSON or YAML), replacing the service's APIs and what its previous import
    /// created. `field` names the input in errors.
    pub async fn import_specification(
        &self,
        access: &Allowed<need::ServiceWrite>,
        sid: &str,
        field: &str,
        document: &[u8],
    ) -> ControlResult<wire::ImportServiceConfigurationResult> {
        let tid = access.tenant().clone();
        let service = self.load_service(&tid, sid).await?;
        if document.len() > MAX_SPECIFICATION_BYTES {
            return Err(ControlError::invalid(
                field,
                format!("the specification is larger than {MAX_SPECIFICATION_BYTES} bytes"),
            ));
        }
        if document.iter().all(u8::is_ascii_whitespace) {
            return Err(ControlError::invalid(field, "the specification is empty"));
        }
        let bytes = document.to_vec();
        let doc = self
            .heavy(field, move || crate::spec::read(&bytes))
            .await?
            .map_err(|e| match e {
                crate::spec::SpecError::Unparsable(m) => ControlError::Refused(m),
                crate::spec::SpecError::Invalid(m) => ControlError::invalid(field, m),
            })?;
        self.apply_document(service, doc).await
    }

    /// `POST /services/{sid}/apis/import/url`: as [`Control::import_specification`], with the
    /// document fetched from an https URL (http on loopback).
    pub async fn import_specification_from_url(
        &self,
        access: &Allowed<need::ServiceWrite>,
        sid: &str,
        req: wire::ImportFromUrl,
    ) -> ControlResult<wire::ImportServiceConfigurationResult> {
        let tid = access.tenant().clone();
        self.load_service(&tid, sid).await?;
        let url = req.url.ok_or_else(|| ControlError::invalid("url", "required"))?;
        crate::clients::check_fetch_url("url", &url)?;
        let fetcher = self
            .document_fetcher
            .get()
            .ok_or_else(|| ControlError::Unavailable("this server does not fetch documents".into()))?;
        let body = fetcher
            .fetch(&url, MAX_SPECIFICATION_BYTES)
            .await
            .map_err(|e| ControlError::invalid("url", format!("cannot fetch {url}: {e}")))?;
        self.import_specification(access, sid, "url", &body).await
    }

    async fn apply_document(
        &self,
        service: Service,
        doc: crate::spec::Document,
    ) -> ControlResult<wire::ImportServiceConfigurationResult> {
        use std::collections::{BTreeSet, HashMap};
        let tid = service.tenant_id.clone();
        let sid = service.id.clone();
        let now = self.clock.now();
        let removed_apis = self.store.list_apis(&tid, Some(&sid), None).await?;
        let (removed_policies, kept_policies) = self.previous_import_policies(&tid, &sid).await?;
        let removed_ids: BTreeSet<&str> = removed_policies.iter().map(|p| p.id.as_str()).collect();

        // Scopes: the server's own are reused; the others are created for the service.
        let existing: HashMap<String, castellan_domain::Scope> = self
            .store
            .list_scopes(&tid, &service.server_id)
            .await?
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        let names: BTreeSet<&String> = doc.operations.iter().flat_map(|o| o.scopes.iter()).collect();
        let (mut created_scopes, mut ignored_scopes) = (Vec::new(), Vec::new());
        for name in names {
            crate::scopes::check_scope_name("scopes", name).map_err(|_| {
                ControlError::invalid(
                    "scopes",
                    format!("scope {name:?} of the document is not a valid scope name (RFC 6749 §3.3)"),
                )
            })?;
            match existing.get(name) {
                Some(s) => ignored_scopes.push(s.clone()),
                None => created_scopes.push(castellan_domain::Scope {
                    tenant_id: tid.clone(),
                    server_id: service.server_id.clone(),
                    id: castellan_domain::ScopeId::parse(uuid::Uuid::new_v4().simple().to_string())
                        .map_err(ControlError::internal)?,
                    name: name.clone(),
                    display_name: name.clone(),
                    description: doc
                        .scope_descriptions
                        .get(name)
                        .map(|d| d.chars().take(1024).collect())
                        .unwrap_or_default(),
                    developer_policy_id: None,
                    user_policy_id: None,
                    service_id: Some(sid.clone()),
                    created_at: now,
                }),
            }
        }

        // One `scopes` policy per distinct set of scopes.
        let (mut created_policies, mut ignored_policies) = (Vec::new(), Vec::new());
        let mut policy_of: HashMap<Vec<String>, String> = HashMap::new();
        for op in doc.operations.iter().filter(|o| !o.scopes.is_empty()) {
            if policy_of.contains_key(&op.scopes) {
                continue;
            }
            let id = import_policy_id(&sid, &op.scopes);
            match self.store.get_policy(&tid, &id).await? {
                Some(p) if !removed_ids.contains(id.as_str()) => ignored_policies.push(p),
                _ => created_policies.push(castellan_domain::Policy {
                    tenant_id: tid.clone(),
                    id: id.clone(),
                    name: format!("{}: {}", service.name, op.scopes.join(" ")),
                    language: "cloudentity".into(),
                    validators: serde_json::json!([
                        {"name": "scopes", "conf": {"scopes": op.scopes}, "recovery": []}
                    ]),
                    definition: None,
                    read_only: false,
                    imported_by: Some(sid.clone()),
                    created_at: now,
                    updated_at: now,
                }),
            }
            policy_of.insert(op.scopes.clone(), id);
        }

        // APIs in document order; what does not route beside the earlier ones is ignored.
        let mut routes = ServiceRoutes::default();
        let (mut created_apis, mut ignored_apis) = (Vec::new(), Vec::new());
        for (i, op) in doc.operations.iter().enumerate() {
            let api = Api {
                tenant_id: tid.clone(),
                id: uuid::Uuid::new_v4().simple().to_string(),
                service_id: sid.clone(),
                server_id: service.server_id.clone(),
                method: op.method.clone(),
                path: op.path.clone(),
                position: i as i64 + 1,
                policy_id: policy_of.get(&op.scopes).cloned(),
                data_classifications: Vec::new(),
                can_have_policy: true,
                imported: true,
            };
            let target = RouteTarget {
                api_id: api.id.clone(),
                policy_id: api.policy_id.clone(),
            };
            if api.path.len() > 2048 || routes.add(&api.method, &api.path, target).is_err() {
                ignored_apis.push(wire::Api {
                    id: None,
                    ..api_view(&api)
                });
            } else {
                created_apis.push(api);
            }
        }

        let imp = castellan_store::ServiceImport {
            service: Service {
                with_specification: true,
                ..service
            },
            remove_apis: removed_apis.iter().map(|a| a.id.clone()).collect(),
            remove_policies: removed_policies.iter().map(|p| p.id.clone()).collect(),
            policies: created_policies.clone(),
            scopes: created_scopes.clone(),
            apis: created_apis.clone(),
        };
        self.write_import(&imp).await?;
        Ok(wire::ImportServiceConfigurationResult {
            created_apis: created_apis.iter().map(api_view).collect(),
            created_policies: Self::policy_views(created_policies)?,
            created_scopes: created_scopes.into_iter().map(crate::scopes::scope_view).collect(),
            ignored_apis,
            ignored_policies: Self::policy_views(ignored_policies)?,
            ignored_scopes: ignored_scopes.into_iter().map(crate::scopes::scope_view).collect(),
            not_removed_policies: Self::policy_views(kept_policies)?,
            removed_apis: removed_apis.iter().map(api_view).collect(),
            removed_policies: Self::policy_views(removed_policies)?,
        })
    }
}
