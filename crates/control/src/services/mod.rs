//! Services and their APIs (Cloudentity ACP `/services`, `/apis`): a service belongs to an
//! authorization server and holds APIs (a method and a path template, optionally protected by a
//! policy). APIs of a service with an imported specification come only from the import.

use castellan_domain::{Api, ServerId, Service, TenantId};
use castellan_types::services as wire;

use crate::error::{Named, conflict, unchanged};
use crate::validate::check_id;
use crate::validate::name as check_name;
use crate::{Allowed, Control, ControlError, ControlResult, need};

mod apis;
mod import;

pub use import::{DocumentFetcher, MAX_SPECIFICATION_BYTES};

/// The methods an API may have (upper case; the server upper-cases what it is given).
pub const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];

pub(crate) fn api_view(a: &Api) -> wire::Api {
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
    pub(super) fn keeps(&self, a: &Api) -> bool {
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
    pub(super) async fn load_service(&self, tid: &TenantId, sid: &str) -> ControlResult<Service> {
        self.store
            .get_service(tid, sid)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "service",
                id: sid.to_owned(),
            })
    }

    pub(super) async fn load_api(&self, tid: &TenantId, id: &str) -> ControlResult<Api> {
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
        let changes = self.store.create_service(&s).await.named(conflict("service", id))?;
        self.engine.apply(&changes).await;
        Ok(crate::views::service(&s))
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
            .map(crate::views::scope)
            .collect();
        Ok(wire::ServiceWithScopesResponse {
            service: crate::views::service(&s),
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
                    service: crate::views::service(s),
                    protected_by_lambda_authorizer: false,
                })
                .collect(),
        })
    }

    pub(super) async fn server_id_of(&self, tid: &TenantId, aid: &str) -> ControlResult<ServerId> {
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
        let changes = self.store.update_service(&s).await?;
        self.engine.apply(&changes).await;
        Ok(crate::views::service(&s))
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
        let Some(changes) = self.store.delete_service(&tid, sid).await? else {
            return Err(ControlError::NotFound {
                what: "service",
                id: sid.to_owned(),
            });
        };
        self.engine.apply(&changes).await;
        Ok(())
    }
}
