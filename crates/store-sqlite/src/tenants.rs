//! [`TenantStore`] on SQLite: tenants — the operations written once in
//! [`castellan_store_sql::Sql`], in this adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{Tenant, TenantId};
use castellan_store::{StoreResult, TenantStore};
use castellan_store_sql::Sql;
use sqlx::Sqlite;

use crate::{SqliteStore, map_err};

type Shared = Sql<Sqlite>;

#[async_trait]
impl TenantStore for SqliteStore {
    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        Shared::get_tenant(&self.pool, id).await
    }

    async fn list_tenant_ids(&self) -> StoreResult<Vec<TenantId>> {
        Shared::list_tenant_ids(&self.pool).await
    }

    async fn create_tenant(&self, t: &Tenant) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::insert_tenant(&mut tx, t).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_tenant(&self, t: &Tenant) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::update_tenant(&mut tx, t).await?;
        tx.commit().await.map_err(map_err)
    }
}
