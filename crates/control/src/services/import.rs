//! Importing an OpenAPI or Swagger document into a service: its operations become the service's
//! APIs, their OAuth scopes scopes of its server, each scope set a policy.

use castellan_domain::{Api, Service, TenantId};
use castellan_policy::routes::{RouteTarget, ServiceRoutes};
use castellan_store::StoreError;
use castellan_types::services as wire;

use super::api_view;
use crate::{Allowed, Control, ControlError, ControlResult, need};

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
    pub(super) async fn previous_import_policies(
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

    pub(super) fn policy_views(
        list: Vec<castellan_domain::Policy>,
    ) -> ControlResult<Vec<castellan_types::policies::Policy>> {
        list.into_iter().map(crate::views::policy).collect()
    }

    pub(super) async fn write_import(&self, imp: &castellan_store::ServiceImport) -> ControlResult<()> {
        // The store says what the import changed; this node drops exactly that.
        let changes = self.store.apply_service_import(imp).await.map_err(|e| match e {
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
        self.engine.apply(&changes).await;
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
        crate::validate::check_fetch_url("url", &url)?;
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

    pub(super) async fn apply_document(
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
            crate::validate::check_scope_name("scopes", name).map_err(|_| {
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
            created_scopes: created_scopes.into_iter().map(crate::views::scope).collect(),
            ignored_apis,
            ignored_policies: Self::policy_views(ignored_policies)?,
            ignored_scopes: ignored_scopes.into_iter().map(crate::views::scope).collect(),
            not_removed_policies: Self::policy_views(kept_policies)?,
            removed_apis: removed_apis.iter().map(api_view).collect(),
            removed_policies: Self::policy_views(removed_policies)?,
        })
    }
}
