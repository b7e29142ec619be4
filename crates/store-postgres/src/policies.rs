//! [`PolicyStore`] on PostgreSQL: the operations written once in [`castellan_store_sql::Sql`], in this
//! adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{Policy, TenantId};
use castellan_store::{ConfigChange, PolicyStore, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Postgres;

use crate::{PostgresStore, map_err, notify};

type Shared = Sql<Postgres>;

#[async_trait]
impl PolicyStore for PostgresStore {
    async fn list_policies(&self, tid: &TenantId) -> StoreResult<Vec<Policy>> {
        Shared::list_policies(&self.pool, tid).await
    }

    async fn get_policy(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Policy>> {
        Shared::get_policy(&self.pool, tid, id).await
    }

    async fn create_policy(&self, p: &Policy) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::insert_policy(&mut tx, p).await?;
        notify(&mut tx, &ConfigChange::Policies(p.tenant_id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_policy(&self, p: &Policy) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::update_policy(&mut tx, p).await?;
        notify(&mut tx, &ConfigChange::Policies(p.tenant_id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_policy(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let deleted = Shared::delete_policy(&mut tx, tid, id).await?;
        if deleted {
            notify(&mut tx, &ConfigChange::Policies(tid.clone())).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }
}
