//! Scopes (Cloudentity ACP `createScope` and friends). A scope belongs to one server; its name is unique
//! there and is what clients and tokens carry.

use castellan_domain::{AuthorizationServer, Scope, ScopeId};
use castellan_types as wire;

use crate::access::need;
use crate::error::{Named, conflict, missing, unchanged};
use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult};

/// A scope with the service it belongs to, as the API shows it.
fn with_service(scope: Scope, service: Option<&castellan_domain::Service>) -> wire::ScopeWithService {
    wire::ScopeWithService {
        scope: crate::views::scope(scope),
        service: service.map(crate::views::service),
        with_service: service.is_some(),
    }
}

use crate::validate::check_scope_name;

/// Length limits of a scope's free-text fields.
pub(crate) fn check_texts(req: &wire::ScopeRequest) -> ControlResult<()> {
    for (field, v, max) in [
        ("display_name", &req.display_name, 256),
        ("description", &req.description, 1024),
        ("developer_policy_id", &req.developer_policy_id, 128),
        ("user_policy_id", &req.user_policy_id, 128),
        ("service_id", &req.service_id, 128),
    ] {
        if v.as_ref().is_some_and(|s| s.chars().count() > max) {
            return Err(ControlError::invalid(
                field,
                format!("must be at most {max} characters"),
            ));
        }
    }
    Ok(())
}

impl Control {
    /// 422 unless the scope's `service_id` names a service of the scope's server.
    async fn check_scope_service(&self, scope: &Scope) -> ControlResult<()> {
        let Some(sid) = scope.service_id.as_deref() else {
            return Ok(());
        };
        match self.store.get_service(&scope.tenant_id, sid).await? {
            Some(s) if s.server_id == scope.server_id => Ok(()),
            Some(_) => Err(ControlError::invalid(
                "service_id",
                format!("service {sid} belongs to another authorization server"),
            )),
            None => Err(ControlError::invalid(
                "service_id",
                format!("service {sid} does not exist"),
            )),
        }
    }
}

impl Control {
    async fn load_scope(&self, access: &AdminAccess, id: &str) -> ControlResult<Scope> {
        let not_found = || ControlError::NotFound {
            what: "scope",
            id: id.to_owned(),
        };
        let sid = ScopeId::parse(id).map_err(|_| not_found())?;
        self.store.get_scope(access.tenant(), &sid).await?.ok_or_else(not_found)
    }

    pub async fn create_scope(
        &self,
        access: &Allowed<need::ScopeWrite>,
        req: wire::ScopeRequest,
    ) -> ControlResult<wire::Scope> {
        crate::error::same_tenant(req.tenant_id.as_deref(), access.tenant())?;
        let name = req
            .name
            .clone()
            .ok_or_else(|| ControlError::invalid("name", "is required"))?;
        check_scope_name("name", &name)?;
        let aid = req
            .authorization_server_id
            .clone()
            .ok_or_else(|| ControlError::invalid("authorization_server_id", "is required"))?;
        let server = self.load_server(access, &aid).await?;
        let id = match &req.id {
            Some(id) => ScopeId::parse(id.as_str()).map_err(|e| ControlError::invalid("id", e.to_string()))?,
            None => ScopeId::parse(uuid::Uuid::new_v4().simple().to_string()).map_err(ControlError::internal)?,
        };
        check_texts(&req)?;
        let scope = Scope {
            tenant_id: server.tenant_id.clone(),
            server_id: server.id.clone(),
            id: id.clone(),
            display_name: req.display_name.unwrap_or_else(|| name.clone()),
            name,
            description: req.description.unwrap_or_default(),
            developer_policy_id: req.developer_policy_id.filter(|s| !s.is_empty()),
            user_policy_id: req.user_policy_id.filter(|s| !s.is_empty()),
            service_id: req.service_id.filter(|s| !s.is_empty()),
            created_at: self.clock.now(),
        };
        self.check_policy_ids(
            &scope.tenant_id,
            [
                ("developer_policy_id", scope.developer_policy_id.as_deref()),
                ("user_policy_id", scope.user_policy_id.as_deref()),
            ],
        )
        .await?;
        self.check_scope_service(&scope).await?;
        let changes = self.store.create_scope(&scope).await.named(
            conflict(
                "scope",
                format!(
                    "{} (id {} or name {:?} on server {})",
                    id, id, scope.name, scope.server_id
                ),
            )
            .missing("authorization server", aid.clone()),
        )?;
        self.engine.apply(&changes).await;
        Ok(crate::views::scope(scope))
    }

    /// The scope with the service it names (`ScopeWithService`).
    pub async fn get_scope(
        &self,
        access: &Allowed<need::ScopeRead>,
        id: &str,
    ) -> ControlResult<wire::ScopeWithService> {
        let scope = self.load_scope(access, id).await?;
        let service = match &scope.service_id {
            Some(sid) => self.store.get_service(&scope.tenant_id, sid).await?,
            None => None,
        };
        Ok(with_service(scope, service.as_ref()))
    }

    pub async fn list_scopes(&self, access: &Allowed<need::ScopeRead>, aid: &str) -> ControlResult<wire::Scopes> {
        let server = self.load_server(access, aid).await?;
        let scopes = self.store.list_scopes(&server.tenant_id, &server.id).await?;
        let services: std::collections::HashMap<String, castellan_domain::Service> =
            if scopes.iter().any(|s| s.service_id.is_some()) {
                self.store
                    .list_services(&server.tenant_id, None)
                    .await?
                    .into_iter()
                    .map(|s| (s.id.clone(), s))
                    .collect()
            } else {
                Default::default()
            };
        Ok(wire::Scopes {
            scopes: scopes
                .into_iter()
                .map(|s| {
                    let svc = s.service_id.as_ref().and_then(|id| services.get(id));
                    with_service(s, svc)
                })
                .collect(),
        })
    }

    /// Omitted fields keep their value. The name and server cannot change: clients and issued
    /// tokens refer to the scope by name.
    pub async fn update_scope(
        &self,
        access: &Allowed<need::ScopeWrite>,
        id: &str,
        req: wire::ScopeRequest,
    ) -> ControlResult<wire::Scope> {
        crate::error::same_tenant(req.tenant_id.as_deref(), access.tenant())?;
        let mut scope = self.load_scope(access, id).await?;
        unchanged(
            "id",
            req.id.as_deref(),
            scope.id.as_str(),
            "does not match the scope in the path",
        )?;
        unchanged(
            "name",
            req.name.as_deref(),
            &scope.name,
            "cannot be changed; create a new scope instead",
        )?;
        unchanged(
            "authorization_server_id",
            req.authorization_server_id.as_deref(),
            scope.server_id.as_str(),
            "a scope cannot move to another server",
        )?;
        check_texts(&req)?;
        if let Some(v) = req.display_name {
            scope.display_name = v;
        }
        if let Some(v) = req.description {
            scope.description = v;
        }
        for (v, slot) in [
            (req.developer_policy_id, &mut scope.developer_policy_id),
            (req.user_policy_id, &mut scope.user_policy_id),
            (req.service_id, &mut scope.service_id),
        ] {
            if let Some(v) = v {
                *slot = (!v.is_empty()).then_some(v);
            }
        }
        self.check_policy_ids(
            &scope.tenant_id,
            [
                ("developer_policy_id", scope.developer_policy_id.as_deref()),
                ("user_policy_id", scope.user_policy_id.as_deref()),
            ],
        )
        .await?;
        self.check_scope_service(&scope).await?;
        let changes = self
            .store
            .update_scope(&scope)
            .await
            .named(missing("scope", id.to_owned()))?;
        self.engine.apply(&changes).await;
        Ok(crate::views::scope(scope))
    }

    /// Deletes the scope and takes it off every client of its server, in one transaction.
    pub async fn delete_scope(&self, access: &Allowed<need::ScopeWrite>, id: &str) -> ControlResult<()> {
        let scope = self.load_scope(access, id).await?;
        let Some(changes) = self.store.delete_scope(&scope.tenant_id, &scope.id).await? else {
            return Err(ControlError::NotFound {
                what: "scope",
                id: id.to_owned(),
            });
        };
        self.engine.apply(&changes).await;
        Ok(())
    }

    /// Checks that every name is a scope of `aid`; the error names the first that is not.
    pub(crate) async fn check_scopes_exist(&self, server: &AuthorizationServer, names: &[String]) -> ControlResult<()> {
        if names.is_empty() {
            return Ok(());
        }
        let known = self.store.list_scopes(&server.tenant_id, &server.id).await?;
        scopes_among(server, names, |n| known.iter().any(|s| s.name == n))
    }
}

/// Checks that every name is one `known` accepts (a scope of `server`); the error names the
/// first that is not.
pub(crate) fn scopes_among(
    server: &AuthorizationServer,
    names: &[String],
    known: impl Fn(&str) -> bool,
) -> ControlResult<()> {
    let aid = &server.id;
    for (i, n) in names.iter().enumerate() {
        if !known(n) {
            return Err(ControlError::invalid(
                format!("scopes[{i}]"),
                format!("no scope {n:?} on authorization server {aid}"),
            ));
        }
    }
    Ok(())
}
