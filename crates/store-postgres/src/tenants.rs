//! [`TenantStore`] on PostgreSQL: tenants — the operations written once in
//! [`castellan_store_sql::Sql`], in this adapter's transactions; every write announces the tenant ([`ConfigChange::Tenant`]).

use async_trait::async_trait;
use castellan_domain::{Tenant, TenantId};
use castellan_store::{ConfigChange, StoreResult, TenantStore};
use castellan_store_sql::Sql;
use sqlx::Postgres;

use crate::{PostgresStore, map_err, notify};

type Shared = Sql<Postgres>;

#[async_trait]
impl TenantStore for PostgresStore {
    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        Shared::get_tenant(&self.pool, id).await
    }

    async fn list_tenant_ids(&self) -> StoreResult<Vec<TenantId>> {
        Shared::list_tenant_ids(&self.pool).await
    }

    async fn create_tenant(&self, t: &Tenant) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::insert_tenant(&mut tx, t).await?;
        notify(&mut tx, &ConfigChange::Tenant(t.id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_tenant(&self, t: &Tenant) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::update_tenant(&mut tx, t).await?;
        notify(&mut tx, &ConfigChange::Tenant(t.id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }
}
