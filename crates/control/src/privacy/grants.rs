//! The privacy API (`/api/privacy/{tid}/…`): who may act for a subject, grants and withdrawals,
//! and what a subject holds.

use std::collections::{HashMap, HashSet};

use castellan_domain::{ConsentGrant, PrivacyConsent, TenantId};
use castellan_store::PrivacyWrite;
use castellan_types::privacy as wire;
use serde_json::Value;

use super::{PrivacyCaller, event_view};
use crate::validate::check_subject;
use crate::views::rfc3339;
use crate::{Control, ControlError, ControlResult};

impl Control {
    /// Authenticates a Bearer token for the privacy API: a token of any server of the tenant.
    /// With the `manage_consents` scope it may act for any subject; otherwise only for its own.
    pub async fn authenticate_privacy_bearer(&self, tid: &str, token: &str) -> ControlResult<PrivacyCaller> {
        let bad = || ControlError::Unauthorized("invalid or expired access token".into());
        let aid = castellan_jose::jwt::parse(token)
            .and_then(|t| t.claims::<Value>())
            .and_then(|c| c.get("aid").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(bad)?;
        let rt = self
            .engine
            .server(tid, &aid)
            .await
            .map_err(ControlError::from)?
            .ok_or_else(bad)?;
        let claims = self
            .engine
            .verify_access_token(&rt, token)
            .await
            .map_err(ControlError::from)?
            .ok_or_else(bad)?;
        let manage = claims.scope.split(' ').any(|s| s == crate::access::MANAGE_CONSENTS);
        if !manage && claims.is_client_own() {
            // A client's own token is about no person: it has no subject of its own to act for.
            return Err(ControlError::Forbidden(
                "a client's own token acts for no subject; acting for subjects needs the manage_consents scope".into(),
            ));
        }
        let actor = if claims.is_client_own() {
            format!("client:{}", claims.client_id)
        } else {
            format!("person:{}", claims.sub)
        };
        Ok(PrivacyCaller {
            tenant: rt.tenant_id().clone(),
            only: (!manage).then_some(claims.sub),
            actor,
        })
    }

    /// Which consents a grant or withdrawal names: an action's, or a list (with versions).
    pub(super) async fn named_consents(
        &self,
        tid: &TenantId,
        req: &wire::ConsentGrantRequest,
    ) -> ControlResult<(Vec<(PrivacyConsent, Option<i64>)>, Option<String>)> {
        match (&req.action, &req.consents) {
            (Some(action), None) => {
                let a = self.store.get_consent_action(tid, action).await?.ok_or_else(|| {
                    ControlError::invalid("action", format!("consent action {action} does not exist"))
                })?;
                let mut out = Vec::new();
                for (cid, _) in &a.consents {
                    if let Some(c) = self.store.get_privacy_consent(tid, cid).await? {
                        out.push((c, None));
                    }
                }
                Ok((out, Some(action.clone())))
            }
            (None, Some(list)) if !list.is_empty() && list.len() <= 100 => {
                let mut out = Vec::new();
                let mut seen = HashSet::new();
                for (i, r) in list.iter().enumerate() {
                    if !seen.insert(r.consent_id.clone()) {
                        return Err(ControlError::invalid(
                            format!("consents[{i}].consent_id"),
                            "listed twice",
                        ));
                    }
                    let c = self
                        .store
                        .get_privacy_consent(tid, &r.consent_id)
                        .await?
                        .ok_or_else(|| {
                            ControlError::invalid(
                                format!("consents[{i}].consent_id"),
                                format!("consent {} does not exist", r.consent_id),
                            )
                        })?;
                    out.push((c, r.version));
                }
                Ok((out, None))
            }
            _ => Err(ControlError::invalid(
                "consents",
                "give either action (a consent action id) or consents (1 to 100 {consent_id, version})",
            )),
        }
    }

    /// `POST /api/privacy/{tid}/consents/grant` (`granted`) and `…/withdraw` (`!granted`).
    pub async fn change_consents(
        &self,
        caller: &PrivacyCaller,
        req: wire::ConsentGrantRequest,
        granted: bool,
    ) -> ControlResult<wire::ConsentGrantResult> {
        let tid = caller.tenant.clone();
        let subject = req.subject.clone().unwrap_or_default();
        check_subject("subject", &subject)?;
        caller.may_act_for(&subject)?;
        if let Some(l) = &req.language
            && (l.is_empty() || l.len() > 35)
        {
            return Err(ControlError::invalid("language", "a language tag such as en or nb-NO"));
        }
        let (consents, action) = self.named_consents(&tid, &req).await?;
        // What the subject holds matters only to a withdrawal (a grant replaces it).
        let current: HashMap<String, ConsentGrant> = if granted {
            HashMap::new()
        } else {
            self.store
                .list_subject_grants(&tid, &subject)
                .await?
                .into_iter()
                .map(|g| (g.consent_id.clone(), g))
                .collect()
        };
        let now = self.clock.now();
        let act = uuid::Uuid::new_v4().to_string();
        let mut write = PrivacyWrite::default();
        for (i, (c, version)) in consents.iter().enumerate() {
            let field = format!("consents[{i}].version");
            if let Some(v) = version
                && *v != c.version
            {
                return Err(ControlError::invalid(
                    field,
                    format!("consent {} is at version {}, not {v}", c.id, c.version),
                ));
            }
            if !granted {
                if !c.can_be_withdrawn {
                    return Err(ControlError::invalid(
                        format!("consents[{i}]"),
                        format!("consent {} cannot be withdrawn (can_be_withdrawn is false)", c.id),
                    ));
                }
                if !current.get(&c.id).is_some_and(|g| g.granted) {
                    return Err(ControlError::invalid(
                        format!("consents[{i}]"),
                        format!("{subject} holds no grant of consent {}", c.id),
                    ));
                }
            }
            let version = if granted {
                c.version
            } else {
                current.get(&c.id).map_or(c.version, |g| g.version)
            };
            write.grants.push(ConsentGrant {
                tenant_id: tid.clone(),
                subject: subject.clone(),
                consent_id: c.id.clone(),
                version,
                granted,
                updated_at: now,
            });
            write.events.push(self.event(
                &tid,
                c,
                &subject,
                granted,
                "explicit",
                &act,
                action.as_deref(),
                req.context.as_ref(),
                req.language.as_deref(),
                now,
            )?);
        }
        let appended = self.write_privacy(&tid, &write).await?;
        Ok(wire::ConsentGrantResult {
            subject,
            events: appended.into_iter().map(event_view).collect::<ControlResult<_>>()?,
        })
    }

    /// `GET /api/privacy/{tid}/subjects/{sub}/consents`.
    pub async fn subject_consents(
        &self,
        caller: &PrivacyCaller,
        subject: &str,
    ) -> ControlResult<wire::SubjectConsents> {
        caller.may_act_for(subject)?;
        let tid = &caller.tenant;
        let consents: HashMap<String, PrivacyConsent> = self
            .store
            .list_privacy_consents(tid)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let mut out = Vec::new();
        for g in self.store.list_subject_grants(tid, subject).await? {
            let Some(c) = consents.get(&g.consent_id) else {
                continue;
            };
            out.push(wire::ConsentStatus {
                status: g.status(c).into(),
                consent_id: g.consent_id,
                version: g.version,
                current_version: c.version,
                updated_at: rfc3339(g.updated_at),
            });
        }
        Ok(wire::SubjectConsents {
            subject: subject.to_owned(),
            consents: out,
        })
    }

    /// What the policy `consent` validator sees of a subject: the consents they hold a current
    /// grant of, and every consent action's required consents.
    pub async fn policy_consents(&self, tid: &TenantId, subject: &str) -> ControlResult<castellan_policy::Consents> {
        self.engine
            .subject_consents(tid, subject)
            .await
            .map_err(|e| ControlError::Internal(e.description))
    }
}
