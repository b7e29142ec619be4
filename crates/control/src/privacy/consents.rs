//! Privacy consents (Cloudentity ACP `/consents`): versioned documents people agree to.

use castellan_domain::{ConsentGrant, PrivacyConsent, TenantId};
use castellan_store::PrivacyWrite;
use castellan_types::privacy as wire;

use super::{STRATEGIES, consent_view, normalized_time};
use crate::error::{same_tenant, unchanged};
use crate::validate::check_id;
use crate::validate::name as check_name;
use crate::views::rfc3339;
use crate::{Allowed, Control, ControlError, ControlResult, need};

impl Control {
    pub async fn list_consents(&self, access: &Allowed<need::ConsentRead>) -> ControlResult<wire::Consents> {
        let all = self.store.list_privacy_consents(access.tenant()).await?;
        Ok(wire::Consents {
            consents: all.iter().map(consent_view).collect(),
        })
    }

    pub async fn get_consent(&self, access: &Allowed<need::ConsentRead>, id: &str) -> ControlResult<wire::Consent> {
        Ok(consent_view(&self.load_consent(access.tenant(), id).await?))
    }

    /// Applies the members of `req` over `doc` (all of them on create), checking each.
    pub(crate) fn merge_consent(
        &self,
        tid: &TenantId,
        doc: &mut wire::Consent,
        req: wire::Consent,
    ) -> ControlResult<()> {
        same_tenant(req.tenant_id.as_deref(), tid)?;
        if let Some(n) = req.name {
            check_name("name", &n)?;
            doc.name = Some(n);
        }
        if let Some(d) = req.description {
            if d.len() > 4096 {
                return Err(ControlError::invalid("description", "at most 4096 characters"));
            }
            doc.description = Some(d);
        }
        if let Some(s) = req.update_existing_grants {
            if !STRATEGIES.contains(&s.as_str()) {
                return Err(ControlError::invalid(
                    "update_existing_grants",
                    "explicitAll, implicitAll or keepCurrent",
                ));
            }
            doc.update_existing_grants = Some(s);
        }
        if let Some(v) = req.valid_from {
            doc.valid_from = Some(normalized_time("valid_from", &v)?);
        }
        if req.can_be_withdrawn.is_some() {
            doc.can_be_withdrawn = req.can_be_withdrawn;
        }
        for (field, list) in [
            ("internal_services", &req.internal_services),
            ("third_party_services", &req.third_party_services),
        ] {
            if let Some(l) = list
                && let Some(i) = l.iter().position(|s| s.name.trim().is_empty())
            {
                return Err(ControlError::invalid(format!("{field}[{i}].name"), "required"));
            }
        }
        if let Some(l) = &req.pii_categories
            && let Some(i) = l.iter().position(|p| p.name.trim().is_empty())
        {
            return Err(ControlError::invalid(format!("pii_categories[{i}].name"), "required"));
        }
        if req.internal_services.is_some() {
            doc.internal_services = req.internal_services;
        }
        if req.third_party_services.is_some() {
            doc.third_party_services = req.third_party_services;
        }
        if req.pii_categories.is_some() {
            doc.pii_categories = req.pii_categories;
        }
        Ok(())
    }

    /// `POST /consents`: `id`, `name` and `update_existing_grants` required; version 1.
    pub async fn create_consent(
        &self,
        access: &Allowed<need::ConsentWrite>,
        req: wire::Consent,
    ) -> ControlResult<wire::Consent> {
        let tid = access.tenant().clone();
        let id = req.id.clone().ok_or_else(|| ControlError::invalid("id", "required"))?;
        check_id("id", &id)?;
        if req.name.is_none() {
            return Err(ControlError::invalid("name", "required"));
        }
        if req.update_existing_grants.is_none() {
            return Err(ControlError::invalid(
                "update_existing_grants",
                "required: explicitAll, implicitAll or keepCurrent",
            ));
        }
        let now = self.clock.now();
        let mut doc = wire::Consent {
            id: Some(id.clone()),
            tenant_id: Some(tid.to_string()),
            version: Some(1),
            valid_from: Some(rfc3339(now)),
            can_be_withdrawn: Some(false),
            internal_services: Some(Vec::new()),
            third_party_services: Some(Vec::new()),
            pii_categories: Some(Vec::new()),
            ..Default::default()
        };
        self.merge_consent(&tid, &mut doc, req)?;
        let c = PrivacyConsent {
            tenant_id: tid.clone(),
            id: id.clone(),
            version: 1,
            can_be_withdrawn: doc.can_be_withdrawn.unwrap_or(false),
            update_existing_grants: doc.update_existing_grants.clone().unwrap_or_default(),
            doc,
        };
        let write = PrivacyWrite {
            consent: Some(c.clone()),
            ..Default::default()
        };
        self.write_privacy(&tid, &write).await.map_err(|e| match e {
            ControlError::Internal(m) if m.starts_with("conflict") => ControlError::Conflict { what: "consent", id },
            e => e,
        })?;
        Ok(consent_view(&c))
    }

    /// `PUT /consents/{consent}`: a new version (+1). With `implicitAll`, every current grant
    /// moves to it (an event each); with `explicitAll` they become stale; with `keepCurrent`
    /// they stay as they are and still count.
    pub async fn update_consent(
        &self,
        access: &Allowed<need::ConsentWrite>,
        id: &str,
        req: wire::Consent,
    ) -> ControlResult<wire::Consent> {
        let tid = access.tenant().clone();
        let mut c = self.load_consent(&tid, id).await?;
        unchanged("id", req.id.as_deref(), id, "does not match the consent in the path")?;
        // A new version is valid from now unless the update says from when.
        c.doc.valid_from = Some(rfc3339(self.clock.now()));
        self.merge_consent(&tid, &mut c.doc, req)?;
        c.version += 1;
        c.doc.version = Some(c.version);
        c.can_be_withdrawn = c.doc.can_be_withdrawn.unwrap_or(false);
        c.update_existing_grants = c.doc.update_existing_grants.clone().unwrap_or_default();
        let now = self.clock.now();
        let mut write = PrivacyWrite {
            consent: Some(c.clone()),
            update: true,
            ..Default::default()
        };
        if c.update_existing_grants == "implicitAll" {
            let act = uuid::Uuid::new_v4().to_string();
            for g in self.store.list_consent_grants(&tid, id).await? {
                if g.granted && g.version < c.version {
                    write.grants.push(ConsentGrant {
                        version: c.version,
                        updated_at: now,
                        ..g.clone()
                    });
                    write
                        .events
                        .push(self.event(&tid, &c, &g.subject, true, "implicit", &act, None, None, None, now)?);
                }
            }
        }
        self.write_privacy(&tid, &write).await?;
        Ok(consent_view(&c))
    }

    /// `DELETE /consents/{consent}`: its grants go, its ledger events stay. 400 while an action
    /// groups it.
    pub async fn delete_consent(&self, access: &Allowed<need::ConsentWrite>, id: &str) -> ControlResult<()> {
        let tid = access.tenant().clone();
        self.load_consent(&tid, id).await?;
        let users: Vec<String> = self
            .store
            .list_consent_actions(&tid)
            .await?
            .into_iter()
            .filter(|a| a.consents.iter().any(|(c, _)| c == id))
            .map(|a| a.id)
            .collect();
        if !users.is_empty() {
            return Err(ControlError::InUse(format!(
                "consent {id} is in use by consent actions {}; remove it from them first",
                users.join(", ")
            )));
        }
        if !self.store.delete_privacy_consent(&tid, id).await? {
            return Err(ControlError::NotFound {
                what: "consent",
                id: id.to_owned(),
            });
        }
        Ok(())
    }
}
