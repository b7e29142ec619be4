//! The admin audit trail: one signed, chained event per management write, appended to the
//! acting tenant's trail with the tenant's ledger key (a chain of its own, `"chain": "audit"` in
//! every link), listed at `GET /api/admin/{tid}/audit` and verified like the privacy ledger.
//!
//! The HTTP layer decides which requests are writes and who made them; here the event is built,
//! with digests of the object as the API shows it before and after the write — never the object
//! itself, so no secret is ever part of a record.

use castellan_domain::{ClaimId, ClientId, LedgerEvent, NewLedgerEvent, ScopeId, ServerId, TenantId};
use castellan_store::{AuditFilter, Store, StoreError};
use castellan_types::audit as wire;
use castellan_types::privacy::LedgerVerification;
use serde::Serialize;
use serde_json::{Value, json};

use crate::ledger::{AUDIT_CHAIN, verify_chain};
use crate::privacy::instant;
use crate::views::rfc3339;
use crate::{Allowed, Control, ControlError, ControlResult, need};

/// Events per page of `GET /audit` unless `limit` says otherwise, and the most it may say.
pub const AUDIT_PAGE: i64 = 100;
pub const AUDIT_PAGE_MAX: i64 = 1000;

/// The kind of object a management write changed; its name is the first part of an event's
/// `object` (`clients/shop-web`), the path segment the admin API names it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    Tenant,
    /// Its settings, signing keys and login methods.
    Server,
    Client,
    Scope,
    Claim,
    Policy,
    Consent,
    ConsentAction,
    Service,
    Api,
    Gateway,
    Role,
    StsClient,
    /// A subject's consent grants (the privacy ledger holds each change in full).
    Grants,
    /// A whole-configuration import (many objects of many tenants).
    Configuration,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tenant => "tenants",
            Self::Server => "servers",
            Self::Client => "clients",
            Self::Scope => "scopes",
            Self::Claim => "claims",
            Self::Policy => "policies",
            Self::Consent => "consents",
            Self::ConsentAction => "actions",
            Self::Service => "services",
            Self::Api => "apis",
            Self::Gateway => "gateways",
            Self::Role => "roles",
            Self::StsClient => "sts-clients",
            Self::Grants => "grants",
            Self::Configuration => "configuration",
        }
    }
}

/// One management write as the HTTP layer saw it.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// The trail it goes to: the acting credential's tenant.
    pub tenant: TenantId,
    /// `client:{id}`, `person:{sub}`, `developer:{sub}`.
    pub actor: String,
    /// The OpenAPI operation id (`createClient`).
    pub operation: &'static str,
    pub kind: AuditKind,
    /// The object's id; `None` when the operation names no single object.
    pub id: Option<String>,
    /// `api`, `console` or `cli` (an operator command on the store).
    pub via: &'static str,
    pub method: String,
    /// The request's path (never its query).
    pub path: String,
    pub status: u16,
    /// The caller's address (behind trusted proxies, the forwarded one).
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Members of the API's views that hold a secret in the clear (a client's or a server's secret,
/// a password): never part of what is digested, at any depth.
const SECRET_MEMBERS: [&str; 5] = [
    "client_secret",
    "secret",
    "rotated_secrets",
    "password",
    "client-secret",
];

/// `v` without its [`SECRET_MEMBERS`].
fn redacted(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|k, _| !SECRET_MEMBERS.contains(&k.as_str()));
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// base64url SHA-256 of a view's JSON.
fn digest<T: Serialize>(v: &T) -> Option<String> {
    let bytes = serde_json::to_vec(v).ok()?;
    Some(castellan_jose::b64url(&castellan_jose::sha256(&bytes)))
}

impl Control {
    /// The digest of object `kind`/`id` of tenant `tid` as the API shows it now; `None` when it
    /// does not exist (or the kind has no single object).
    pub async fn audit_digest(&self, tid: &TenantId, kind: AuditKind, id: &str) -> Option<String> {
        match self.audit_view(tid, kind, id).await {
            Ok(v) => v.as_ref().and_then(digest),
            Err(e) => {
                tracing::warn!(error = %e, kind = kind.as_str(), "could not read an object for the audit trail");
                None
            }
        }
    }

    /// The object as the API shows it, with every secret member taken out ([`redacted`]) and,
    /// for objects holding sealed secrets, a hash of the sealed bytes instead (so a changed
    /// secret changes the digest, while the digest can never be used to guess a secret).
    async fn audit_view(&self, tid: &TenantId, kind: AuditKind, id: &str) -> ControlResult<Option<Value>> {
        fn json<T: Serialize>(v: Option<T>) -> ControlResult<Option<Value>> {
            v.map(|v| serde_json::to_value(v).map(redacted))
                .transpose()
                .map_err(ControlError::internal)
        }
        let sealed = |bytes: &[u8]| castellan_jose::b64url(&castellan_jose::sha256(bytes));
        let s = &self.store;
        match kind {
            AuditKind::Tenant => {
                let Ok(t) = TenantId::parse(id) else { return Ok(None) };
                json(s.get_tenant(&t).await?.map(|t| self.tenant_view(t)))
            }
            AuditKind::Server => {
                let Ok(aid) = ServerId::parse(id) else { return Ok(None) };
                let Some(server) = s.get_server(tid, &aid).await? else {
                    return Ok(None);
                };
                let keys = s.list_keys(tid, &aid).await?;
                let view = self.server_view(&server, &keys)?;
                let marker = sealed(&server.secrets_sealed);
                json(Some((view, crate::servers::rotation::keys_view(&server, keys), marker)))
            }
            AuditKind::Client => {
                let Ok(cid) = ClientId::parse(id) else { return Ok(None) };
                let Some(mut c) = s.get_client(tid, &cid).await? else {
                    return Ok(None);
                };
                // Not opened: the view's secret would only be taken out again.
                let marker = c.secret_sealed.take().map(|b| sealed(&b));
                json(Some((self.client_view(&c)?, marker)))
            }
            AuditKind::Scope => {
                let Ok(i) = ScopeId::parse(id) else { return Ok(None) };
                json(s.get_scope(tid, &i).await?.map(crate::views::scope))
            }
            AuditKind::Claim => {
                let Ok(i) = ClaimId::parse(id) else { return Ok(None) };
                json(s.get_claim(tid, &i).await?.map(crate::claims::claim_view))
            }
            AuditKind::Policy => json(s.get_policy(tid, id).await?.map(crate::views::policy).transpose()?),
            AuditKind::Consent => json(
                s.get_privacy_consent(tid, id)
                    .await?
                    .map(|c| crate::privacy::consent_view(&c)),
            ),
            AuditKind::ConsentAction => match s.get_consent_action(tid, id).await? {
                Some(a) => json(Some(self.action_view(&a).await?)),
                None => Ok(None),
            },
            AuditKind::Service => json(s.get_service(tid, id).await?.map(|v| crate::views::service(&v))),
            AuditKind::Api => json(s.get_api(tid, id).await?.map(|a| crate::services::api_view(&a))),
            AuditKind::Gateway => json(s.get_gateway(tid, id).await?.map(|g| crate::gateways::view(&g))),
            AuditKind::Role => json(s.get_role(tid, id).await?.map(Self::role_view)),
            AuditKind::StsClient => json(s.get_sts_client(tid, id).await?.map(Self::sts_view)),
            AuditKind::Grants => {
                let grants = s.list_subject_grants(tid, id).await?;
                let v: Vec<Value> = grants
                    .iter()
                    .map(|g| json!({"consent_id": g.consent_id, "version": g.version, "granted": g.granted}))
                    .collect();
                json((!v.is_empty()).then_some(v))
            }
            AuditKind::Configuration => Ok(None),
        }
    }

    /// Appends `r` to its tenant's trail.
    pub async fn record_audit(&self, r: AuditRecord) -> ControlResult<()> {
        let now = self.clock.now();
        let object = match &r.id {
            Some(id) => format!("{}/{id}", r.kind.as_str()),
            None => r.kind.as_str().to_owned(),
        };
        let payload = json!({
            "actor": r.actor,
            "tenant_id": r.tenant.as_str(),
            "operation": r.operation,
            "object": object,
            "via": r.via,
            "request": {"method": r.method, "path": r.path, "status": r.status},
            "from": {"address": r.address, "user_agent": r.user_agent},
            "before": r.before,
            "after": r.after,
        });
        let e = NewLedgerEvent {
            id: uuid::Uuid::new_v4().to_string(),
            subject: object,
            date: now,
            event_type: r.operation.to_owned(),
            payload: payload.to_string(),
            actor: r.actor,
        };
        let signer = self.ledger_signer(&r.tenant).await?;
        self.store.append_audit(&r.tenant, &e, signer.as_ref()).await?;
        Ok(())
    }

    /// `GET /audit?object&actor&from&to&before&limit`: newest first.
    #[allow(clippy::too_many_arguments)]
    pub async fn list_audit(
        &self,
        access: &Allowed<need::AuditRead>,
        object: Option<&str>,
        actor: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        before: Option<i64>,
        limit: Option<i64>,
    ) -> ControlResult<wire::AuditEvents> {
        let limit = limit.unwrap_or(AUDIT_PAGE);
        if !(1..=AUDIT_PAGE_MAX).contains(&limit) {
            return Err(ControlError::invalid(
                "limit",
                format!("between 1 and {AUDIT_PAGE_MAX}"),
            ));
        }
        if before.is_some_and(|b| b < 1) {
            return Err(ControlError::invalid("before", "a sequence number, 1 or more"));
        }
        for (field, v) in [("object", object), ("actor", actor)] {
            if v.is_some_and(|v| v.is_empty() || v.len() > 512) {
                return Err(ControlError::invalid(field, "between 1 and 512 characters"));
            }
        }
        let to = to.map(|v| instant("to", v)).transpose()?.unwrap_or(i64::MAX);
        let from = from.map(|v| instant("from", v)).transpose()?.unwrap_or(0);
        let f = AuditFilter {
            object: object.map(|o| o.trim_end_matches('/').to_owned()),
            actor: actor.map(str::to_owned),
            from,
            to,
            before,
            limit: limit + 1,
        };
        let mut events = self.store.list_audit(access.tenant(), &f).await?;
        let more = events.len() as i64 > limit;
        events.truncate(limit as usize);
        let next_before = more.then(|| events.last().map(|e| e.seq)).flatten();
        Ok(wire::AuditEvents {
            events: events.into_iter().map(event_view).collect::<ControlResult<_>>()?,
            next_before,
        })
    }

    /// `GET /audit/verify`: walks the tenant's whole trail.
    pub async fn verify_audit(&self, access: &Allowed<need::AuditRead>) -> ControlResult<LedgerVerification> {
        Ok(verify_audit_stored(self.store.as_ref(), access.tenant()).await?)
    }
}

/// Reads the tenant's trail (one snapshot) and its key from the store and verifies the chain:
/// `GET /audit/verify`, and `castellan audit verify` straight from the database.
pub async fn verify_audit_stored(store: &dyn Store, tid: &TenantId) -> Result<LedgerVerification, StoreError> {
    let chain = store.audit_chain(tid).await?;
    let key = store.get_ledger_key(tid).await?;
    Ok(verify_chain(
        tid,
        &chain,
        key.as_ref().map(|k| &k.public_jwk),
        AUDIT_CHAIN,
    ))
}

fn event_view(e: LedgerEvent) -> ControlResult<wire::AuditEvent> {
    Ok(wire::AuditEvent {
        sequence: e.seq,
        id: e.id,
        date: rfc3339(e.date),
        operation: e.event_type,
        object: e.subject,
        actor: e.actor,
        payload: serde_json::from_str(&e.payload).map_err(ControlError::internal)?,
        payload_signature: e.signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_taken_out_at_any_depth() {
        let v = json!([
            {"client_id": "web", "client_secret": "weak", "client_hashed_secret": "$argon2id$…"},
            {"id": "shop", "secret": "s", "rotated_secrets": ["old"], "keys": [{"kid": "k"}]},
            {"methods": [{"static": {"users": [{"username": "ada", "password": "pw"}]}}]},
        ]);
        let r = redacted(v).to_string();
        for secret in ["weak", "\"s\"", "old", "\"pw\""] {
            assert!(!r.contains(secret), "{secret} in {r}");
        }
        for kept in ["web", "$argon2id$…", "shop", "\"kid\":\"k\"", "ada"] {
            assert!(r.contains(kept), "{kept} missing from {r}");
        }
    }
}
