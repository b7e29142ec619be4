//! Consent actions (Cloudentity ACP `/actions`): the consents one step of an application asks for.

use castellan_domain::{ConsentActionDef, TenantId};
use castellan_types::privacy as wire;

use super::consent_view;
use crate::error::{Named, conflict, missing, same_tenant, unchanged};
use crate::validate::check_id;
use crate::validate::name as check_name;
use crate::{Allowed, Control, ControlError, ControlResult, need};

impl Control {
    pub(crate) async fn action_view(&self, a: &ConsentActionDef) -> ControlResult<wire::ConsentActionWithConsents> {
        let mut consents = Vec::new();
        for (cid, required) in &a.consents {
            if let Some(c) = self.store.get_privacy_consent(&a.tenant_id, cid).await? {
                consents.push(wire::ActionConsent {
                    consent: consent_view(&c),
                    required: Some(*required),
                });
            }
        }
        Ok(wire::ConsentActionWithConsents {
            consents: Some(consents),
            description: a.description.clone(),
            id: Some(a.id.clone()),
            name: Some(a.name.clone()),
            tenant_id: Some(a.tenant_id.to_string()),
        })
    }

    pub(super) async fn action_consents(
        &self,
        tid: &TenantId,
        list: Vec<wire::ActionConsent>,
    ) -> ControlResult<Vec<(String, bool)>> {
        let mut out: Vec<(String, bool)> = Vec::new();
        for (i, c) in list.into_iter().enumerate() {
            let id = c
                .consent
                .id
                .ok_or_else(|| ControlError::invalid(format!("consents[{i}].id"), "required"))?;
            if self.store.get_privacy_consent(tid, &id).await?.is_none() {
                return Err(ControlError::invalid(
                    format!("consents[{i}].id"),
                    format!("consent {id} does not exist"),
                ));
            }
            if out.iter().any(|(o, _)| *o == id) {
                return Err(ControlError::invalid(format!("consents[{i}].id"), "listed twice"));
            }
            out.push((id, c.required.unwrap_or(false)));
        }
        Ok(out)
    }

    pub async fn list_consent_actions(
        &self,
        access: &Allowed<need::ConsentRead>,
    ) -> ControlResult<wire::ConsentActions> {
        let all = self.store.list_consent_actions(access.tenant()).await?;
        Ok(wire::ConsentActions {
            consent_actions: all
                .into_iter()
                .map(|a| wire::ConsentAction {
                    description: a.description,
                    id: a.id,
                    name: a.name,
                    tenant_id: a.tenant_id.to_string(),
                })
                .collect(),
        })
    }

    pub(super) async fn load_action(&self, tid: &TenantId, id: &str) -> ControlResult<ConsentActionDef> {
        self.store
            .get_consent_action(tid, id)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "consent action",
                id: id.to_owned(),
            })
    }

    pub async fn get_consent_action(
        &self,
        access: &Allowed<need::ConsentRead>,
        id: &str,
    ) -> ControlResult<wire::ConsentActionWithConsents> {
        let a = self.load_action(access.tenant(), id).await?;
        self.action_view(&a).await
    }

    /// `POST /actions`: `id` and `name` required; every consent must exist.
    pub async fn create_consent_action(
        &self,
        access: &Allowed<need::ConsentWrite>,
        req: wire::ConsentActionWithConsents,
    ) -> ControlResult<wire::ConsentActionWithConsents> {
        let tid = access.tenant().clone();
        let id = req.id.ok_or_else(|| ControlError::invalid("id", "required"))?;
        check_id("id", &id)?;
        let name = req.name.ok_or_else(|| ControlError::invalid("name", "required"))?;
        check_name("name", &name)?;
        same_tenant(req.tenant_id.as_deref(), &tid)?;
        let a = ConsentActionDef {
            tenant_id: tid.clone(),
            id: id.clone(),
            name,
            description: req.description,
            consents: self.action_consents(&tid, req.consents.unwrap_or_default()).await?,
        };
        self.store
            .create_consent_action(&a)
            .await
            .named(conflict("consent action", id))?;
        self.action_view(&a).await
    }

    /// `PUT /actions/{action}`: members given replace the stored ones.
    pub async fn update_consent_action(
        &self,
        access: &Allowed<need::ConsentWrite>,
        id: &str,
        req: wire::ConsentActionWithConsents,
    ) -> ControlResult<wire::ConsentActionWithConsents> {
        let tid = access.tenant().clone();
        let mut a = self.load_action(&tid, id).await?;
        unchanged(
            "id",
            req.id.as_deref(),
            id,
            "does not match the consent action in the path",
        )?;
        same_tenant(req.tenant_id.as_deref(), &tid)?;
        if let Some(n) = req.name {
            check_name("name", &n)?;
            a.name = n;
        }
        if req.description.is_some() {
            a.description = req.description;
        }
        if let Some(list) = req.consents {
            a.consents = self.action_consents(&tid, list).await?;
        }
        self.store
            .update_consent_action(&a)
            .await
            .named(missing("consent action", id.to_owned()))?;
        self.action_view(&a).await
    }

    pub async fn delete_consent_action(&self, access: &Allowed<need::ConsentWrite>, id: &str) -> ControlResult<()> {
        if !self.store.delete_consent_action(access.tenant(), id).await? {
            return Err(ControlError::NotFound {
                what: "consent action",
                id: id.to_owned(),
            });
        }
        Ok(())
    }
}
