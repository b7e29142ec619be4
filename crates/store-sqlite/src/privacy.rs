//! [`PrivacyStore`] on SQLite: the operations written once in [`castellan_store_sql::Sql`], in this
//! adapter's transactions. Writes run in `BEGIN IMMEDIATE` transactions, which SQLite serializes
//! (and ledger appends of this process queue on a lock first), so the chain's sequence has no gaps
//! or repeats.

use async_trait::async_trait;
use castellan_domain::{ConsentActionDef, ConsentGrant, LedgerChain, LedgerEvent, LedgerKey, PrivacyConsent, TenantId};
use castellan_store::{LedgerSigner, PrivacyStore, PrivacyWrite, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Sqlite;

use crate::{SqliteStore, map_err};

type Shared = Sql<Sqlite>;

#[async_trait]
impl PrivacyStore for SqliteStore {
    async fn list_privacy_consents(&self, tid: &TenantId) -> StoreResult<Vec<PrivacyConsent>> {
        Shared::list_privacy_consents(&self.pool, tid).await
    }

    async fn get_privacy_consent(&self, tid: &TenantId, id: &str) -> StoreResult<Option<PrivacyConsent>> {
        Shared::get_privacy_consent(&self.pool, tid, id).await
    }

    async fn delete_privacy_consent(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let deleted = Shared::delete_privacy_consent(&mut tx, tid, id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }

    async fn list_consent_actions(&self, tid: &TenantId) -> StoreResult<Vec<ConsentActionDef>> {
        Shared::list_consent_actions(&self.pool, tid).await
    }

    async fn get_consent_action(&self, tid: &TenantId, id: &str) -> StoreResult<Option<ConsentActionDef>> {
        Shared::get_consent_action(&self.pool, tid, id).await
    }

    async fn create_consent_action(&self, a: &ConsentActionDef) -> StoreResult<()> {
        Shared::create_consent_action(&self.pool, a).await
    }

    async fn update_consent_action(&self, a: &ConsentActionDef) -> StoreResult<()> {
        Shared::update_consent_action(&self.pool, a).await
    }

    async fn delete_consent_action(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        Shared::delete_consent_action(&self.pool, tid, id).await
    }

    async fn list_subject_grants(&self, tid: &TenantId, subject: &str) -> StoreResult<Vec<ConsentGrant>> {
        Shared::list_subject_grants(&self.pool, tid, subject).await
    }

    async fn list_consent_grants(&self, tid: &TenantId, consent_id: &str) -> StoreResult<Vec<ConsentGrant>> {
        Shared::list_consent_grants(&self.pool, tid, consent_id).await
    }

    async fn privacy_write(
        &self,
        tid: &TenantId,
        w: &PrivacyWrite,
        signer: &dyn LedgerSigner,
    ) -> StoreResult<Vec<LedgerEvent>> {
        let _one_writer = self.privacy_writer.lock().await;
        let mut tx = self.write_tx().await?;
        let events = Shared::privacy_write(&mut tx, tid, w, signer).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(events)
    }

    async fn list_ledger_events(
        &self,
        tid: &TenantId,
        subject: Option<&str>,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<LedgerEvent>> {
        Shared::list_ledger_events(&self.pool, tid, subject, from, to).await
    }

    async fn ledger_chain(&self, tid: &TenantId) -> StoreResult<LedgerChain> {
        Shared::ledger_chain(self.read_tx().await?, tid).await
    }

    async fn get_ledger_key(&self, tid: &TenantId) -> StoreResult<Option<LedgerKey>> {
        Shared::get_ledger_key(&self.pool, tid).await
    }

    async fn create_ledger_key(&self, k: &LedgerKey) -> StoreResult<bool> {
        Shared::create_ledger_key(&self.pool, k).await
    }
}
