//! [`FlowStore`] on PostgreSQL: codes, grants, refresh tokens, consents, sessions — the operations
//! written once in [`castellan_store_sql::Sql`], in this adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{ClientId, ServerId, TenantId, UnixTime};
use castellan_store::{CodeRecord, ConfigChange, FlowStore, IssuedTokens, RefreshRecord, SessionRecord, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Postgres;

use crate::{PostgresStore, map_err, notify};

type Shared = Sql<Postgres>;

#[async_trait]
impl FlowStore for PostgresStore {
    async fn save_code(&self, tid: &TenantId, c: &CodeRecord) -> StoreResult<()> {
        Shared::save_code(&self.pool, tid, c).await
    }

    async fn get_code(&self, tid: &TenantId, aid: &ServerId, hash: &str) -> StoreResult<Option<CodeRecord>> {
        Shared::get_code(&self.pool, tid, aid, hash).await
    }

    async fn redeem_code(&self, tid: &TenantId, hash: &str, now: UnixTime, issued: &IssuedTokens) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let redeemed = Shared::redeem_code(&mut tx, tid, hash, now, issued).await?;
        if redeemed {
            tx.commit().await.map_err(map_err)?;
        }
        Ok(redeemed)
    }

    async fn record_grant(&self, tid: &TenantId, issued: &IssuedTokens) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::record_grant(&mut tx, tid, issued).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn get_refresh(&self, tid: &TenantId, aid: &ServerId, hash: &str) -> StoreResult<Option<RefreshRecord>> {
        Shared::get_refresh(&self.pool, tid, aid, hash).await
    }

    async fn rotate_refresh(
        &self,
        tid: &TenantId,
        hash: &str,
        now: UnixTime,
        issued: &IssuedTokens,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let rotated = Shared::rotate_refresh(&mut tx, tid, hash, now, issued).await?;
        if rotated {
            tx.commit().await.map_err(map_err)?;
        }
        Ok(rotated)
    }

    async fn revoke_grant(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        grant_id: &str,
        now: UnixTime,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.tx().await?;
        let revoked = Shared::revoke_grant(&mut tx, tid, aid, grant_id, now).await?;
        // Other nodes keep revocations in their snapshots.
        notify(&mut tx, &ConfigChange::Revoked(tid.clone(), aid.clone())).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(revoked)
    }

    async fn get_consent(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        cid: &ClientId,
        subject: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        Shared::get_consent(&self.pool, tid, aid, cid, subject).await
    }

    async fn save_consent(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        cid: &ClientId,
        subject: &str,
        scopes: &[String],
        now: UnixTime,
    ) -> StoreResult<()> {
        Shared::save_consent(&self.pool, tid, aid, cid, subject, scopes, now).await
    }

    async fn create_session(&self, tid: &TenantId, s: &SessionRecord) -> StoreResult<()> {
        Shared::create_session(&self.pool, tid, s).await
    }

    async fn get_session(&self, tid: &TenantId, aid: &ServerId, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
        Shared::get_session(&self.pool, tid, aid, id_hash).await
    }

    async fn delete_session(&self, tid: &TenantId, aid: &ServerId, id_hash: &str) -> StoreResult<bool> {
        Shared::delete_session(&self.pool, tid, aid, id_hash).await
    }

    async fn end_subjects(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        subjects: &[String],
        now: UnixTime,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.tx().await?;
        let revoked = Shared::end_subjects(&mut tx, tid, aid, subjects, now).await?;
        // Other nodes keep revocations in their snapshots.
        notify(&mut tx, &ConfigChange::Revoked(tid.clone(), aid.clone())).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(revoked)
    }
}
