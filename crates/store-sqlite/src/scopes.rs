//! [`ScopeStore`] on SQLite: the operations written once in [`castellan_store_sql::Sql`], in this
//! adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{Scope, ScopeId, ServerId, TenantId};
use castellan_store::{ScopeStore, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Sqlite;

use crate::{SqliteStore, map_err};

type Shared = Sql<Sqlite>;

#[async_trait]
impl ScopeStore for SqliteStore {
    async fn get_scope(&self, tid: &TenantId, id: &ScopeId) -> StoreResult<Option<Scope>> {
        Shared::get_scope(&self.pool, tid, id).await
    }

    async fn list_scopes(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Scope>> {
        Shared::list_scopes(&self.pool, tid, Some(aid)).await
    }

    async fn list_tenant_scopes(&self, tid: &TenantId) -> StoreResult<Vec<Scope>> {
        Shared::list_scopes(&self.pool, tid, None).await
    }

    async fn create_scope(&self, sc: &Scope) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::insert_scope(&mut tx, sc).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_scope(&self, sc: &Scope) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::update_scope(&mut tx, sc).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_scope(&self, tid: &TenantId, id: &ScopeId) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let Some(_) = Shared::delete_scope(&mut tx, tid, id).await? else {
            return Ok(false);
        };
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }
}
