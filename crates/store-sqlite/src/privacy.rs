//! [`PrivacyStore`] on SQLite. Appends to the ledger run in `BEGIN IMMEDIATE` transactions, which
//! SQLite serializes: one writer at a time, so the chain's sequence has no gaps or repeats.

use async_trait::async_trait;
use castellan_domain::{ConsentActionDef, ConsentGrant, LedgerChain, LedgerEvent, LedgerKey, PrivacyConsent, TenantId};
use castellan_store::{LedgerSigner, PrivacyStore, PrivacyWrite, StoreError, StoreResult};
use castellan_store_sql::{
    ConsentActionRow, ConsentGrantRow, LedgerEventRow, LedgerKeyRow, PrivacyConsentRow, ledger_link, read_ledger_chain,
    to_json,
};

use crate::{SqliteStore, map_err};

#[async_trait]
impl PrivacyStore for SqliteStore {
    async fn list_privacy_consents(&self, tid: &TenantId) -> StoreResult<Vec<PrivacyConsent>> {
        self.fetch_all::<PrivacyConsentRow, _>(
            "SELECT * FROM privacy_consents WHERE tenant_id = ? ORDER BY id",
            &[tid.as_str()],
        )
        .await
    }

    async fn get_privacy_consent(&self, tid: &TenantId, id: &str) -> StoreResult<Option<PrivacyConsent>> {
        self.fetch_opt::<PrivacyConsentRow, _>(
            "SELECT * FROM privacy_consents WHERE tenant_id = ? AND id = ?",
            &[tid.as_str(), id],
        )
        .await
    }

    async fn delete_privacy_consent(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM consent_grants WHERE tenant_id = ? AND consent_id = ?")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let r = sqlx::query("DELETE FROM privacy_consents WHERE tenant_id = ? AND id = ?")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_consent_actions(&self, tid: &TenantId) -> StoreResult<Vec<ConsentActionDef>> {
        self.fetch_all::<ConsentActionRow, _>(
            "SELECT * FROM consent_actions WHERE tenant_id = ? ORDER BY id",
            &[tid.as_str()],
        )
        .await
    }

    async fn get_consent_action(&self, tid: &TenantId, id: &str) -> StoreResult<Option<ConsentActionDef>> {
        self.fetch_opt::<ConsentActionRow, _>(
            "SELECT * FROM consent_actions WHERE tenant_id = ? AND id = ?",
            &[tid.as_str(), id],
        )
        .await
    }

    async fn create_consent_action(&self, a: &ConsentActionDef) -> StoreResult<()> {
        sqlx::query("INSERT INTO consent_actions (tenant_id, id, name, description, consents) VALUES (?, ?, ?, ?, ?)")
            .bind(a.tenant_id.as_str())
            .bind(&a.id)
            .bind(&a.name)
            .bind(&a.description)
            .bind(to_json(&a.consents)?)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_consent_action(&self, a: &ConsentActionDef) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE consent_actions SET name = ?, description = ?, consents = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(&a.name)
        .bind(&a.description)
        .bind(to_json(&a.consents)?)
        .bind(a.tenant_id.as_str())
        .bind(&a.id)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("consent action {}", a.id)));
        }
        Ok(())
    }

    async fn delete_consent_action(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM consent_actions WHERE tenant_id = ? AND id = ?")
            .bind(tid.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_subject_grants(&self, tid: &TenantId, subject: &str) -> StoreResult<Vec<ConsentGrant>> {
        self.fetch_all::<ConsentGrantRow, _>(
            "SELECT * FROM consent_grants WHERE tenant_id = ? AND subject = ? ORDER BY consent_id",
            &[tid.as_str(), subject],
        )
        .await
    }

    async fn list_consent_grants(&self, tid: &TenantId, consent_id: &str) -> StoreResult<Vec<ConsentGrant>> {
        self.fetch_all::<ConsentGrantRow, _>(
            "SELECT * FROM consent_grants WHERE tenant_id = ? AND consent_id = ? ORDER BY subject",
            &[tid.as_str(), consent_id],
        )
        .await
    }

    async fn privacy_write(
        &self,
        tid: &TenantId,
        w: &PrivacyWrite,
        signer: &dyn LedgerSigner,
    ) -> StoreResult<Vec<LedgerEvent>> {
        let _one_writer = self.privacy_writer.lock().await;
        let mut tx = self.write_tx().await?;
        if let Some(c) = &w.consent {
            let doc = to_json(&c.doc)?;
            if w.update {
                let r = sqlx::query(
                    "UPDATE privacy_consents SET version = ?, can_be_withdrawn = ?, update_existing_grants = ?, \
                     doc = ? WHERE tenant_id = ? AND id = ?",
                )
                .bind(c.version)
                .bind(c.can_be_withdrawn)
                .bind(&c.update_existing_grants)
                .bind(doc)
                .bind(tid.as_str())
                .bind(&c.id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("consent {}", c.id)));
                }
            } else {
                sqlx::query(
                    "INSERT INTO privacy_consents (tenant_id, id, version, can_be_withdrawn, update_existing_grants, doc) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(tid.as_str())
                .bind(&c.id)
                .bind(c.version)
                .bind(c.can_be_withdrawn)
                .bind(&c.update_existing_grants)
                .bind(doc)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
        }
        for g in &w.grants {
            sqlx::query(
                "INSERT INTO consent_grants (tenant_id, subject, consent_id, version, granted, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, subject, consent_id) DO UPDATE SET \
                 version = excluded.version, granted = excluded.granted, updated_at = excluded.updated_at",
            )
            .bind(tid.as_str())
            .bind(&g.subject)
            .bind(&g.consent_id)
            .bind(g.version)
            .bind(g.granted)
            .bind(g.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        let mut out = Vec::with_capacity(w.events.len());
        if !w.events.is_empty() {
            let head: Option<(i64, String)> =
                sqlx::query_as("SELECT seq, last_hash FROM ledger_heads WHERE tenant_id = ?")
                    .bind(tid.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
            let (mut seq, mut prev) = head.unwrap_or((0, String::new()));
            for e in &w.events {
                seq += 1;
                let link = ledger_link(tid, seq, e, &prev, signer.hash(e.payload.as_bytes()));
                let signature = signer.sign(&link).map_err(StoreError::Corrupt)?;
                sqlx::query(
                    "INSERT INTO ledger_events (tenant_id, seq, id, subject, date, event_type, payload, signature) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(tid.as_str())
                .bind(seq)
                .bind(&e.id)
                .bind(&e.subject)
                .bind(e.date)
                .bind(&e.event_type)
                .bind(&e.payload)
                .bind(&signature)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                prev = signer.hash(signature.as_bytes());
                out.push(LedgerEvent {
                    tenant_id: tid.clone(),
                    seq,
                    id: e.id.clone(),
                    subject: e.subject.clone(),
                    date: e.date,
                    event_type: e.event_type.clone(),
                    payload: e.payload.clone(),
                    signature,
                });
            }
            sqlx::query(
                "INSERT INTO ledger_heads (tenant_id, seq, last_hash) VALUES (?, ?, ?) \
                 ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, last_hash = excluded.last_hash",
            )
            .bind(tid.as_str())
            .bind(seq)
            .bind(&prev)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(out)
    }

    async fn list_ledger_events(
        &self,
        tid: &TenantId,
        subject: Option<&str>,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<LedgerEvent>> {
        let rows: Vec<LedgerEventRow> = sqlx::query_as(
            "SELECT * FROM ledger_events WHERE tenant_id = ? AND date >= ? AND date <= ? \
             AND (? IS NULL OR subject = ?) ORDER BY seq",
        )
        .bind(tid.as_str())
        .bind(from)
        .bind(to)
        .bind(subject)
        .bind(subject)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.into_iter().map(LedgerEvent::try_from).collect()
    }

    async fn ledger_chain(&self, tid: &TenantId) -> StoreResult<LedgerChain> {
        read_ledger_chain(self.read_tx().await?, tid).await
    }

    async fn get_ledger_key(&self, tid: &TenantId) -> StoreResult<Option<LedgerKey>> {
        self.fetch_opt::<LedgerKeyRow, _>("SELECT * FROM ledger_keys WHERE tenant_id = ?", &[tid.as_str()])
            .await
    }

    async fn create_ledger_key(&self, k: &LedgerKey) -> StoreResult<bool> {
        let r = sqlx::query(
            "INSERT INTO ledger_keys (tenant_id, kid, public_jwk, private_sealed, created_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(k.tenant_id.as_str())
        .bind(&k.kid)
        .bind(to_json(&k.public_jwk)?)
        .bind(&k.private_sealed)
        .bind(k.created_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
