//! Policies (Cloudentity ACP `/api/admin/{tid}/policies`): stored as given, compiled by
//! `castellan-policy` on every write (so a bad one is a 422 naming the member) and again when a
//! tenant's configuration is loaded.

use std::collections::HashSet;

use castellan_domain::{Policy, ServerSettings, TenantId};
use castellan_types::policies as wire;

use crate::error::{Named, conflict, missing, unchanged};
use crate::validate::check_id;
use crate::validate::name as check_name;
use crate::{Allowed, Control, ControlError, ControlResult, need};

impl Control {
    /// Compiles `p` as evaluation will (a policy that is stored always compiles), off the
    /// request workers and a few at a time.
    pub(crate) async fn compile(&self, p: &Policy) -> ControlResult<()> {
        // A policy of no validators would pass every request: say so rather than store it.
        if p.language != "rego" && p.validators.as_array().is_none_or(Vec::is_empty) {
            return Err(ControlError::invalid(
                "validators",
                "at least one validator; to let every request through, use the built-in policy allow",
            ));
        }
        let p = p.clone();
        let rego = self.engine.rego().clone();
        self.heavy("definition", move || {
            castellan_oauth::compile_policy(&p, &rego).map(|_| ())
        })
        .await?
        .map_err(|e| ControlError::invalid(e.field, e.reason))
    }
}

pub(crate) fn language(v: Option<&str>) -> ControlResult<String> {
    match v {
        None | Some("") => Ok("cloudentity".into()),
        Some(l) if castellan_policy::Language::parse(l).is_some() => Ok(l.into()),
        Some(l) => Err(ControlError::invalid(
            "language",
            format!("unknown language {l:?}; languages are cloudentity and rego"),
        )),
    }
}

impl Control {
    async fn load_policy(&self, tid: &TenantId, pid: &str) -> ControlResult<Policy> {
        self.store
            .get_policy(tid, pid)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "policy",
                id: pid.to_owned(),
            })
    }

    /// 422 naming the member when a policy id given to a server or scope does not exist.
    pub(crate) async fn check_policy_ids<'a>(
        &self,
        tid: &TenantId,
        ids: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> ControlResult<()> {
        for (field, id) in ids {
            if let Some(id) = id
                && self.store.get_policy(tid, id).await?.is_none()
            {
                return Err(ControlError::invalid(field, format!("policy {id} does not exist")));
            }
        }
        Ok(())
    }

    pub(crate) async fn check_server_policies(&self, tid: &TenantId, s: &ServerSettings) -> ControlResult<()> {
        self.check_policy_ids(
            tid,
            [
                ("developer_policy_id", s.developer_policy_id.as_deref()),
                ("user_policy_id", s.user_policy_id.as_deref()),
            ],
        )
        .await
    }

    /// `GET /policies`: every policy of the tenant, by id.
    pub async fn list_policies(&self, access: &Allowed<need::PolicyRead>) -> ControlResult<wire::Policies> {
        let all = self.store.list_policies(access.tenant()).await?;
        Ok(wire::Policies {
            policies: all
                .into_iter()
                .map(crate::views::policy)
                .collect::<ControlResult<_>>()?,
        })
    }

    pub async fn get_policy(&self, access: &Allowed<need::PolicyRead>, pid: &str) -> ControlResult<wire::Policy> {
        crate::views::policy(self.load_policy(access.tenant(), pid).await?)
    }

    /// `POST /policies`: `id` and `policy_name` required; compiled before it is stored.
    pub async fn create_policy(
        &self,
        access: &Allowed<need::PolicyWrite>,
        req: wire::PolicyRequest,
    ) -> ControlResult<wire::Policy> {
        let tid = access.tenant().clone();
        let id = req.id.clone().ok_or_else(|| ControlError::invalid("id", "required"))?;
        check_id("id", &id)?;
        let name = req
            .policy_name
            .clone()
            .ok_or_else(|| ControlError::invalid("policy_name", "required"))?;
        check_name("policy_name", &name)?;
        unchanged(
            "tenant_id",
            req.tenant_id.as_deref(),
            tid.as_str(),
            "must be the tenant of the path",
        )?;
        let now = self.clock.now();
        let p = Policy {
            tenant_id: tid.clone(),
            id,
            name,
            language: language(req.language.as_deref())?,
            validators: serde_json::to_value(req.validators.unwrap_or_default()).map_err(ControlError::internal)?,
            definition: req.definition.filter(|d| !d.is_empty()),
            read_only: false,
            imported_by: None,
            created_at: now,
            updated_at: now,
        };
        self.compile(&p).await?;
        let changes = self
            .store
            .create_policy(&p)
            .await
            .named(conflict("policy", p.id.clone()))?;
        self.engine.apply(&changes).await;
        crate::views::policy(p)
    }

    /// `PUT /policies/{pid}`: members given replace the stored ones.
    pub async fn update_policy(
        &self,
        access: &Allowed<need::PolicyWrite>,
        pid: &str,
        req: wire::PolicyRequest,
    ) -> ControlResult<wire::Policy> {
        let tid = access.tenant().clone();
        let mut p = self.load_policy(&tid, pid).await?;
        if p.read_only {
            return Err(ControlError::Refused(format!(
                "policy {pid} is built in and cannot be changed"
            )));
        }
        unchanged("id", req.id.as_deref(), pid, "does not match the policy in the path")?;
        unchanged(
            "tenant_id",
            req.tenant_id.as_deref(),
            tid.as_str(),
            "must be the tenant of the path",
        )?;
        if self.guards_admin_sign_in(&tid, pid).await? {
            access.require_holds(&self.admin_server_yields(&tid).await?, || {
                format!("policy {pid} decides who signs in to the admin server; it")
            })?;
        }
        if let Some(name) = req.policy_name {
            check_name("policy_name", &name)?;
            p.name = name;
        }
        if let Some(l) = req.language.as_deref() {
            p.language = language(Some(l))?;
        }
        if let Some(v) = req.validators {
            p.validators = serde_json::to_value(v).map_err(ControlError::internal)?;
        }
        if let Some(d) = req.definition {
            p.definition = (!d.is_empty()).then_some(d);
        }
        p.updated_at = self.clock.now();
        self.compile(&p).await?;
        let changes = self
            .store
            .update_policy(&p)
            .await
            .named(missing("policy", pid.to_owned()))?;
        self.engine.apply(&changes).await;
        crate::views::policy(p)
    }

    /// `DELETE /policies/{pid}`: 400 for a built-in policy and for one in use, naming its users.
    pub async fn delete_policy(&self, access: &Allowed<need::PolicyWrite>, pid: &str) -> ControlResult<()> {
        let tid = access.tenant().clone();
        let p = self.load_policy(&tid, pid).await?;
        if p.read_only {
            return Err(ControlError::Refused(format!(
                "policy {pid} is built in and cannot be deleted"
            )));
        }
        let users = self.policy_users(&tid, pid).await?;
        if !users.is_empty() {
            return Err(ControlError::InUse(format!(
                "policy {pid} is in use by {}; remove it from them first",
                users.join(", ")
            )));
        }
        let Some(changes) = self.store.delete_policy(&tid, pid).await? else {
            return Err(ControlError::NotFound {
                what: "policy",
                id: pid.to_owned(),
            });
        };
        self.engine.apply(&changes).await;
        Ok(())
    }

    /// Whether policy `pid` decides who signs in to the tenant's admin server, or which of its
    /// scopes they get: changing it changes who obtains admin credentials.
    async fn guards_admin_sign_in(&self, tid: &TenantId, pid: &str) -> ControlResult<bool> {
        let admin =
            castellan_domain::ServerId::parse(castellan_domain::ADMIN_SERVER).map_err(ControlError::internal)?;
        let Some(server) = self.store.get_server(tid, &admin).await? else {
            return Ok(false);
        };
        if server.settings.user_policy_id.as_deref() == Some(pid) {
            return Ok(true);
        }
        Ok(self
            .store
            .list_scopes(tid, &admin)
            .await?
            .iter()
            .any(|sc| sc.user_policy_id.as_deref() == Some(pid)))
    }

    /// What refers to policy `pid`: `server shop (user_policy_id)`, `scope orders.read on shop
    /// (developer_policy_id)`.
    async fn policy_users(&self, tid: &TenantId, pid: &str) -> ControlResult<Vec<String>> {
        let mut users = Vec::new();
        let servers = self.store.list_servers(tid).await?;
        for s in &servers {
            for (field, v) in [
                ("developer_policy_id", &s.settings.developer_policy_id),
                ("user_policy_id", &s.settings.user_policy_id),
            ] {
                if v.as_deref() == Some(pid) {
                    users.push(format!("server {} ({field})", s.id));
                }
            }
        }
        let mut seen = HashSet::new();
        for sc in self.store.list_tenant_scopes(tid).await? {
            for (field, v) in [
                ("developer_policy_id", &sc.developer_policy_id),
                ("user_policy_id", &sc.user_policy_id),
            ] {
                if v.as_deref() == Some(pid) && seen.insert((sc.id.to_string(), field)) {
                    users.push(format!("scope {} on {} ({field})", sc.name, sc.server_id));
                }
            }
        }
        for a in self.store.list_apis(tid, None, None).await? {
            if a.policy_id.as_deref() == Some(pid) {
                users.push(format!("API {} {} of service {}", a.method, a.path, a.service_id));
            }
        }
        Ok(users)
    }

    /// `POST /policies/{pid}/test`: evaluates the stored policy against `input`.
    /// Naming a `subject` reads that person's consent grants, which needs `privacy.read` too
    /// (the privacy API asks the same).
    pub async fn test_policy(
        &self,
        access: &Allowed<need::PolicyRead>,
        pid: &str,
        input: wire::PolicyTestRequest,
    ) -> ControlResult<wire::PolicyTestResult> {
        if let Some(sub) = input.subject.as_deref() {
            if !access.held().allows(<need::PrivacyRead as crate::Need>::PERMISSION) {
                return Err(ControlError::Forbidden(
                    "testing a policy for a subject reads their consent grants: that requires the privacy.read permission too"
                        .into(),
                ));
            }
            crate::validate::check_subject("subject", sub)?;
        }
        let p = self.load_policy(access.tenant(), pid).await?;
        let request = input.request.map(|r| castellan_policy::Request {
            method: r.method,
            path: r.path,
            headers: r.headers,
        });
        let consents = match input.subject.as_deref() {
            Some(sub) => self.policy_consents(access.tenant(), sub).await?,
            None => castellan_policy::Consents {
                granted: input.consents.into_iter().collect(),
                actions: input.consent_actions,
            },
        };
        let rego = self.engine.rego().clone();
        // Compiled as the snapshot compiles it, and evaluated off the request workers (a Rego
        // evaluation waits for its worker process).
        let d = self
            .heavy("policy", move || {
                let compiled =
                    castellan_oauth::load_policy(&p, &rego).map_err(|e| ControlError::internal(e.to_string()))?;
                Ok::<_, ControlError>(compiled.evaluate(&castellan_policy::Input {
                    authentication_context: &input.authentication_context,
                    client: &input.client,
                    scopes: &input.scopes,
                    request: request.as_ref(),
                    consents: &consents,
                }))
            })
            .await??;
        Ok(wire::PolicyTestResult {
            result: if d.pass { "pass" } else { "fail" }.into(),
            failed_validator: d.failed_validator,
            recovery: d
                .recovery
                .into_iter()
                .map(|r| wire::Recovery {
                    id: r.id,
                    type_: r.kind,
                })
                .collect(),
            reason: d.reason,
        })
    }
}
