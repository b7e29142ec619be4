//! [`PolicyStore`] on SQLite: the operations written once in [`castellan_store_sql::Sql`], in this
//! adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{Policy, TenantId};
use castellan_store::{PolicyStore, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Sqlite;

use crate::{SqliteStore, map_err};

type Shared = Sql<Sqlite>;

#[async_trait]
impl PolicyStore for SqliteStore {
    async fn list_policies(&self, tid: &TenantId) -> StoreResult<Vec<Policy>> {
        Shared::list_policies(&self.pool, tid).await
    }

    async fn get_policy(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Policy>> {
        Shared::get_policy(&self.pool, tid, id).await
    }

    async fn create_policy(&self, p: &Policy) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::insert_policy(&mut tx, p).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_policy(&self, p: &Policy) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::update_policy(&mut tx, p).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_policy(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let deleted = Shared::delete_policy(&mut tx, tid, id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }
}
