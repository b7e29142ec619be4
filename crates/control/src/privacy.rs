//! Privacy consents and consent actions (Cloudentity ACP `/consents`, `/actions`), the privacy API
//! that grants and withdraws them (Castellan's own: `/api/privacy/{tid}/…`), and the privacy
//! ledger those changes append to (`/events`): every grant, withdrawal and implicit version move
//! is one event, signed with the tenant's ledger key and chained to the event before it, in the
//! same transaction as the change.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use castellan_domain::{
    ConsentActionDef, ConsentGrant, LedgerEvent, LedgerKey, NewLedgerEvent, PrivacyConsent, TenantId,
};
use castellan_jose::keys;
use castellan_store::{PrivacyWrite, StoreError};
use castellan_types::Jwk;
use castellan_types::privacy as wire;
use serde_json::{Value, json};

use crate::error::{check_id, check_name, same_tenant, unchanged};
use crate::ledger::KeySigner;
use crate::permissions::rfc3339;
use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult, need};

/// How a new consent version treats existing grants (Cloudentity ACP `update_existing_grants`).
pub const STRATEGIES: [&str; 3] = ["explicitAll", "implicitAll", "keepCurrent"];
const MAX_SUBJECT: usize = 255;

/// A privacy subject: 1 to 255 characters, no control characters (it goes into the signed ledger and
/// the request log, where a CR or LF would forge a line).
pub(crate) fn check_subject(field: &str, v: &str) -> ControlResult<()> {
    if v.is_empty() || v.chars().count() > MAX_SUBJECT || v.chars().any(char::is_control) {
        return Err(ControlError::invalid(
            field,
            "required: 1 to 255 characters without control characters",
        ));
    }
    Ok(())
}

/// A point in time as the ledger's `from` and `to` take it, in Unix seconds (events are dated to
/// the second; a fraction is dropped): an RFC 3339 date-time, or an integer Unix time whose
/// magnitude says its unit — below 10^11 seconds (until the year 5138), below 10^14
/// milliseconds, below 10^17 microseconds, nanoseconds above.
pub(crate) fn instant(field: &str, v: &str) -> ControlResult<i64> {
    use time::format_description::well_known::Rfc3339;
    if v.starts_with('-') && v[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(ControlError::invalid(field, "a time after 1970"));
    }
    // 1 to 19 digits (every such number fits a u64).
    if let Ok(n) = v.parse::<u64>()
        && v.len() <= 19
        && !v.starts_with('+')
    {
        let secs = match n {
            0..100_000_000_000 => n,
            100_000_000_000..100_000_000_000_000 => n / 1_000,
            100_000_000_000_000..100_000_000_000_000_000 => n / 1_000_000,
            _ => n / 1_000_000_000,
        };
        return i64::try_from(secs).map_err(ControlError::internal);
    }
    time::OffsetDateTime::parse(v, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            ControlError::invalid(
                field,
                "an RFC 3339 date-time (2026-11-23T10:00:00Z) or a Unix time in seconds, milliseconds, microseconds or nanoseconds",
            )
        })
}

/// An RFC 3339 date-time as given, fractional seconds kept, in UTC (`…Z`).
fn normalized_time(field: &str, v: &str) -> ControlResult<String> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(v, &Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok())
        .ok_or_else(|| ControlError::invalid(field, "an RFC 3339 date-time, e.g. 2026-11-23T10:00:00.5Z"))
}

/// Who calls the privacy API: an admin credential holding `privacy.*`, a token with the
/// `manage_consents` scope (any subject), or a person's own token (their own subject only).
#[derive(Debug, Clone)]
pub struct PrivacyCaller {
    tenant: TenantId,
    /// `Some(sub)`: may act only for this subject.
    only: Option<String>,
}

impl PrivacyCaller {
    /// An admin credential checked for `privacy.write`.
    pub fn admin_write(a: &Allowed<need::PrivacyWrite>) -> Self {
        Self {
            tenant: a.tenant().clone(),
            only: None,
        }
    }
    /// An admin credential checked for `privacy.read`.
    pub fn admin_read(a: &Allowed<need::PrivacyRead>) -> Self {
        Self {
            tenant: a.tenant().clone(),
            only: None,
        }
    }
    fn may_act_for(&self, subject: &str) -> ControlResult<()> {
        match &self.only {
            Some(own) if own != subject => Err(ControlError::Forbidden(
                "a person's token acts only for its own subject; acting for others needs the manage_consents scope"
                    .into(),
            )),
            _ => Ok(()),
        }
    }
}

/// Opened ledger keys by tenant: opening one (AES-GCM, then parsing the key) costs more than the
/// signature, and a tenant's key never changes once made.
#[derive(Default)]
pub(crate) struct SignerCache(std::sync::RwLock<HashMap<TenantId, Arc<KeySigner>>>);

impl std::fmt::Debug for SignerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignerCache")
    }
}

fn consent_view(c: &PrivacyConsent) -> wire::Consent {
    c.doc.clone()
}

impl Control {
    async fn load_consent(&self, tid: &TenantId, id: &str) -> ControlResult<PrivacyConsent> {
        self.store
            .get_privacy_consent(tid, id)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "consent",
                id: id.to_owned(),
            })
    }

    /// The tenant's ledger signer: its key, made on first use (one per tenant, whichever node
    /// makes it first).
    async fn ledger_signer(&self, tid: &TenantId) -> ControlResult<Arc<KeySigner>> {
        let cached = self
            .ledger_signers
            .0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(tid)
            .cloned();
        if let Some(s) = cached {
            return Ok(s);
        }
        let key = match self.store.get_ledger_key(tid).await? {
            Some(k) => k,
            None => {
                let g = tokio::task::spawn_blocking(|| keys::generate(castellan_domain::SigningAlg::ES256))
                    .await
                    .map_err(ControlError::internal)?
                    .map_err(ControlError::internal)?;
                let sealed = self
                    .master
                    .seal(&castellan_domain::seal::ledger_key(tid, &g.kid), &g.pkcs8)
                    .map_err(ControlError::internal)?;
                let k = LedgerKey {
                    tenant_id: tid.clone(),
                    kid: g.kid,
                    public_jwk: g.public_jwk,
                    private_sealed: sealed,
                    created_at: self.clock.now(),
                };
                self.store.create_ledger_key(&k).await?;
                // Another node may have made it first: use whichever is stored.
                self.store
                    .get_ledger_key(tid)
                    .await?
                    .ok_or_else(|| ControlError::internal("ledger key vanished"))?
            }
        };
        let pkcs8 = self
            .master
            .open(&castellan_domain::seal::ledger_key(tid, &key.kid), &key.private_sealed)
            .map_err(ControlError::internal)?;
        let signer = Arc::new(KeySigner::new(&key.kid, &pkcs8).map_err(ControlError::internal)?);
        self.ledger_signers
            .0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tid.clone(), signer.clone());
        Ok(signer)
    }

    /// The public ledger key as a JWK (`GET /events/key`).
    pub async fn ledger_key(&self, access: &Allowed<need::LedgerRead>) -> ControlResult<Jwk> {
        let tid = access.tenant().clone();
        self.ledger_signer(&tid).await?;
        let k = self
            .store
            .get_ledger_key(&tid)
            .await?
            .ok_or_else(|| ControlError::internal("no ledger key"))?;
        Ok(k.public_jwk)
    }

    // ----- consents -------------------------------------------------------------------------

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
    fn merge_consent(&self, tid: &TenantId, doc: &mut wire::Consent, req: wire::Consent) -> ControlResult<()> {
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

    // ----- consent actions ------------------------------------------------------------------

    async fn action_view(&self, a: &ConsentActionDef) -> ControlResult<wire::ConsentActionWithConsents> {
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

    async fn action_consents(
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

    async fn load_action(&self, tid: &TenantId, id: &str) -> ControlResult<ConsentActionDef> {
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
        self.store.create_consent_action(&a).await.map_err(|e| match e {
            StoreError::Conflict(_) => ControlError::Conflict {
                what: "consent action",
                id,
            },
            e => e.into(),
        })?;
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
        self.store.update_consent_action(&a).await.map_err(|e| match e {
            StoreError::NotFound(_) => ControlError::NotFound {
                what: "consent action",
                id: id.to_owned(),
            },
            e => e.into(),
        })?;
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

    // ----- the privacy API ------------------------------------------------------------------

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
        Ok(PrivacyCaller {
            tenant: rt.tenant_id().clone(),
            only: (!manage).then_some(claims.sub),
        })
    }

    /// Which consents a grant or withdrawal names: an action's, or a list (with versions).
    async fn named_consents(
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

    // ----- the ledger -----------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn event(
        &self,
        tid: &TenantId,
        c: &PrivacyConsent,
        subject: &str,
        granted: bool,
        grant_type: &str,
        act: &str,
        action: Option<&str>,
        context: Option<&wire::GrantContext>,
        language: Option<&str>,
        now: i64,
    ) -> ControlResult<NewLedgerEvent> {
        let kind = if granted { "consent_granted" } else { "consent_revoked" };
        let body = json!({
            "collection_timestamp": i128::from(now) * 1_000_000_000,
            "consent": c.doc,
            "consent_grant_act_id": act,
            "consent_id": c.id,
            "context": context.cloned().unwrap_or_default(),
            "given_at": rfc3339(now),
            "grant_type": grant_type,
            "language": language.unwrap_or(""),
            "subject": subject,
            "tenant_id": tid.as_str(),
            "triggered_by_action": action.unwrap_or(""),
            "version": c.version,
        });
        let payload = json!({ kind: body, "event_type": kind });
        Ok(NewLedgerEvent {
            id: uuid::Uuid::new_v4().to_string(),
            subject: subject.to_owned(),
            date: now,
            event_type: kind.into(),
            payload: serde_json::to_string(&payload).map_err(ControlError::internal)?,
        })
    }

    async fn write_privacy(&self, tid: &TenantId, w: &PrivacyWrite) -> ControlResult<Vec<LedgerEvent>> {
        let signer = self.ledger_signer(tid).await?;
        self.store
            .privacy_write(tid, w, signer.as_ref())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) => ControlError::Internal(format!("conflict: {m}")),
                e => e.into(),
            })
    }

    /// `GET /events?sub&from&to` ([`instant`]s; `to` defaults to now, inclusive).
    pub async fn list_events(
        &self,
        access: &Allowed<need::LedgerRead>,
        subject: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> ControlResult<wire::PrivacyLedgerEvents> {
        let to = to
            .map(|v| instant("to", v))
            .transpose()?
            .unwrap_or_else(|| self.clock.now());
        let from = from.map(|v| instant("from", v)).transpose()?.unwrap_or(0);
        let events = self
            .store
            .list_ledger_events(access.tenant(), subject, from, to)
            .await?;
        Ok(wire::PrivacyLedgerEvents {
            events: events.into_iter().map(event_view).collect::<ControlResult<_>>()?,
        })
    }

    /// Verifies the tenant's whole ledger (`GET /events/verify`, `castellan ledger verify`).
    pub async fn verify_ledger(&self, access: &AdminAccess) -> ControlResult<wire::LedgerVerification> {
        Ok(crate::ledger::verify_stored(self.store.as_ref(), access.tenant()).await?)
    }
}

fn event_view(e: LedgerEvent) -> ControlResult<wire::PrivacyLedgerEvent> {
    Ok(wire::PrivacyLedgerEvent {
        date: rfc3339(e.date),
        id: e.id,
        payload: serde_json::from_str(&e.payload).map_err(ControlError::internal)?,
        payload_signature: e.signature,
        subject: e.subject,
        tenant_id: e.tenant_id.to_string(),
    })
}
