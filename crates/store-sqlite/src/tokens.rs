//! [`TokenStore`] on SQLite: the operations written once in [`castellan_store_sql::Sql`], in this
//! adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{ServerId, TenantId, UnixTime};
use castellan_store::{StoreResult, TokenCutoff, TokenStore};
use castellan_store_sql::Sql;
use sqlx::Sqlite;

use crate::{SqliteStore, map_err};

type Shared = Sql<Sqlite>;

#[async_trait]
impl TokenStore for SqliteStore {
    async fn revoke_token(&self, tid: &TenantId, aid: &ServerId, jti: &str, expires_at: UnixTime) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::insert_revocation(&mut tx, tid, aid, jti, expires_at).await?;
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
