//! [`TokenStore`] on PostgreSQL: the operations written once in [`castellan_store_sql::Sql`], in this
//! adapter's transactions; a revocation is announced like a configuration change ([`ConfigChange::Revoked`]), since every node keeps revocations in its snapshot.

use async_trait::async_trait;
use castellan_domain::{ServerId, TenantId, UnixTime};
use castellan_store::{ConfigChange, StoreResult, TokenCutoff, TokenStore};
use castellan_store_sql::Sql;
use sqlx::Postgres;

use crate::{PostgresStore, map_err, notify};

type Shared = Sql<Postgres>;

#[async_trait]
impl TokenStore for PostgresStore {
    async fn revoke_token(&self, tid: &TenantId, aid: &ServerId, jti: &str, expires_at: UnixTime) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::insert_revocation(&mut tx, tid, aid, jti, expires_at).await?;
        notify(&mut tx, &ConfigChange::Revoked(tid.clone(), aid.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn list_revoked(&self, tid: &TenantId, now: UnixTime) -> StoreResult<Vec<(ServerId, String)>> {
        Shared::list_revoked(&self.pool, tid, now).await
    }

    async fn list_cutoffs(&self, tid: &TenantId, now: UnixTime) -> StoreResult<Vec<TokenCutoff>> {
        Shared::list_cutoffs(&self.pool, tid, now).await
    }

    async fn use_assertion_id(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool> {
        Shared::use_assertion_id(&self.pool, tid, aid, jti, expires_at).await
    }

    async fn purge_expired(&self, now: UnixTime) -> StoreResult<u64> {
        Shared::purge_expired(&self.pool, now).await
    }
}
