//! APIs of a service (Cloudentity ACP `/apis`): a method and a path template, optionally
//! protected by a policy, that must route beside the service's others.

use std::collections::BTreeMap;

use castellan_domain::{Api, Service, TenantId};
use castellan_policy::routes::{RouteTarget, ServiceRoutes};
use castellan_types::services as wire;

use super::{ApiFilter, METHODS, api_view, check_classifications};
use crate::error::{Named, conflict, unchanged};
use crate::validate::check_id;
use crate::{Allowed, Control, ControlError, ControlResult, need};

impl Control {
    /// 422 naming `field` unless the policy exists.
    pub(super) async fn check_api_policy(&self, tid: &TenantId, policy: Option<&str>) -> ControlResult<()> {
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
        let changes = self.store.create_api(&api).await.named(conflict(
            "API",
            format!("{id} ({} {} in service {})", api.method, api.path, api.service_id),
        ))?;
        self.engine.apply(&changes).await;
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
        let changes = self.store.update_api(&api).await?;
        self.engine.apply(&changes).await;
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
        if let Some(changes) = self.store.delete_api(&tid, id).await? {
            self.engine.apply(&changes).await;
        }
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
