//! The privacy ledger's side of consent changes: the tenant's signing key, the signed event of
//! each change, written with it in one transaction, and the events as the API lists them.

use std::sync::Arc;

use castellan_domain::{LedgerEvent, LedgerKey, NewLedgerEvent, PrivacyConsent, TenantId};
use castellan_jose::keys;
use castellan_store::{PrivacyWrite, StoreError};
use castellan_types::Jwk;
use castellan_types::privacy as wire;
use serde_json::json;

use super::instant;
use crate::ledger::KeySigner;
use crate::views::rfc3339;
use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult, need};

impl Control {
    /// The tenant's ledger signer: its key, made on first use (one per tenant, whichever node
    /// makes it first).
    pub(crate) async fn ledger_signer(&self, tid: &TenantId) -> ControlResult<Arc<KeySigner>> {
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

    #[allow(clippy::too_many_arguments)]
    pub(super) fn event(
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
            actor: String::new(),
        })
    }

    pub(crate) async fn write_privacy(&self, tid: &TenantId, w: &PrivacyWrite) -> ControlResult<Vec<LedgerEvent>> {
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

pub(super) fn event_view(e: LedgerEvent) -> ControlResult<wire::PrivacyLedgerEvent> {
    Ok(wire::PrivacyLedgerEvent {
        date: rfc3339(e.date),
        id: e.id,
        payload: serde_json::from_str(&e.payload).map_err(ControlError::internal)?,
        payload_signature: e.signature,
        subject: e.subject,
        tenant_id: e.tenant_id.to_string(),
    })
}
